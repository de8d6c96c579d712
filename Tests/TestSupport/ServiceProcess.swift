import Foundation

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
        stderrPipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self else { return }
            self.lock.lock()
            if data.isEmpty {
                // End of file: the process has exited and everything it wrote has been read.
                self.reachedEndOfOutput = true
                handle.readabilityHandler = nil
            } else {
                self.output += String(decoding: data, as: UTF8.self)
            }
            self.lock.broadcast()
            self.lock.unlock()
        }
        try process.run()
        guard waitForOutput(containing: "\"msg\":\"ready\"", timeout: timeout) else {
            process.terminate()
            throw ServiceProcessError(description: "\(name) did not become ready:\n\(log)")
        }
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
        stderrPipe.fileHandleForReading.readabilityHandler = nil
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
public enum FreePort {
    public static func next() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ServiceProcessError(description: "no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
