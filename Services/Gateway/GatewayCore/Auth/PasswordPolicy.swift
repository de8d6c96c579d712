/// What a password must satisfy: at least 12 characters, at least three of lower case, upper
/// case, digits and symbols (or 20+ characters), not a well-known password and not containing the
/// e-mail's name.
public struct PasswordPolicy: Sendable {
    public var minimumLength = 12

    public init() {}

    static let common: Set<String> = ["123456789012", "password1234", "senha1234567", "qwertyuiop12", "ocorrencias123",
                                      "Password123!", "Senha@123456", "admin1234567", "123456789abc"]

    /// The violations of `password`, empty when it is acceptable.
    public func violations(_ password: String, email: String) -> [APIError.Detail] {
        var out: [APIError.Detail] = []
        if password.count < minimumLength {
            out.append(.init(field: "password", reason: "too_short", pt: "A senha precisa ter pelo menos \(minimumLength) caracteres.",
                             en: "The password needs at least \(minimumLength) characters."))
        }
        var classes = 0
        if password.contains(where: { $0.isLowercase }) { classes += 1 }
        if password.contains(where: { $0.isUppercase }) { classes += 1 }
        if password.contains(where: { $0.isNumber }) { classes += 1 }
        if password.contains(where: { !$0.isLetter && !$0.isNumber }) { classes += 1 }
        if classes < 3 && password.count < 20 {
            out.append(.init(field: "password", reason: "too_simple",
                             pt: "Use ao menos três tipos: minúsculas, maiúsculas, dígitos e símbolos (ou 20+ caracteres).",
                             en: "Use at least three kinds: lower case, upper case, digits and symbols (or 20+ characters)."))
        }
        let local = email.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        if Self.common.contains(password) {
            out.append(.init(field: "password", reason: "guessable", pt: "Essa senha é fácil de adivinhar.",
                             en: "That password is easy to guess."))
        } else if local.count >= 4 && password.lowercased().contains(local) {
            // Said as it is: "easy to guess" left people wondering what was wrong with a long,
            // mixed password that merely held their name.
            out.append(.init(field: "password", reason: "contains_email_name",
                             pt: "A senha não pode conter o nome do e-mail (\(local)).",
                             en: "The password must not contain the e-mail's name (\(local))."))
        }
        return out
    }

    /// - Throws: ``APIError`` 422 `WEAK_PASSWORD` listing the violations.
    public func check(_ password: String, email: String) throws {
        let found = violations(password, email: email)
        if !found.isEmpty {
            throw APIError(status: 422, code: "WEAK_PASSWORD", pt: "A senha não atende à política.",
                           en: "The password does not meet the policy.", details: found)
        }
    }
}
