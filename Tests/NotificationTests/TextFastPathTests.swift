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
}
