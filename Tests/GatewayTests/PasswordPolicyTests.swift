import GatewayCore
import Testing

@Suite("the password policy's reasons")
struct PasswordPolicyTests {
    @Test("a password holding the e-mail's name says so (contains_email_name, naming it), not that it is easy to guess; a well-known one is guessable; a good one passes")
    func reasons() {
        let policy = PasswordPolicy()
        let named = policy.violations("Cliente-Maria-2026!", email: "maria@acme.com.br")
        #expect(named.map(\.reason) == ["contains_email_name"])
        #expect(named.first?.messagePT?.contains("maria") == true && named.first?.messageEN?.contains("e-mail's name") == true)
        #expect(policy.violations("Password123!", email: "ana@vendor.com").map(\.reason) == ["guessable"])
        #expect(policy.violations("Cliente-Acme-2026!", email: "maria@acme.com.br").isEmpty)
        #expect(policy.violations("curta", email: "ana@vendor.com").map(\.reason) == ["too_short", "too_simple"])
    }

    @Test("well-known passwords are judged on their core (digits and symbols around dropped, substitutions undone, case ignored): Password1234, Senha@2026!, P@ssw0rd-2024, Qwertyuiop!9 and digits only are guessable; one character repeated (20+ of it) or a handful of them is repetitive; past 1024 bytes is too long, however few characters (combining marks); a long passphrase passes")
    func commonAndRepetitive() {
        let policy = PasswordPolicy()
        for guessable in ["Password1234", "Senha@2026!", "P@ssw0rd-2024", "Qwertyuiop!9", "123456789012!", "#Admin2026#!", "Mudar@123456"] {
            #expect(policy.violations(guessable, email: "ana@vendor.com").map(\.reason).contains("guessable"), "\(guessable)")
        }
        #expect(policy.violations("aaaaaaaaaaaaaaaaaaaaaaaa", email: "ana@vendor.com").map(\.reason) == ["repetitive"])
        #expect(policy.violations("abababababababababab12", email: "ana@vendor.com").map(\.reason) == ["repetitive"])
        // 12 characters as a person counts them, 3 601 bytes: too long (and nothing else said).
        let marks = String(repeating: "a" + String(repeating: "\u{301}", count: 150), count: 12)
        #expect(marks.count == 12 && marks.utf8.count > 1024)
        #expect(policy.violations(marks, email: "ana@vendor.com").map(\.reason) == ["too_long"])
        #expect(policy.violations(String(repeating: "Ab1-", count: 257), email: "ana@vendor.com").map(\.reason) == ["too_long"])
        // What people really choose still passes.
        for good in ["Cliente-Acme-2026!", "cavalo correto bateria grampo", "Adm1n-Passw0rd!", "Us3r-Passw0rd!x", "Café-Forte-2026!"] {
            #expect(policy.violations(good, email: "ana@vendor.com").isEmpty, "\(good)")
        }
    }
}
