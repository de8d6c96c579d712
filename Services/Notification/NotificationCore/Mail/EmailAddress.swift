import Foundation

/// A pragmatic check of an e-mail address: one `@`, a local part of printable ASCII without
/// spaces or specials, and a domain of dot-separated labels. Enough to refuse what a relay would
/// refuse anyway (and header injection), not a full RFC 5321 parser.
enum EmailAddress {
    static func isValid(_ text: String) -> Bool {
        // Checked on the UTF-8 bytes (every allowed character is ASCII): no sets built per call.
        let bytes = Array(text.utf8)
        guard bytes.count <= 254, let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { return false }
        let local = bytes[..<at], domain = bytes[(at + 1)...]
        guard !local.isEmpty, local.count <= 64, !domain.isEmpty else { return false }
        guard local.allSatisfy(isLocalByte), local.first != dot, local.last != dot,
              !zip(local, local.dropFirst()).contains(where: { $0 == dot && $1 == dot }) else { return false }
        return domain.split(separator: dot, omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.allSatisfy(isLabelByte) && label.first != hyphen && label.last != hyphen
        }
    }

    private static let dot = UInt8(ascii: "."), hyphen = UInt8(ascii: "-")
    private static let localSpecials: [UInt8] = Array("!#$%&'*+-/=?^_`{|}~.".utf8)

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
    }

    private static func isLocalByte(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || localSpecials.contains(byte)
    }

    private static func isLabelByte(_ byte: UInt8) -> Bool { isAlphanumeric(byte) || byte == hyphen }

    /// Lower-cased, trimmed: the key subscriptions and the log use for a person's address.
    static func normalized(_ text: String) -> String {
        // ASCII without blanks (every valid address): nothing to trim, lower-cased on bytes.
        let bytes = text.utf8
        if bytes.allSatisfy({ $0 < 0x80 && $0 != 0x20 && $0 != 0x09 }) {
            guard bytes.contains(where: { $0 >= 0x41 && $0 <= 0x5a }) else { return text }
            return String(decoding: bytes.map { $0 >= 0x41 && $0 <= 0x5a ? $0 + 0x20 : $0 }, as: UTF8.self)
        }
        return text.trimmingCharacters(in: .whitespaces).lowercased()
    }
}
