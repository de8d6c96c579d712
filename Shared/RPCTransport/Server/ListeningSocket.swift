import CSystem
import Foundation

/// A TCP socket bound and listening on `host:port`, not yet accepting: connections made to it
/// wait in the listen backlog until a server takes it (``RPCServer/start(listeningOn:)``, the
/// gateway's HTTP server).
///
/// A service binds its ports with this first, before it opens its database: a second instance
/// started by mistake on a port in use stops there, before it migrates the running one's
/// database under it (``ServiceMain``).
public final class ListeningSocket: @unchecked Sendable {
    /// What the socket listens on, as asked (`0.0.0.0:7101`).
    public let address: String
    /// The bound port (the OS's choice when 0 was asked).
    public let port: Int
    private let lock = NSLock()
    // Guarded by lock: -1 once taken by a server or closed.
    private var descriptor: Int32

    /// Binds `host:port` (`SO_REUSEADDR`, never `SO_REUSEPORT`: a port in use is an error).
    /// - Throws: ``RPCServerError/bindFailed(_:)`` naming the address and the system's reason.
    public init(host: String, port: Int, backlog: Int = 1024) throws {
        let fd = csystem_listen_tcp(host, Int32(port), Int32(backlog))
        guard fd >= 0 else {
            throw RPCServerError.bindFailed("\(host):\(port): \(String(cString: strerror(errno)))")
        }
        descriptor = fd
        self.port = Int(csystem_local_port(fd))
        address = "\(host):\(port)"
    }

    /// Hands the descriptor over to a server, which closes it; nil when already taken or closed.
    /// - Parameter blocking: whether the server accepts with blocking calls (the socket is
    ///   non-blocking otherwise).
    public func take(blocking: Bool = false) -> Int32? {
        lock.lock()
        defer { lock.unlock() }
        guard descriptor >= 0 else { return nil }
        let fd = descriptor
        descriptor = -1
        if blocking { _ = csystem_set_nonblocking(fd, 0) }
        return fd
    }

    /// Closes the socket unless a server took it (start-up failed before it served).
    public func close() {
        if let fd = take() { Glibc.close(fd) }
    }

    deinit { close() }
}
