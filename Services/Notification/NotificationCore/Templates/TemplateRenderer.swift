import Foundation
import ServiceKit
import Synchronization

/// A rendered message: subject, plain text and HTML.
struct RenderedMessage: Sendable, Equatable {
    var subject: String
    var text: String
    var html: String
}

/// Fills `{{name}}` placeholders. In HTML every substituted value is escaped, so a customer's
/// text can never inject markup; unknown names become empty. The subject always carries the
/// ticket code (prefixed when a template forgot it).
enum TemplateRenderer {
    /// Placeholders whose line is left out when they are empty: `survey_url` (a ticket cancelled,
    /// or whose survey was answered before, finishes without one, and "Avalie o atendimento: "
    /// with nothing after it offered a survey there was not). Built-in and stored templates alike.
    static let lineOptional = ["survey_url"]

    static func render(_ template: TemplateCatalog.Entry, variables: [String: String], code: String) -> RenderedMessage {
        var template = template
        // Only the kinds that fill the name (TicketFinished): no other template may name it.
        for name in lineOptional where variables[name]?.isEmpty == true {
            template.text = withoutLines(naming: name, in: template.text)
            template.html = withoutLines(naming: name, in: template.html)
        }
        var subject = String(decoding: fill(parsed(template.subject), variables, escaping: false), as: UTF8.self)
        // Headers are one line: every newline character becomes a space.
        if PlainText.mayHaveNewline(subject) {
            subject = String(subject.map { $0.isNewline ? " " : $0 })
        }
        if !code.isEmpty && !PlainText.contains(subject, code) { subject = "[\(code)] " + subject }
        let textTemplate = parsed(template.text)
        let text = String(decoding: fill(textTemplate, variables, escaping: false), as: UTF8.self)
        let html: String
        if template.html.isEmpty {
            // Derived from the text template: its literal text escaped too, newlines as <br>.
            html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>"
                + PlainText.paragraphs(String(decoding: fill(textTemplate, variables, escaping: true), as: UTF8.self))
                + "</p></body></html>"
        } else {
            html = String(decoding: fill(parsed(template.html), variables, escaping: true, literalsEscaped: false), as: UTF8.self)
        }
        return RenderedMessage(subject: subject, text: text, html: html)
    }

    /// `template` without its lines that name `{{name}}` (spaces inside the braces allowed), and
    /// without the blank lines right before each (the paragraph break that introduced it). A
    /// template of one line (an HTML body written on one line) is kept whole: its placeholder
    /// is filled empty, as any other.
    static func withoutLines(naming name: String, in template: String) -> String {
        guard template.contains("\n"), template.contains(name) else { return template }
        let names = { (line: Substring) in
            segments(String(line)).contains { if case .value(let value) = $0 { value == name } else { false } }
        }
        var kept: [Substring] = []
        for line in template.split(separator: "\n", omittingEmptySubsequences: false) {
            guard names(line) else { kept.append(line); continue }
            while let last = kept.last, kept.count > 1, last.allSatisfy(\.isWhitespace) { kept.removeLast() }
        }
        return kept.joined(separator: "\n")
    }

    enum Segment { case literal(String), value(String) }

    /// A template cut at its `{{name}}` placeholders: literal text (as is and HTML-escaped) and
    /// names, in order.
    struct Parsed: Sendable {
        enum Piece: Sendable {
            case literal(plain: [UInt8], escaped: [UInt8])
            case name(String)
        }
        var pieces: [Piece]
        var size: Int
    }

    /// Templates parsed so far (administrator templates and the built-in ones: a handful), so
    /// an event does not scan and escape the same template text again.
    private static let cache = Mutex<[String: Parsed]>([:])

    static func parsed(_ template: String) -> Parsed {
        if let known = cache.withLock({ $0[template] }) { return known }
        var pieces: [Parsed.Piece] = []
        for segment in segments(template) {
            switch segment {
            case .literal(let literal):
                pieces.append(.literal(plain: Array(literal.utf8), escaped: HTML.escape(utf8: Array(literal.utf8))))
            case .value(let name):
                pieces.append(.name(name))
            }
        }
        let parsed = Parsed(pieces: pieces, size: template.utf8.count)
        cache.withLock { cache in
            if cache.count >= 512 { cache.removeAll() }
            cache[template] = parsed
        }
        return parsed
    }

    /// `parsed` with each name replaced by its value (unknown names: empty); values, and
    /// literals unless `literalsEscaped` is false, HTML-escaped when `escaping`.
    static func fill(_ parsed: Parsed, _ variables: [String: String], escaping: Bool, literalsEscaped: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(parsed.size + 256)
        for piece in parsed.pieces {
            switch piece {
            case .literal(let plain, let escaped):
                out += escaping && literalsEscaped ? escaped : plain
            case .name(let name):
                guard let value = variables[name] else { continue }
                if escaping { HTML.escape(utf8: value.utf8, into: &out) } else { out += value.utf8 }
            }
        }
        return out
    }

    /// The template cut at its `{{name}}` placeholders (names trimmed). Scanned on the UTF-8
    /// bytes (`{` and `}` never occur inside a multi-byte character), without Foundation's
    /// string search.
    static func segments(_ template: String) -> [Segment] {
        var segments: [Segment] = []
        let bytes = Array(template.utf8)
        let open = UInt8(ascii: "{"), close = UInt8(ascii: "}")
        func find(_ mark: UInt8, from start: Int) -> Int? {
            var index = start
            while index + 1 < bytes.count {
                if bytes[index] == mark && bytes[index + 1] == mark { return index }
                index += 1
            }
            return nil
        }
        func text(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }
        var rest = 0
        while let start = find(open, from: rest) {
            segments.append(.literal(text(rest..<start)))
            guard let end = find(close, from: start + 2) else {
                segments.append(.literal(text(start..<bytes.count)))
                return segments
            }
            let name = text(start + 2..<end)
            let trimmed = name.utf8.allSatisfy({ $0 != 0x20 && $0 != 0x09 && $0 < 0x80 })
                ? name : name.trimmingCharacters(in: .whitespaces)
            segments.append(.value(trimmed))
            rest = end + 2
        }
        segments.append(.literal(text(rest..<bytes.count)))
        return segments
    }
}
