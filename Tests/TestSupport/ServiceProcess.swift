import Foundation
import Synchronization

/// A service executable started for real by a test, on a loopback port chosen by the OS.
///
/// Its standard error (the JSON log) is captured for readiness waits and failure messages.
public final class ServiceProcess: Sendable {
    public let name: String
    public let port: Int
    public let process: ChildProcess

    /// Starts `.build/<config>/<name>` with `environment` added to the process environment.
    /// - Throws: when the binary is missing or does not print its "ready" line within `timeout`.
    public init(name: String, environment: [String: String], port: Int? = nil, timeout: TimeInterval = 20) throws {
        self.name = name
        self.port = try port ?? FreePort.next()
        var environment = environment
        environment["\(name.uppercased())_PORT"] = String(self.port)
        if name == "gateway" {
            // The gateway's other listeners default to fixed ports (8080, 7190); two gateways of
            // concurrent suites must never race for them.
            for variable in ["GATEWAY_HTTP_PORT", "GATEWAY_RPC_PROXY_PORT"] where environment[variable] == nil {
                environment[variable] = String(try FreePort.next())
            }
        }
        process = try ChildProcess(BuildProducts.executable(name).path, environment: ChildProcess.inheritedEnvironment(adding: environment),
                                   error: .capture)
        guard waitForOutput(containing: "\"msg\":\"ready\"", timeout: timeout) else {
            process.kill()
            process.waitUntilExit()
            throw ServiceProcessError(description: "\(name) did not become ready:\n\(log)")
        }
    }

    /// Everything the process wrote to standard error so far.
    public var log: String { process.capturedText(.standardError) }

    /// Waits until the log contains `text` (false after `timeout`, or as soon as the process
    /// has closed its standard error without writing it).
    public func waitForOutput(containing text: String, timeout: TimeInterval) -> Bool {
        process.waitForCaptured(.standardError, containing: text, timeout: timeout)
    }

    /// Sends `signal` and waits for the exit; returns the exit status, or nil if it did not exit
    /// in time (it is then killed). The last lines it wrote are in ``log`` afterwards.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM, timeout: TimeInterval = 15) -> Int32? {
        process.signal(signal)
        guard let ended = process.waitUntilExit(timeout: timeout) else {
            process.kill()
            process.waitUntilExit()
            process.waitForEndOfCapture(timeout: 5)
            return nil
        }
        process.waitForEndOfCapture(timeout: 5)
        return ended.status
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
