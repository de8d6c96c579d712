import Foundation
@testable import NotificationCore
import Testing
import TestSupport

/// The service's own SMTP client for plain relays (``PlainSMTPConnection``) against a real
/// aiosmtpd server, compared with libcurl's sending of the same bytes.
@Suite("Notification: the plain SMTP client", .serialized)
struct PlainSMTPTests {
    @Test("Leading dots are doubled at the start of every line, also across pieces; the end is CRLF.CRLF as libcurl sends it")
    func dotStuffing() {
        var stuffer = DotStuffer()
        var out: [UInt8] = []
        for piece in [".a\r\n", "\r", "\n.b\r\n..c", "x.\r", "\n"] { stuffer.append(Array(piece.utf8), to: &out) }
        #expect(String(decoding: out, as: UTF8.self) == "..a\r\n\r\n..b\r\n...cx.\r\n")
        #expect(stuffer.endsWithLineBreak)
        var open = DotStuffer()
        var rest: [UInt8] = []
        open.append(Array("sem quebra".utf8), to: &rest)
        #expect(!open.endsWithLineBreak && String(decoding: rest, as: UTF8.self) == "sem quebra")
    }

    @Test("Same stored bytes as libcurl's (dot lines, 8-bit text, no final CRLF, a message in pieces); a refused recipient fails permanently and the kept connection serves the next message; a restarted relay is reconnected to")
    func parityWithLibcurl() throws {
        let directory = try TemporaryDirectory(prefix: "plain-smtp")
        let port = try FreePort.next()
        var sink: PythonPeer? = try PythonPeer.smtp(directory: directory.path, port: port, extra: ["--reject-rcpt", "ninguem"])
        defer { if let process = sink?.process, process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
        var settings = NotificationSettings()
        settings.smtpURL = "smtp://127.0.0.1:\(port)"
        var curlSettings = settings
        curlSettings.smtpPlainClient = false
        let message = Array("Subject: teste\r\nTo: <b@y.example>\r\n\r\n.linha com ponto\r\nação ✓\r\n..dois\r\n.".utf8)
        let curl = CurlEasy()
        #expect(curl.plainSMTP(settings) != nil && curl.plainSMTP(curlSettings) == nil)
        let plain = SMTPSender(settings: settings)
        let outcome = plain.send(curl, from: "a@x.example", recipients: ["b@y.example"], message: message)
        guard case .accepted(let answer) = outcome else { Issue.record("plain client: \(outcome)"); return }
        #expect(answer.hasPrefix("250"))
        #expect(curl.plainSMTP(settings)?.advertisesSize == true, "aiosmtpd's EHLO lists SIZE")
        let viaCurl = SMTPSender(settings: curlSettings).send(CurlEasy(), from: "a@x.example", recipients: ["b@y.example"], message: message)
        guard case .accepted = viaCurl else { Issue.record("libcurl: \(viaCurl)"); return }
        var pieces = [Array(message[12..<40]), Array(message[40...])]
        let piecewise = plain.send(curl, from: "a@x.example", recipients: ["b@y.example", "c@y.example"], message: Array(message[0..<12]),
                                   size: message.count, more: { pieces.isEmpty ? nil : pieces.removeFirst() })
        guard case .accepted = piecewise else { Issue.record("in pieces: \(piecewise)"); return }
        #expect(waitFor(10) { sink?.files("eml").count == 3 })
        let stored = try sink!.files("eml").map { try Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + $0)) }
        #expect(stored.count == 3 && stored[0] == stored[1] && stored[1] == stored[2], "plain and libcurl deliveries differ")
        let envelope = try String(decoding: Data(contentsOf: URL(fileURLWithPath: directory.path + "/000003.json")), as: UTF8.self)
        #expect(envelope.contains("c@y.example") && envelope.contains("a@x.example"))

        // A refused recipient: permanent, with the server's reply; the transaction is reset and
        // the same connection takes the next message.
        let refused = plain.send(curl, from: "a@x.example", recipients: ["ninguem@y.example"], message: message)
        guard case .permanent(let why) = refused else { Issue.record("refused recipient: \(refused)"); return }
        #expect(why.contains("550"), "\(why)")
        guard case .accepted = plain.send(curl, from: "a@x.example", recipients: ["b@y.example"], message: message) else {
            Issue.record("after a refused recipient"); return
        }
        #expect(waitFor(10) { sink?.files("eml").count == 4 })

        // The relay restarts on the same port: the kept connection is dead, the next message
        // goes out on a new one without failing.
        if let process = sink?.process { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        let again = try TemporaryDirectory(prefix: "plain-smtp-again")
        sink = try PythonPeer.smtp(directory: again.path, port: port)
        let afterRestart = plain.send(curl, from: "a@x.example", recipients: ["b@y.example"], message: message)
        guard case .accepted = afterRestart else { Issue.record("after the relay restarted: \(afterRestart)"); return }
        #expect(waitFor(10) { sink?.files("eml").count == 1 })

        // No relay at all: a transient failure naming the connection.
        if let process = sink?.process { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        sink = nil
        let down = plain.send(curl, from: "a@x.example", recipients: ["b@y.example"], message: message)
        guard case .transient(let reason) = down else { Issue.record("no relay: \(down)"); return }
        #expect(reason.contains("SMTP"), "\(reason)")
    }

    /// Postfix's smtp-sink (Debian's postfix package, installed by scripts/bench-gateway), which
    /// offers PIPELINING, on a free port; `extra` are its options.
    static func postfixSink(port: Int, directory: String, extra: [String] = []) throws -> Process {
        let sink = Process()
        sink.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
        sink.arguments = (getuid() == 0 ? ["-u", "postfix"] : []) + extra + ["-d", directory + "/%M.", "127.0.0.1:\(port)", "64"]
        sink.standardOutput = FileHandle.nullDevice
        sink.standardError = FileHandle.nullDevice
        try sink.run()
        return sink
    }

    static func dumped(_ directory: String) -> [String] {
        let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String]) ?? []
        return files.compactMap { name in
            var isDirectory: ObjCBool = false
            let path = directory + "/" + name
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return (try? String(contentsOfFile: path, encoding: .utf8)) ?? String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
    }

    @Test("PIPELINING (Postfix's smtp-sink): envelope and DATA in one write, messages on one kept connection; refused recipients are a permanent failure",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/sbin/smtp-sink")))
    func pipelining() throws {
        let directory = try TemporaryDirectory(prefix: "smtp-sink")
        chmod(directory.path, 0o777)
        let port = try FreePort.next()
        let sink = try Self.postfixSink(port: port, directory: directory.path)
        // smtp-sink ignores SIGTERM.
        defer { kill(sink.processIdentifier, SIGKILL); sink.waitUntilExit() }
        var settings = NotificationSettings()
        settings.smtpURL = "smtp://127.0.0.1:\(port)"
        let curl = CurlEasy()
        let plain = SMTPSender(settings: settings)
        func message(_ marker: String) -> [UInt8] { Array("Subject: \(marker)\r\n\r\n.\(marker)\r\nfim\r\n".utf8) }
        // The sink may take a moment to listen.
        var first = plain.send(curl, from: "a@x.example", recipients: ["b@y.example", "c@y.example"], message: message("marca-0"))
        let limit = Date().addingTimeInterval(10)
        while case .transient = first, Date() < limit {
            usleep(50_000)
            first = plain.send(curl, from: "a@x.example", recipients: ["b@y.example", "c@y.example"], message: message("marca-0"))
        }
        guard case .accepted = first else { Issue.record("first message: \(first)"); return }
        #expect(curl.plainSMTP(settings)?.advertisesPipelining == true)
        for index in 1...3 {
            let outcome = plain.send(curl, from: "a@x.example", recipients: ["b@y.example"], message: message("marca-\(index)"))
            guard case .accepted = outcome else { Issue.record("message \(index): \(outcome)"); return }
        }
        #expect(waitFor(10) { Self.dumped(directory.path).count == 4 })
        let dumps = Self.dumped(directory.path)
        for index in 0...3 {
            #expect(dumps.filter { $0.contains("\r\n..marca-\(index)\r\n") || $0.contains("\n..marca-\(index)\n") || $0.contains(".marca-\(index)") }.count == 1,
                    "marca-\(index) once")
        }

        // A relay refusing every recipient: each message is a permanent failure.
        let refusingDirectory = try TemporaryDirectory(prefix: "smtp-sink-refusing")
        chmod(refusingDirectory.path, 0o777)
        let refusingPort = try FreePort.next()
        let refusing = try Self.postfixSink(port: refusingPort, directory: refusingDirectory.path, extra: ["-f", "RCPT"])
        defer { kill(refusing.processIdentifier, SIGKILL); refusing.waitUntilExit() }
        var refusingSettings = settings
        refusingSettings.smtpURL = "smtp://127.0.0.1:\(refusingPort)"
        let refusingSender = SMTPSender(settings: refusingSettings)
        let other = CurlEasy()
        var refused = refusingSender.send(other, from: "a@x.example", recipients: ["b@y.example"], message: message("recusada"))
        let until = Date().addingTimeInterval(10)
        while case .transient = refused, Date() < until {
            usleep(50_000)
            refused = refusingSender.send(other, from: "a@x.example", recipients: ["b@y.example"], message: message("recusada"))
        }
        guard case .permanent(let why) = refused else { Issue.record("refused recipient: \(refused)"); return }
        #expect(why.hasPrefix("5"), "\(why)")
        guard case .permanent = refusingSender.send(other, from: "a@x.example", recipients: ["b@y.example"], message: message("de novo")) else {
            Issue.record("second refused message"); return
        }
        #expect(Self.dumped(refusingDirectory.path).isEmpty)
    }
}
