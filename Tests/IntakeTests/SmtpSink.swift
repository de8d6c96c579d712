import Foundation
import TestSupport

/// A real SMTP server for the bounce tests: the aiosmtpd sink the notification tests use
/// (`Tests/NotificationTests/Support/smtp_sink.py`, Debian's python3-aiosmtpd), storing each
/// accepted message as `<n>.eml` with its envelope in `<n>.json`.
final class SmtpSink: @unchecked Sendable {
    let process = Process()
    let port: Int
    let directory: TemporaryDirectory
    private let output = Pipe()

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../NotificationTests/Support/smtp_sink.py").standardized.path
    static var isAvailable: Bool {
        FileManager.default.fileExists(atPath: script) && FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
    }

    init() throws {
        directory = try TemporaryDirectory(prefix: "intake-smtp")
        port = try FreePort.next()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [Self.script, "--port", String(port), "--dir", directory.path]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        let limit = Date().addingTimeInterval(15)
        while !text.contains("ready") {
            guard Date() < limit, process.isRunning else { throw TestSupportError("smtp_sink.py did not start: \(text)") }
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { usleep(10_000) } else { text += String(decoding: data, as: UTF8.self) }
        }
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    /// The raw messages received so far, in order.
    func messages() -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.compactMap { try? String(contentsOfFile: directory.file($0), encoding: .utf8) }
    }

    /// The envelope recipients of each message received, in order.
    func recipients() -> [[String]] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            guard let data = FileManager.default.contents(atPath: directory.file(name)),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
            return object["to"] as? [String]
        }
    }

    /// Kills the sink (SIGKILL: the test process's blocked signal mask is inherited, so the
    /// sink would ignore SIGTERM) and reaps it. Its messages are already on disk.
    func stop() {
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { stop() }
}
