import Foundation
@testable import NotificationCore
import Testing

/// The byte-level helpers planning uses instead of Foundation give Foundation's results.
@Suite("Notification: byte-level text helpers match Foundation")
struct TextFastPathTests {
    static let samples = ["", "a", "linha\num", "par\n\ngrafo\n\n\nfim", "crlf\r\nlinha\r\n", "ção é <b>&</b> \"x\" \\ /",
                          "{{code}} {{ subject }} {{nome_sem_fim", "tab\tform\u{0C}bell\u{07}", String(repeating: "Ωx", count: 120)]

    @Test("Paragraphs, one-line headers and substring search")
    func plainText() {
        for text in Self.samples {
            #expect(PlainText.paragraphs(text)
                    == text.replacingOccurrences(of: "\n\n", with: "</p><p>").replacingOccurrences(of: "\n", with: "<br>"))
            #expect(PlainText.oneLine(text) == text.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " "))
            for needle in ["=?", "{{", "grafo", "ção", "zz"] {
                #expect(PlainText.contains(text, needle) == text.contains(needle), "\(text) / \(needle)")
            }
        }
    }

    @Test("Base64 lines equal Foundation's encoding cut every 76 characters")
    func base64() {
        for count in [0, 1, 2, 3, 56, 57, 58, 114, 1000] {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let encoded = Data(bytes).base64EncodedString()
            var expected = ""
            var index = encoded.startIndex
            while index < encoded.endIndex {
                let end = encoded.index(index, offsetBy: 76, limitedBy: encoded.endIndex) ?? encoded.endIndex
                expected += encoded[index..<end] + "\r\n"
                index = end
            }
            #expect(MIMEEncoding.base64Lines(bytes) == expected, "\(count) bytes")
        }
    }

    @Test("Webhook JSON parses to the same object as JSONSerialization's, keys sorted")
    func json() throws {
        for text in Self.samples {
            let body = JSONWriter.object(["b": .string(text), "a": .integer(-42), "internal": .bool(true),
                                          "data": .object(["z": text, "code": "2026-1"])])
            let parsed = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
            #expect(parsed["b"] as? String == text)
            #expect((parsed["a"] as? NSNumber)?.intValue == -42)
            #expect((parsed["internal"] as? NSNumber)?.boolValue == true)
            #expect((parsed["data"] as? [String: String]) == ["z": text, "code": "2026-1"])
            let reference = try JSONSerialization.data(withJSONObject: ["b": text, "a": -42, "internal": true,
                                                                         "data": ["z": text, "code": "2026-1"]] as [String: Any],
                                                       options: [.sortedKeys, .withoutEscapingSlashes])
            #expect(String(decoding: body, as: UTF8.self) == String(decoding: reference, as: UTF8.self))
        }
    }

    @Test("Address check on bytes keeps the old verdicts")
    func addresses() {
        for valid in ["a@b", "jose.silva+tag@cliente.example", "x_y-z@sub-domain.example.com", "!#$%&'*+-/=?^_`{|}~@a.b"] {
            #expect(EmailAddress.isValid(valid), "\(valid)")
        }
        for invalid in ["", "@b", "a@", "a b@c", ".a@b", "a.@b", "a..b@c", "a@-b.c", "a@b-.c", "a@b..c", "ção@b.c", "a@bç.c",
                        "a@b\r\nBcc: x@y", String(repeating: "a", count: 65) + "@b.c", "a@" + String(repeating: "b", count: 64) + ".c"] {
            #expect(!EmailAddress.isValid(invalid), "\(invalid)")
        }
    }

    /// ``MIMEEncoding/headerText(_:)`` as it was written before its byte path: words cut on
    /// `Character` boundaries, encoded with Foundation.
    static func referenceHeaderText(_ text: String) -> String {
        let clean = PlainText.oneLine(text)
        if MIMEEncoding.isPlainASCII(clean) && !clean.contains("=?") && clean.utf8.count <= 900 { return clean }
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in clean {
            let bytes = character.utf8
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk.removeAll()
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    @Test("Encoded header words are cut where Foundation's characters end")
    func headerWords() {
        let texts = Self.samples + [
            "[2026-000123] Ocorrência registrada: Nota fiscal não emitida", "Suporte Ocorrências",
            String(repeating: "ção", count: 40), String(repeating: "a", count: 44) + "é" + String(repeating: "b", count: 50),
            String(repeating: "x", count: 901), "é\u{0301} combinado, e\u{0301}e\u{0301}" + String(repeating: "á", count: 30),
            "👩‍👩‍👧 família " + String(repeating: "🇧🇷", count: 12), "ÿ\u{00AD}soft\u{0085}nel", "ascii =? marker",
            "\u{00FF}" + String(repeating: "\u{02FF}", count: 40), "\u{0300}" + String(repeating: "b", count: 60),
        ]
        for text in texts {
            #expect(MIMEEncoding.headerText(text) == Self.referenceHeaderText(text), "\(text)")
        }
        for count in 0...7 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 53 &+ 200) }
            var out: [UInt8] = []
            MIMEEncoding.appendBase64(bytes[...], to: &out)
            #expect(String(decoding: out, as: UTF8.self) == Data(bytes).base64EncodedString())
        }
    }

    @Test("A subject's newline check on bytes agrees with Character.isNewline")
    func newlines() {
        for text in Self.samples + ["NEL\u{0085}", "LS\u{2028}x", "PS\u{2029}", "vt\u{0B}", "\u{2027}\u{202A}", "é\u{00A8}\u{80A8}", "ok ção"] {
            #expect(PlainText.mayHaveNewline(text) == text.contains(where: \.isNewline), "\(text)")
        }
        let template = TemplateCatalog.Entry(subject: "Linha\u{2028}{{code}}\r\n{{subject}}\u{0085}fim", text: "", html: "")
        let rendered = TemplateRenderer.render(template, variables: ["code": "2026-1", "subject": "ação"], code: "2026-1")
        #expect(rendered.subject == "Linha 2026-1 ação fim")
    }
}
