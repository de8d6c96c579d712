import Foundation

/// What an e-mail address may be, and the key it is compared by: one rule for the people intake
/// keeps (contacts, representatives, organizations, senders of mail taken in) and the sign-ins
/// the gateway keeps, since both end up in mail headers (`To: <…>`) and SMTP commands
/// (`RCPT TO`) as they are stored. Notification checks again, stricter, what it hands the relay
/// (ASCII only: `EmailAddress.isValid` in NotificationCore).
public enum EmailAddressRule {
    /// `local@domain`: one `@`, a non-empty local part, a domain of at least two non-empty labels,
    /// at most 254 bytes (RFC 5321), and nowhere a blank (line breaks included), a control
    /// character, an invisible formatting character (zero-width space, direction mark) or one of
    /// `<>()[],;:"\`. A line break or a bracket would add headers or commands to someone's mail;
    /// an invisible character makes an address that reads like another's in every list.
    public static func isWellFormed(_ text: String) -> Bool {
        guard text.utf8.count <= 254, !text.unicodeScalars.contains(where: isForbidden) else { return false }
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && labels.allSatisfy { !$0.isEmpty }
    }

    /// The key an address is looked up and compared by: lower-cased and in Unicode's composed
    /// form (NFC), so `zé@…` typed with a combining accent (as some keyboards, pasted text and
    /// systems send it) is the address stored with `é`.
    public static func key(_ text: String) -> String {
        text.lowercased().precomposedStringWithCanonicalMapping
    }

    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        return properties.isWhitespace || properties.generalCategory == .control || properties.generalCategory == .format
            || properties.isDefaultIgnorableCodePoint || "<>()[],;:\"\\".unicodeScalars.contains(scalar)
    }
}
