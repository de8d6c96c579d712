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
}
