import Foundation

/// What a sign-in's e-mail address is stored and looked up as, and what one may be.
///
/// One person, one account: the address is compared after trimming the blanks around it,
/// lower-casing it and composing it (Unicode NFC), so `José@x.com` typed with a combining accent
/// (as some keyboards and pasted text send it) is the same account as with `é`, not a second
/// one that looks the same. Addresses holding a blank, a control or an invisible formatting
/// character (a zero-width space, a direction mark) are refused outright: they would make an
/// account that reads like another's in every list.
public enum SignInAddress {
    /// The stored form of `email` (the sign-in's key, and the login throttle's).
    public static func normalized(_ email: String) -> String {
        email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().precomposedStringWithCanonicalMapping
    }

    /// Why `email` cannot be a sign-in's address, `nil` when it can: one `@` between a
    /// non-empty name and a domain with a dot, no blank, control or invisible character, at most
    /// 254 bytes (RFC 5321).
    public static func problem(_ email: String) -> APIError.Detail? {
        let address = normalized(email)
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        let hidden = address.unicodeScalars.contains {
            $0.properties.isWhitespace || $0.properties.generalCategory == .control || $0.properties.generalCategory == .format
                || $0.properties.isDefaultIgnorableCodePoint
        }
        guard parts.count == 2, !parts[0].isEmpty, parts[1].contains("."), !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
              !hidden, address.utf8.count <= 254 else {
            return .init(field: "email", reason: "invalid_format", pt: "E-mail inválido.", en: "Invalid e-mail.")
        }
        return nil
    }

    /// - Throws: 400 `INVALID_ARGUMENT` naming `email` when ``problem(_:)`` finds one.
    public static func check(_ email: String) throws {
        if let problem = problem(email) {
            throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "E-mail inválido.", en: "Invalid e-mail.", details: [problem])
        }
    }
}
