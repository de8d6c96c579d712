import Foundation
import Observability
import Testing

/// JSON quoting for log lines and lists passed to SQL as one parameter: texts without anything
/// to escape take a shortcut, the others are escaped scalar by scalar; both must read back as
/// the same text.
@Suite("JSON text")
struct JSONTextTests {
    static let texts = ["", "plain-id-0123", "Zé Ação 🎫", "a\"b", "back\\slash", "line\nbreak\r\ttab", "nul\u{0}bell\u{7}", "\"\u{301}x",
                        "日本語"]

    @Test("Quoted texts read back as themselves, escapes included")
    func quoteRoundTrip() throws {
        for text in Self.texts {
            let quoted = JSONText.quote(text)
            let decoded = try JSONSerialization.jsonObject(with: Data(quoted.utf8), options: .fragmentsAllowed) as? String
            #expect(decoded == text, "\(quoted)")
        }
        #expect(JSONText.quote("abc") == "\"abc\"")
        #expect(JSONText.quote("a\"b\n") == "\"a\\\"b\\n\"")
        #expect(JSONText.quote("\u{1}") == "\"\\u0001\"")
    }

    @Test("Arrays keep order and each element's escapes")
    func arrayRoundTrip() throws {
        #expect(JSONText.array([]) == "[]")
        #expect(JSONText.array(["a", "b"]) == "[\"a\",\"b\"]")
        let array = JSONText.array(Self.texts)
        let decoded = try JSONSerialization.jsonObject(with: Data(array.utf8)) as? [String]
        #expect(decoded == Self.texts)
    }
}
