import Foundation
import Testing
import TestSupport

/// The portal's browser tests: a Python script of `Browser/` driving headless Chromium (Debian's
/// `chromium` and `chromedriver`, through Selenium) against a gateway started by the test.
enum PortalBrowser {
    /// Fails the test unless Chromium and its driver are installed (`scripts/bootstrap`).
    static func requireChromium() throws {
        for required in ["/usr/bin/chromium", "/usr/bin/chromedriver"] {
            try #require(FileManager.default.fileExists(atPath: required), "\(required) is missing: run scripts/bootstrap")
        }
    }

    /// Runs `Browser/<script>` with the gateway's address, the screenshots' folder and
    /// `arguments`; credentials go in `environment` (`PORTAL_CUSTOMER=email:password`, ...).
    /// Screenshots land in `GATEWAY_SCREENSHOTS_DIR` when set (`docs/screenshots` refreshes the
    /// pictures kept in the repository), else in the gateway's temporary directory.
    static func run(_ script: String, _ gateway: GatewayHarness, _ arguments: [String] = [],
                    environment: [String: String]) throws -> (status: Int32, output: String, error: String) {
        try requireChromium()
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Browser/\(script)").path
        let shots = ProcessInfo.processInfo.environment["GATEWAY_SCREENSHOTS_DIR"] ?? (gateway.directory.path + "/shots")
        return try GatewayHarness.run(URL(fileURLWithPath: "/usr/bin/python3"),
                                      [path, "http://127.0.0.1:\(gateway.httpPort)", shots] + arguments, environment: environment)
    }

    /// What a script printed after "OK " (the id of what it made), or "" when it did not end well.
    static func value(_ output: String) -> String {
        String(output.split(separator: " ").dropFirst().first ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
