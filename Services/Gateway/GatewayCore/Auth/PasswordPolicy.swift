/// What a password must satisfy: at least 12 characters (as a person counts them: letters with
/// their accents, an emoji, each one), at most 1024 bytes of UTF-8 (the bound that matters to
/// Argon2id and to the checks here: a "character" may carry any number of combining marks), at
/// least three of lower case, upper case, digits and symbols (or 20+ characters), at least five
/// different characters, not a well-known password and not containing the e-mail's name.
///
/// "Well-known" is judged on the password's core: the letters left once the digits and symbols
/// around it are dropped (`Senha@2026!`, `P@ssw0rd2024` → `senha`, `password`), the usual
/// substitutions undone (`0`→o, `1`→i, `3`→e, `4`/`@`→a, `5`/`$`→s, `7`→t) and case ignored; a
/// password with no letters at all (`123456789012!`) is well-known too. A list that only held
/// nine exact spellings let `Password1234` and `Senha@2026!` through.
public struct PasswordPolicy: Sendable {
    public var minimumLength = 12
    public var maximumBytes = 1024
    public var minimumDistinct = 5

    public init() {}

    /// Cores of passwords people pick first (lower case, letters only), in Portuguese and English.
    static let commonCores: Set<String> = [
        "password", "passw", "pass", "senha", "minhasenha", "novasenha", "mudar", "mudarsenha", "mudesenha", "trocar", "trocarsenha",
        "changeme", "qwerty", "qwertyuiop", "asdfgh", "asdfghjkl", "zxcvbn", "zxcvbnm", "qazwsx", "abc", "abcd", "abcdef", "abcdefgh",
        "abcdefghij", "admin", "administrator", "administrador", "root", "user", "usuario", "login", "acesso", "welcome", "bemvindo",
        "letmein", "iloveyou", "teamo", "brasil", "brazil", "ocorrencias", "ocorrencia", "suporte", "support", "master", "secret",
        "segredo", "default", "teste", "test", "dragon", "monkey", "football", "futebol", "flamengo", "corinthians", "palmeiras",
        "saopaulo", "vasco", "gremio", "santos", "cruzeiro", "sunshine", "princess", "shadow", "superman", "batman", "trustno",
        "aaaaaa", "empresa", "cliente",
    ]

    /// The letters a password is made of once the digits and symbols around them are dropped,
    /// the usual substitutions undone and case ignored (empty: no letters at all).
    static func core(_ password: String) -> String {
        let scalars = Array(password.lowercased().unicodeScalars)
        guard let first = scalars.firstIndex(where: { $0.properties.isAlphabetic }),
              let last = scalars.lastIndex(where: { $0.properties.isAlphabetic }) else { return "" }
        let swaps: [Unicode.Scalar: Character] = ["0": "o", "1": "i", "3": "e", "4": "a", "@": "a", "5": "s", "$": "s", "7": "t"]
        var out = ""
        for scalar in scalars[first...last] {
            if let letter = swaps[scalar] { out.append(letter) } else if scalar.properties.isAlphabetic { out.unicodeScalars.append(scalar) }
        }
        return out
    }

    /// Whether `password` is one of the first a guesser tries (``core(_:)`` in ``commonCores``).
    static func isCommon(_ password: String) -> Bool {
        let core = core(password)
        return core.isEmpty || commonCores.contains(core)
    }

    /// The violations of `password`, empty when it is acceptable.
    public func violations(_ password: String, email: String) -> [APIError.Detail] {
        var out: [APIError.Detail] = []
        if password.count < minimumLength {
            out.append(.init(field: "password", reason: "too_short", pt: "A senha precisa ter pelo menos \(minimumLength) caracteres.",
                             en: "The password needs at least \(minimumLength) characters."))
        }
        if password.utf8.count > maximumBytes {
            out.append(.init(field: "password", reason: "too_long",
                             pt: "A senha pode ter no máximo \(maximumBytes) bytes (letras acentuadas e símbolos ocupam mais de um).",
                             en: "The password may have at most \(maximumBytes) bytes (accented letters and symbols take more than one)."))
            // The other checks would only scan a text refused anyway.
            return out
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
        if Set(password.lowercased()).count < minimumDistinct {
            out.append(.init(field: "password", reason: "repetitive",
                             pt: "Use pelo menos \(minimumDistinct) caracteres diferentes.",
                             en: "Use at least \(minimumDistinct) different characters."))
        }
        let local = email.split(separator: "@").first.map { String($0).lowercased() } ?? ""
        if Self.isCommon(password) {
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
