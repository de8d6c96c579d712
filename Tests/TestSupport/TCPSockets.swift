import Foundation

/// A process's TCP sockets as Linux lists them (`/proc/net/tcp`, `/proc/net/tcp6`, the process's
/// `fd` folder): what a test waits on when nothing else outside the process shows a connection's
/// state (e.g. that a client noticed its server went away and shut its socket down).
public enum TCPSockets {
    /// The sockets of process `pid` whose remote port is one of `ports` and whose state is one
    /// of `states` (the kernel's hex codes: `01` established, `08` close-wait — the peer closed,
    /// this side has not), each as "<local> -> <remote> state <code>" for a failure message.
    public static func connected(process pid: Int32, toPorts ports: [Int], states: Set<String>) -> [String] {
        let inodes = socketInodes(pid)
        guard !inodes.isEmpty else { return [] }
        var found: [String] = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: the kernel's files have no size, and a read by size gets one page.
            guard let data = try? FileHandle(forReadingFrom: URL(fileURLWithPath: table)).readToEnd() else { continue }
            let text = String(decoding: data, as: UTF8.self)
            // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
            for line in text.split(separator: "\n").dropFirst() {
                let columns = line.split(separator: " ", omittingEmptySubsequences: true)
                guard columns.count > 9, inodes.contains(String(columns[9])), states.contains(String(columns[3])),
                      let portText = columns[2].split(separator: ":").last, let port = Int(portText, radix: 16), ports.contains(port)
                else { continue }
                found.append("\(columns[1]) -> \(columns[2]) state \(columns[3])")
            }
        }
        return found
    }

    /// The inodes of the sockets process `pid` holds open ("socket:[inode]" links in its `fd` folder).
    static func socketInodes(_ pid: Int32) -> Set<String> {
        let folder = "/proc/\(pid)/fd"
        var inodes: Set<String> = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(folder)/\(name)"),
                  target.hasPrefix("socket:[") else { continue }
            inodes.insert(String(target.dropFirst("socket:[".count).dropLast()))
        }
        return inodes
    }
}
