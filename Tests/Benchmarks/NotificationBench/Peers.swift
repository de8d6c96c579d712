import Foundation
import NotificationCore
import Synchronization
import TestSupport

/// A Python peer (aiosmtpd sink or webhook receiver) from Tests/NotificationTests/Support.
final class BenchPeer {
    let process: ChildProcess
    let port: Int

    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../NotificationTests/Support").standardized.path

    init(script: String, arguments: [String]) throws {
        port = try Self.freePort()
        process = try ChildProcess("/usr/bin/python3", ["\(Self.support)/\(script)", "--port", String(port)] + arguments, output: .capture)
        guard process.waitForCaptured(.standardOutput, containing: "ready", timeout: 15) else {
            throw BenchError("\(script) did not start: \(process.capturedText(.standardOutput))")
        }
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// A loopback socket that listens and never accepts: connections complete (into the
    /// backlog) and requests get no answer.
    static func silentListener() throws -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 64) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            close(fd)
            throw BenchError("cannot listen on loopback")
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// Runs `count` jobs on `threads` threads, each thread with its own state; returns seconds.
/// CPU time (ns) of ``timedParallel(count:threads:makeState:job:)``'s threads in their jobs.
let timedParallelCPU = Atomic<Int>(0)

func timedParallel<State>(count: Int, threads: Int, makeState: @escaping @Sendable () -> State,
                          job: @escaping @Sendable (State, Int) -> Void) -> Double {
    let next = NSLock()
    nonisolated(unsafe) var index = 0
    let group = DispatchGroup()
    let start = Date()
    for _ in 0..<threads {
        group.enter()
        Thread {
            let state = makeState()
            while true {
                next.lock()
                let i = index
                index += 1
                next.unlock()
                if i >= count { break }
                let cpu0 = ThreadCPU.nanoseconds()
                job(state, i)
                timedParallelCPU.add(ThreadCPU.nanoseconds() - cpu0, ordering: .relaxed)
            }
            group.leave()
        }.start()
    }
    group.wait()
    return Date().timeIntervalSince(start)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
