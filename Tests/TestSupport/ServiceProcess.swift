import Foundation

/// A service executable started for real by a test, on a loopback port chosen by the OS.
///
/// Its standard error (the JSON log) is captured for readiness waits and failure messages.
public final class ServiceProcess: Sendable {
    public let name: String
    public let port: Int
    public let process: ChildProcess

    /// Starts `.build/<config>/<name>` with `environment` added to the process environment.
    /// - Throws: when the binary is missing or does not print its "ready" line within `timeout`
    ///   (60 s: migrating a PostgreSQL database while the whole suite runs on two cores can take
    ///   a while; a process that exits early ends the wait at once).
    public init(name: String, environment: [String: String], port: Int? = nil, timeout: TimeInterval = 60) throws {
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
