import Foundation
import ServiceKit

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
    static func render(_ template: TemplateCatalog.Entry, variables: [String: String], code: String) -> RenderedMessage {
        var subject = fill(template.subject, variables) { $0 }
        // Headers are one line.
        subject = String(subject.map { $0.isNewline ? " " : $0 })
        if !code.isEmpty && !PlainText.contains(subject, code) { subject = "[\(code)] " + subject }
        let text = fill(template.text, variables) { $0 }
        let html: String
        if template.html.isEmpty {
            // Derived from the text template: its literal text escaped too, newlines as <br>.
            let body = fillSegments(template.text, variables).map { segment -> String in
                switch segment {
                case .literal(let literal): HTML.escape(literal)
                case .value(let value): HTML.escape(value)
                }
            }.joined()
            html = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body><p>"
                + PlainText.paragraphs(body)
                + "</p></body></html>"
        } else {
            html = fill(template.html, variables, HTML.escape)
        }
        return RenderedMessage(subject: subject, text: text, html: html)
    }

    enum Segment { case literal(String), value(String) }

    /// The template cut at its `{{name}}` placeholders, each replaced by its value. Scanned on
    /// the UTF-8 bytes (`{` and `}` never occur inside a multi-byte character), without
    /// Foundation's string search.
    static func fillSegments(_ template: String, _ variables: [String: String]) -> [Segment] {
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
            segments.append(.value(variables[trimmed] ?? ""))
            rest = end + 2
        }
        segments.append(.literal(text(rest..<bytes.count)))
        return segments
    }

    static func fill(_ template: String, _ variables: [String: String], _ transform: (String) -> String) -> String {
        fillSegments(template, variables).map { segment in
            switch segment {
            case .literal(let literal): literal
            case .value(let value): transform(value)
            }
        }.joined()
    }
}
