import Foundation
import Synchronization

/// Loopback ports for test servers (services started in-process or as children, PostgreSQL,
/// dovecot, the Python SMTP sink and webhook receiver).
///
/// Ports come from 20000–31999, below Linux's ephemeral range (32768–60999), each handed out once
/// per test process, starting at a random offset. A port handed out stays **reserved** until
/// many later ports have been handed out: this process keeps a socket bound to it, with
/// `SO_REUSEADDR` set after the bind and never listening. While it is held,
/// - the server it was chosen for still binds and listens on it (every server the tests start
///   sets `SO_REUSEADDR`: `ListeningSocket`, PostgreSQL, dovecot, asyncio, `http.server`), also
///   after a restart on the same port;
/// - another process probing for a free port (a second test process, the Python deployment of
///   `Tests/ProductionTests/Support/cluster.py`, which reserves its ports the same way) sees it in
///   use and skips it;
/// - the kernel never gives it to an outgoing connection as its local port, whatever the
///   machine's ephemeral range.
/// Without the reservation a port was free when chosen and could be taken by someone else before
/// the child bound it: the child then failed with "Address already in use".
public enum FreePort {
    private static let first = 20_000, count = 12_000
    /// Reservations kept at once (one descriptor each; CI may allow only 1024 per process); older
    /// ones are released: the suite hands out a few ports a second, so a server has had a minute
    /// or so to bind its port by then.
    private static let held = 128
    private static let cursor = Atomic<Int>(Int.random(in: 0..<12_000))
    private static let reservations = Mutex<[Int32]>([])

    /// A port nobody else is bound to, reserved for the caller's server.
    public static func next() throws -> Int {
        for _ in 0..<count {
            let port = first + cursor.add(1, ordering: .relaxed).oldValue % count
            if let fd = reserve(port) {
                let released = reservations.withLock { held -> [Int32] in
                    held.append(fd)
                    guard held.count > Self.held else { return [] }
                    let oldest = Array(held.prefix(held.count - Self.held))
                    held.removeFirst(oldest.count)
                    return oldest
                }
                released.forEach { close($0) }
                return port
            }
        }
        throw ServiceProcessError(description: "no free port")
    }

    /// Binds `port` on 127.0.0.1 without `SO_REUSEADDR` (so it fails when anyone is bound to it,
    /// listening or reserving), then sets `SO_REUSEADDR` so that the server it is for can bind it
    /// too. Returns the socket, or nil when the port is in use.
    private static func reserve(_ port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        var one: Int32 = 1
        guard bound, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            close(fd)
            return nil
        }
        return fd
    }
}
