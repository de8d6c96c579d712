import ServiceKit
import Testing

/// The one HTML escaping routine (knowledge's Markdown and notification's templates use it):
/// per Unicode scalar, so a special character is escaped whatever combining mark follows it.
@Suite("HTML escaping")
struct HTMLEscapingTests {
    @Test("The five special characters become entities, NUL is dropped, other text (accents, emoji) is kept")
    func specials() {
        #expect(HTML.escape("<a href=\"x\">Zé & 'Ana'</a>\u{0}🎫") == "&lt;a href=&quot;x&quot;&gt;Zé &amp; &#39;Ana&#39;&lt;/a&gt;🎫")
        #expect(HTML.escape("") == "")
    }

    @Test("A quote, angle bracket or NUL followed by a combining mark is still escaped (dropped)")
    func combiningMarks() {
        #expect(HTML.escape("x\"\u{301} onerror=y") == "x&quot;\u{301} onerror=y")
        #expect(HTML.escape("<\u{338}script>") == "&lt;\u{338}script&gt;")
        #expect(HTML.escape("a\u{0}\u{301}b") == "a\u{301}b")
    }

    @Test("The String and UTF-8 forms agree")
    func forms() {
        for text in ["plain", "Olá <b>'x'</b> & \"y\"", "\"\u{301}'\u{300}&\u{327}", "日本語 <", "\u{0}\u{0}"] {
            #expect(HTML.escape(utf8: Array(text.utf8)) == Array(HTML.escape(text).utf8), "\(text)")
            var appended: [UInt8] = [0x2e]
            HTML.escape(utf8: text.utf8, into: &appended)
            #expect(appended == [0x2e] + Array(HTML.escape(text).utf8), "\(text)")
        }
    }
}
