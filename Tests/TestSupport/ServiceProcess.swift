import Foundation
import Synchronization

/// A service executable started for real by a test, on a loopback port chosen by the OS.
public final class ServiceProcess: @unchecked Sendable {
    public let name: String
    public let port: Int
    public let process = Process()
    private let stderrPipe = Pipe()
    private let lock = NSCondition()
    private var output = ""
    private var reachedEndOfOutput = false

    /// Starts `.build/<config>/<name>` with `environment` added to the process environment.
    /// - Throws: when the binary is missing or does not print its "ready" line within `timeout`.
    public init(name: String, environment: [String: String], port: Int? = nil, timeout: TimeInterval = 20) throws {
        self.name = name
        self.port = try port ?? FreePort.next()
        process.executableURL = BuildProducts.executable(name)
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["\(name.uppercased())_PORT"] = String(self.port)
        process.environment = env
        process.standardError = stderrPipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        startReadingOutput()
        guard waitForOutput(containing: "\"msg\":\"ready\"", timeout: timeout) else {
            process.terminate()
            throw ServiceProcessError(description: "\(name) did not become ready:\n\(log)")
        }
    }

    /// Reads standard error on a thread of its own with blocking reads until end of file.
    ///
    /// Not `FileHandle.readabilityHandler`: on Linux its dispatch read source races its own
    /// teardown and crashes the whole test process in `_dispatch_event_loop_drain`
    /// (swift-corelibs-libdispatch#949, seen in CI). A blocking read never registers the
    /// descriptor with libdispatch. The thread holds the reading handle, so the descriptor
    /// stays open until the thread has seen end of file.
    private func startReadingOutput() {
        let handle = stderrPipe.fileHandleForReading
        let thread = Thread { [weak self] in
            var buffer = [UInt8](repeating: 0, count: 16_384)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(handle.fileDescriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard let self else { return }
                self.lock.lock()
                if count <= 0 {
                    // End of file: the process has exited and everything it wrote has been read.
                    self.reachedEndOfOutput = true
                } else {
                    self.output += String(decoding: buffer[..<count], as: UTF8.self)
                }
                self.lock.broadcast()
                self.lock.unlock()
                if count <= 0 { return }
            }
        }
        thread.name = "\(name) stderr"
        thread.start()
    }

    /// Everything the process wrote to standard error so far.
    public var log: String {
        lock.lock()
        defer { lock.unlock() }
        return output
    }

    /// Waits until the log contains `text`.
    public func waitForOutput(containing text: String, timeout: TimeInterval) -> Bool {
        let limit = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while !output.contains(text) {
            if !lock.wait(until: limit) { return output.contains(text) }
        }
        return true
    }

    /// Sends `signal` and waits for the exit; returns the exit status, or nil if it did not exit in time.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32? {
        guard process.isRunning else { return process.terminationStatus }
        kill(process.processIdentifier, signal)
        let limit = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < limit { usleep(10_000) }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            waitForEndOfOutput()
            return nil
        }
        waitForEndOfOutput()
        return process.terminationStatus
    }

    /// Waits (briefly) until the last lines the exited process wrote are in ``log``.
    private func waitForEndOfOutput() {
        let limit = Date().addingTimeInterval(5)
        lock.lock()
        defer { lock.unlock() }
        while !reachedEndOfOutput {
            if !lock.wait(until: limit) { return }
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
}

public struct ServiceProcessError: Error, CustomStringConvertible {
    public var description: String
}

/// Finds the executables built next to the test bundle.
public enum BuildProducts {
    public static var directory: URL {
        // .build/<triple>/<config>/OcorrenciasPackageTests.xctest → .build/<triple>/<config>
        var url = URL(fileURLWithPath: CommandLine.arguments.first ?? ".").resolvingSymlinksInPath()
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("intake").path) {
            url.deleteLastPathComponent()
        }
        return url
    }

    public static func executable(_ name: String) -> URL { directory.appendingPathComponent(name) }
}

/// Loopback ports the OS says are free.
/// Loopback ports for test servers.
///
/// Ports come from 20000–31999, below Linux's ephemeral range (32768–60999): a port chosen here
/// can then not be taken by another test's outgoing connection between the moment it is chosen
/// and the moment the server binds it (which made services fail with "Address already in use"
/// when many suites ran at once). Each port is handed out once per test process, starting at a
/// random offset so that other processes (the Python deployment scripts) rarely pick the same.
public enum FreePort {
    private static let first = 20_000, count = 12_000
    private static let cursor = Atomic<Int>(Int.random(in: 0..<12_000))

    public static func next() throws -> Int {
        for _ in 0..<count {
            let port = first + cursor.add(1, ordering: .relaxed).oldValue % count
            if isFree(port) { return port }
        }
        throw ServiceProcessError(description: "no free port")
    }

    /// Whether `port` can be bound on 127.0.0.1 right now.
    static func isFree(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
