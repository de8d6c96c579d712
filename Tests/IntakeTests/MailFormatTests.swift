import Foundation
@testable import IntakeCore
import Messages
import RPC
import ServiceKit
import Storage
import Testing
import TestSupport

/// Mail as clients and old systems really write it: charsets that are missing, unknown or lie,
/// forwarded messages, text files, calendar invitations, and structures built to hurt.
@Suite("E-mail formats from real clients")
struct MailFormatTests {
    /// `text` as bytes, one byte per character (each must be at most U+00FF): "N\u{E3}o" is the
    /// ISO-8859-1 / windows-1252 spelling of "Não", "\u{93}" the windows-1252 left quote.
    static func bytes(_ text: String) -> [UInt8] {
        text.unicodeScalars.map { UInt8($0.value) }
    }

    /// A multipart/mixed message from Maria with one text part per entry of `parts` (its header
    /// lines and its body).
    static func message(subject: String = "Teste", _ parts: [(headers: String, body: String)]) -> [UInt8] {
        var raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: \(subject)\r\n"
            + "Message-ID: <formatos@acme.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
        for part in parts { raw += "--b\r\n\(part.headers)\r\n\r\n\(part.body)\r\n" }
        return bytes(raw + "--b--\r\n")
    }

    /// A message of `depth` nested multiparts, the innermost holding `parts` one-byte files.
    static func nested(depth: Int, parts: Int = 0) -> [UInt8] {
        var raw = "From: Maria Souza <maria@acme.example>\r\nTo: suporte@suporte.example\r\nSubject: bomba\r\nMessage-ID: <bomba-\(depth)-\(parts)@acme.example>\r\nMIME-Version: 1.0\r\n"
        for level in 0..<depth { raw += "Content-Type: multipart/mixed; boundary=b\(level)\r\n\r\n--b\(level)\r\n" }
        raw += "Content-Type: text/plain\r\n\r\nfundo\r\n"
        for _ in 0..<parts { raw += "--b\(depth - 1)\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n" }
        for level in (0..<depth).reversed() { raw += "--b\(level)--\r\n" }
        return Array(raw.utf8)
    }

    @Test("MIME and header bombs are refused at once with a clear reason, before GMime reads them; a message within the limits is read")
    func bombs() throws {
        /// Why the message is refused; nil when it is read.
        func refusal(_ raw: [UInt8]) -> String? {
            do { _ = try MailMessage(raw: raw); return nil } catch { return "\(error)" }
        }
        let clock = ContinuousClock()
        let started = clock.now
        #expect(refusal(Self.nested(depth: 60_000))?.contains("more than 500 MIME parts") == true)
        #expect(refusal(Self.nested(depth: 1, parts: 100_000))?.contains("partes MIME") == true)
        // "Content-Type :" (blanks before the colon, which GMime accepts) counts too.
        let spaced = String(decoding: Self.nested(depth: 600), as: UTF8.self).replacingOccurrences(of: "Content-Type:", with: "content-TYPE :")
        #expect(refusal(Array(spaced.utf8)) != nil)
        var header = Array("From: maria@acme.example\r\nSubject: x\r\n".utf8)
        header += Array(String(repeating: "X-Junk: aaaaaaaaaaaaaaaaaaaa\r\n", count: 40_000).utf8) + Array("\r\ncorpo\r\n".utf8)
        #expect(refusal(header)?.contains("message header over 1024 KiB") == true)
        #expect(clock.now - started < .seconds(5))
        // Within the limits: read as usual.
        let fine = try MailMessage(raw: Self.nested(depth: 20, parts: 400))
        #expect(fine.text == "fundo" && fine.attachments.count == 400)
    }
}

@Suite("E-mail formats from real clients, stored", .serialized)
struct MailFormatIngestTests {
    @Test("a MIME bomb is held as unparsable with its reason and answered; no ticket, no file stored", arguments: TestEngines.all)
    func bombHeld(engine: DatabaseEngine) throws {
        let sender = try MailIngestTests.MailSender(engine)
        let receipt = try sender.harness.intake.receive(raw: MailFormatTests.nested(depth: 1, parts: 5_000), source: "pipe", tokens: sender.tokens)
        guard case .rejected(let reason) = receipt.outcome else { Issue.record("not refused: \(receipt.outcome)"); return }
        #expect(reason.contains("mais de 500 partes MIME") && reason.contains("more than 500 MIME parts"), "\(reason)")
        #expect(receipt.unparsable && receipt.quarantineID != nil && receipt.readableSender == "maria@acme.example")
        #expect(try sender.harness.count("mail_quarantine") == 1 && sender.harness.count("tickets") == 0 && sender.harness.count("attachments") == 0)
    }
}
