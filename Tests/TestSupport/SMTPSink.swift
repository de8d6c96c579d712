import Foundation

/// A real SMTP server for tests: the aiosmtpd sink of the notification tests
/// (`Tests/NotificationTests/Support/smtp_sink.py`, Debian's python3-aiosmtpd), storing each
/// accepted message as `<n>.eml` with its envelope in `<n>.json` under ``directory``.
public final class SMTPSink: Sendable {
    public let process: ChildProcess
    public let port: Int
    /// Where the messages are stored.
    public let directory: String
    private let scratch: TemporaryDirectory?

    public static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../NotificationTests/Support/smtp_sink.py").standardized.path
    /// Whether the sink can run here (the script and python3 are present).
    public static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: script) && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }

    /// Starts the sink on a free port (or `port`, e.g. one a service was already told about),
    /// storing into `directory` (a fresh temporary one when nil); `options` are more of the
    /// script's flags (`--fail-first N`, `--reject-rcpt TEXT`, ...).
    public init(directory: String? = nil, port: Int? = nil, options: [String] = []) throws {
        if let directory {
            self.directory = directory
            scratch = nil
        } else {
            let temporary = try TemporaryDirectory(prefix: "smtp-sink")
            self.directory = temporary.path
            scratch = temporary
        }
        self.port = try port ?? FreePort.next()
        process = try ChildProcess("/usr/bin/python3", [Self.script, "--port", String(self.port), "--dir", self.directory] + options,
                                   output: .capture, error: .capture)
        guard process.waitForCaptured(.standardOutput, containing: "ready", timeout: 30) else {  // ends at once if it exits
            process.kill()
            process.waitForEndOfCapture(timeout: 2)
            throw TestSupportError("smtp_sink.py did not start: \(process.capturedText(.standardOutput))\(process.capturedText(.standardError))")
        }
    }

    /// The URL services send to (`smtp://127.0.0.1:<port>`).
    public var url: String { "smtp://127.0.0.1:\(port)" }

    /// The raw messages received so far, in order.
    public func messages() -> [String] {
        files(ending: ".eml").compactMap { try? String(contentsOfFile: "\(directory)/\($0)", encoding: .utf8) }
    }

    /// The envelope recipients of each message received, in order.
    public func recipients() -> [[String]] {
        files(ending: ".json").compactMap { name in
            guard let data = FileManager.default.contents(atPath: "\(directory)/\(name)"),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["to"] as? [String]
        }
    }

    private func files(ending suffix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    }

    /// Kills the sink (SIGKILL: it may take long to stop on SIGTERM) and reaps it. Its messages
    /// are on disk.
    public func stop() {
        process.kill()
        process.waitUntilExit()
    }

    deinit { stop() }
}
