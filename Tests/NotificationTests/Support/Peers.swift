import Foundation
import TestSupport

/// A Python program started by a test (SMTP sink, webhook receiver) that prints `ready <port>`.
final class PythonPeer: Sendable {
    let process: ChildProcess
    let port: Int
    let directory: String

    static let supportDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
    static let python = "/usr/bin/python3"

    init(script: String, port: Int? = nil, directory: String, arguments: [String]) throws {
        self.port = try port ?? FreePort.next()
        self.directory = directory
        process = try ChildProcess(Self.python, ["\(Self.supportDirectory)/\(script)", "--port", String(self.port)] + arguments,
                                   output: .capture, error: .capture)
        guard process.waitForCaptured(.standardOutput, containing: "ready", timeout: 30) else {  // ends at once if it exits
            process.kill()
            process.waitForEndOfCapture(timeout: 2)
            throw TestSupportError("\(script) did not start: \(process.capturedText(.standardOutput))\(process.capturedText(.standardError))")
        }
    }

    /// An aiosmtpd server storing messages in `directory` (answers 451 to the first `failFirst`).
    static func smtp(directory: String, port: Int? = nil, failFirst: Int = 0, extra: [String] = []) throws -> PythonPeer {
        try PythonPeer(script: "smtp_sink.py", port: port, directory: directory,
                       arguments: ["--dir", directory, "--fail-first", String(failFirst)] + extra)
    }

    /// A webhook receiver verifying signatures with `secret` (503 to the first `failFirst`);
    /// `body`: how it answers an accepted request (`ok`; `stall`: 200, then a body that stops;
    /// `huge`: 200 and 200 MB); `redirect`: answers it 307 to that URL instead.
    static func webhook(directory: String, secret: String, failFirst: Int = 0, body: String = "ok", redirect: String = "") throws -> PythonPeer {
        try PythonPeer(script: "webhook_receiver.py", directory: directory,
                       arguments: ["--dir", directory, "--secret", secret, "--fail-first", String(failFirst), "--body", body,
                                   "--redirect", redirect])
    }

    var url: String { "http://127.0.0.1:\(port)/hook" }

    /// Files the peer stored, by extension.
    func files(_ ext: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".\(ext)") }.sorted()
    }

    /// Stops the peer (SIGTERM; SIGKILL if it still runs after 10 s) and reaps it.
    func stop() {
        process.terminate()
        if process.waitUntilExit(timeout: 10) == nil {
            process.kill()
            process.waitUntilExit()
        }
    }
}

/// A received e-mail as Python's e-mail package parsed it.
struct ReceivedMail: Decodable {
    struct Envelope: Decodable {
        var from: String
        var to: [String]
    }
    struct Attachment: Decodable {
        var filename: String?
        var content_type: String
        var sha256: String
        var size: Int
    }
    var file: String
    var envelope: Envelope
    var headers: [String: String]
    var raw_subject: String
    var content_type: String
    var defects: [String]
    var text: String
    var html: String
    var attachments: [Attachment]
    var all_ascii: Bool
    var crlf_only: Bool

    /// Every message stored in `directory`, parsed.
    static func all(in directory: String) throws -> [ReceivedMail] {
        let data = Data(try ChildProcess.run(PythonPeer.python, ["\(PythonPeer.supportDirectory)/mail_to_json.py", directory]).output)
        return try JSONDecoder().decode([ReceivedMail].self, from: data)
    }
}

/// A webhook request as the receiver stored it (signature verified).
struct ReceivedWebhook: Decodable {
    var headers: [String: String]
    var verified: Bool

    static func all(in directory: String) throws -> [(ReceivedWebhook, [String: Any])] {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return try files.map { name in
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(name)"))
            let record = try JSONDecoder().decode(ReceivedWebhook.self, from: data)
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
            return (record, object["body"] as? [String: Any] ?? [:])
        }
    }

    func header(_ name: String) -> String? {
        headers.first { $0.key.lowercased() == name.lowercased() }?.value
    }
}
