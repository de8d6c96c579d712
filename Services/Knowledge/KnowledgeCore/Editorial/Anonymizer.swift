import Foundation

/// Strips what identifies a customer from a question or answer before it is published: the
/// organization's and contact's names, the ticket's code and id (given), and anything that looks
/// like an e-mail address, a phone number, a CPF or a CNPJ, or a ticket code (`#1234`,
/// `OC-2024-000123`).
public enum Anonymizer {
    /// The text with `codes` (the ticket's code and id), identifying patterns and `names` (the
    /// organization's and contact's) replaced by placeholders. Patterns go first, so an address
    /// such as `maria@acme.com.br` becomes `[e-mail]` whole instead of losing only the names in it.
    public static func anonymize(_ text: String, names: [String], codes: [String]) -> String {
        var result = text
        for code in codes where code.count >= 3 {
            result = result.replacingOccurrences(of: code, with: "[chamado]", options: [.caseInsensitive])
        }
        for (expression, replacement) in patterns {
            result = expression.stringByReplacingMatches(in: result, range: NSRange(result.startIndex..., in: result), withTemplate: replacement)
        }
        for name in names.sorted(by: { $0.count > $1.count }) where name.count >= 3 {
            result = result.replacingOccurrences(of: name, with: "[cliente]", options: [.caseInsensitive, .diacriticInsensitive])
            // First names on their own ("Maria" of "Maria Souza").
            for part in name.split(separator: " ") where part.count >= 4 {
                result = replaceWord(String(part), in: result, with: "[cliente]")
            }
        }
        return result
    }

    /// What identifies someone whatever the ticket: e-mail addresses, CNPJs, CPFs, phone numbers,
    /// ticket codes (`#1234`, `OC-2024-000123`, and this system's own `2026-000123`).
    private static let patterns: [(NSRegularExpression, String)] = [
        (#"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#, "[e-mail]"),
        (#"\b\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}\b"#, "[CNPJ]"),
        (#"\b\d{3}\.?\d{3}\.?\d{3}-?\d{2}\b"#, "[CPF]"),
        (#"(\+?55\s?)?\(?\b\d{2}\)?\s?9?\d{4}[-\s]?\d{4}\b"#, "[telefone]"),
        (#"#\d{3,}"#, "[chamado]"),
        (#"\b[A-Z]{2,5}-\d{4}-\d{3,}\b"#, "[chamado]"),
        (#"\b\d{4}-\d{6}\b"#, "[chamado]"),
    ].map { pattern, replacement in
        // The patterns are constants: a malformed one is a programming error caught by the tests.
        (try! NSRegularExpression(pattern: pattern), replacement)
    }

    private static func replaceWord(_ word: String, in text: String, with replacement: String) -> String {
        guard let expression = try? NSRegularExpression(pattern: "\\b" + NSRegularExpression.escapedPattern(for: word) + "\\b",
                                                        options: [.caseInsensitive]) else { return text }
        return expression.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                                   withTemplate: NSRegularExpression.escapedTemplate(for: replacement))
    }
}
