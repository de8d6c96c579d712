import Foundation

/// A pragmatic check of an e-mail address: one `@`, a local part of printable ASCII without
/// spaces or specials, and a domain of dot-separated labels. Enough to refuse what a relay would
/// refuse anyway (and header injection), not a full RFC 5321 parser.
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        guard text.utf8.count <= 254, let at = text.lastIndex(of: "@") else { return false }
        let local = text[..<at], domain = text[text.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty else { return false }
        let localAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.")
        guard local.allSatisfy({ localAllowed.contains($0) }), !local.hasPrefix("."), !local.hasSuffix("."),
              !local.contains("..") else { return false }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 1 else { return false }
        let labelAllowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy { labelAllowed.contains($0) }
                && !label.hasPrefix("-") && !label.hasSuffix("-")
        }
    }

    /// Lower-cased, trimmed: the key subscriptions and the log use for a person's address.
    static func normalized(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
