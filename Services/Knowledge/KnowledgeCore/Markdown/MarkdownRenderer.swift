import Foundation
import ServiceKit

/// Renders an article's Markdown to HTML on the server, safely: every character of the source is
/// HTML-escaped first, and only a small subset of Markdown becomes markup. Raw HTML in the source
/// is shown as text, never interpreted.
///
/// Supported: paragraphs, `#`–`###` headings, `-`/`*` and `1.` lists, fenced code blocks
/// (```` ``` ````), `` `code` ``, `**bold**`, `*italic*`/`_italic_`, and links `[text](url)` whose
/// URL is `http:`, `https:`, `mailto:` or a relative path (`/kb/...`); other links keep only
/// their text. Links get `rel="nofollow noopener"`.
///
/// ```swift
/// MarkdownRenderer.html("**Atenção**: <script>")  // "<p><strong>Atenção</strong>: &lt;script&gt;</p>"
/// ```
public enum MarkdownRenderer {
    public static func html(_ markdown: String) -> String {
        var output = ""
        var paragraph: [String] = []
        var list: (ordered: Bool, items: [String])?
        var code: [String]?

        func flushParagraph() {
            if !paragraph.isEmpty {
                output += "<p>" + paragraph.map(inline).joined(separator: "<br>\n") + "</p>\n"
                paragraph = []
            }
        }
        func flushList() {
            if let current = list {
                let tag = current.ordered ? "ol" : "ul"
                output += "<\(tag)>" + current.items.map { "<li>\(inline($0))</li>" }.joined() + "</\(tag)>\n"
                list = nil
            }
        }

        for rawLine in markdown.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(rawLine)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if code != nil {
                if trimmed.hasPrefix("```") {
                    output += "<pre><code>" + code!.map(HTML.escape).joined(separator: "\n") + "</code></pre>\n"
                    code = nil
                } else {
                    code!.append(line)
                }
                continue
            }
            if trimmed.hasPrefix("```") {
                flushParagraph(); flushList()
                code = []
                continue
            }
            if trimmed.isEmpty {
                flushParagraph(); flushList()
                continue
            }
            if let level = headingLevel(trimmed) {
                flushParagraph(); flushList()
                let text = trimmed.drop(while: { $0 == "#" }).trimmingCharacters(in: .whitespaces)
                output += "<h\(level + 2)>\(inline(text))</h\(level + 2)>\n"
                continue
            }
            if let item = listItem(trimmed) {
                flushParagraph()
                if list != nil && list!.ordered != item.ordered { flushList() }
                if list == nil { list = (item.ordered, []) }
                list!.items.append(item.text)
                continue
            }
            flushList()
            paragraph.append(trimmed)
        }
        if let code { output += "<pre><code>" + code.map(HTML.escape).joined(separator: "\n") + "</code></pre>\n" }
        flushParagraph(); flushList()
        return output
    }

    /// The text of `markdown` without markup, for snippets and events.
    public static func plainText(_ markdown: String) -> String {
        var text = markdown
        for token in ["**", "`", "#", "> "] { text = text.replacingOccurrences(of: token, with: "") }
        return text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).map { line -> String in
            var line = line.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("- ") || line.hasPrefix("* ") { line.removeFirst(2) }
            return line
        }.filter { !$0.isEmpty }.joined(separator: " ")
    }


    private static func headingLevel(_ line: String) -> Int? {
        let hashes = line.prefix(while: { $0 == "#" }).count
        guard (1...3).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    private static func listItem(_ line: String) -> (ordered: Bool, text: String)? {
        if line.hasPrefix("- ") || line.hasPrefix("* ") { return (false, String(line.dropFirst(2))) }
        let digits = line.prefix(while: { $0.isASCII && $0.isNumber })
        if !digits.isEmpty, digits.count <= 3, line.dropFirst(digits.count).hasPrefix(". ") {
            return (true, String(line.dropFirst(digits.count + 2)))
        }
        return nil
    }

    /// Inline markup over one line: escaped first, then code spans, links, bold and italics.
    static func inline(_ source: String) -> String {
        var result = ""
        let characters = Array(source)
        var index = 0
        var bold = false
        var italic: Character?
        while index < characters.count {
            let character = characters[index]
            if character == "`", let end = characters[(index + 1)...].firstIndex(of: "`") {
                result += "<code>" + HTML.escape(String(characters[(index + 1)..<end])) + "</code>"
                index = end + 1
                continue
            }
            if character == "[", let link = parseLink(characters, at: index) {
                let text = inline(link.text)
                if let url = safeURL(link.url) {
                    result += "<a href=\"\(HTML.escape(url))\" rel=\"nofollow noopener\">\(text)</a>"
                } else {
                    result += text
                }
                index = link.end
                continue
            }
            if character == "*", index + 1 < characters.count, characters[index + 1] == "*" {
                if bold || hasClosing(characters, from: index + 2, "**") {
                    result += bold ? "</strong>" : "<strong>"
                    bold.toggle()
                    index += 2
                    continue
                }
            }
            if (character == "*" || character == "_") && (italic == character || (italic == nil && hasClosing(characters, from: index + 1, String(character)))) {
                let boundaryBefore = index == 0 || !characters[index - 1].isLetter
                if italic == character || boundaryBefore {
                    result += italic == nil ? "<em>" : "</em>"
                    italic = italic == nil ? character : nil
                    index += 1
                    continue
                }
            }
            result += HTML.escape(String(character))
            index += 1
        }
        if italic != nil { result += "</em>" }
        if bold { result += "</strong>" }
        return result
    }

    private static func hasClosing(_ characters: [Character], from start: Int, _ marker: String) -> Bool {
        guard start < characters.count else { return false }
        return String(characters[start...]).contains(marker)
    }

    private static func parseLink(_ characters: [Character], at start: Int) -> (text: String, url: String, end: Int)? {
        guard let close = characters[(start + 1)...].firstIndex(of: "]"), close + 1 < characters.count,
              characters[close + 1] == "(", let end = characters[(close + 2)...].firstIndex(of: ")") else { return nil }
        return (String(characters[(start + 1)..<close]), String(characters[(close + 2)..<end]).trimmingCharacters(in: .whitespaces), end + 1)
    }

    private static func safeURL(_ url: String) -> String? {
        let lowered = url.lowercased()
        // A backslash too: browsers read "/\\host" as "//host", another site.
        guard !url.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" || $0 == "\\" }) else { return nil }
        if lowered.hasPrefix("https://") || lowered.hasPrefix("http://") || lowered.hasPrefix("mailto:") { return url }
        if url.hasPrefix("/") && !url.hasPrefix("//") { return url }
        return nil
    }
}
