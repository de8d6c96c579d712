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
        if !code.isEmpty && !subject.contains(code) { subject = "[\(code)] " + subject }
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
                + body.replacingOccurrences(of: "\n\n", with: "</p><p>").replacingOccurrences(of: "\n", with: "<br>")
                + "</p></body></html>"
        } else {
            html = fill(template.html, variables, HTML.escape)
        }
        return RenderedMessage(subject: subject, text: text, html: html)
    }

    enum Segment { case literal(String), value(String) }

    static func fillSegments(_ template: String, _ variables: [String: String]) -> [Segment] {
        var segments: [Segment] = []
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            segments.append(.literal(String(rest[..<open.lowerBound])))
            let after = rest[open.upperBound...]
            guard let close = after.range(of: "}}") else {
                segments.append(.literal(String(rest[open.lowerBound...])))
                return segments
            }
            let name = after[..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            segments.append(.value(variables[name] ?? ""))
            rest = after[close.upperBound...]
        }
        segments.append(.literal(String(rest)))
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
