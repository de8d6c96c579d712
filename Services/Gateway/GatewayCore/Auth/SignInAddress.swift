import Foundation
import ServiceKit

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
        EmailAddressRule.key(email.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Why `email` cannot be a sign-in's address, `nil` when it can: the rule of every address
    /// the deployment keeps (``EmailAddressRule/isWellFormed(_:)``: no blank, control, invisible
    /// character or bracket; one `@` before a dotted domain; at most 254 bytes).
    public static func problem(_ email: String) -> APIError.Detail? {
        guard EmailAddressRule.isWellFormed(normalized(email)) else {
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
