import ServiceKit
import Testing

/// The one rule for e-mail addresses (intake's people and mail senders, the gateway's sign-ins):
/// nothing that could add a header or an SMTP command, or read like another address.
@Suite("E-mail address rule")
struct EmailAddressTests {
    @Test("Ordinary addresses, accents and sub-domains pass; the key is lower-case and composed")
    func ordinary() {
        for address in ["ana@acme.com.br", "joão.silva+suporte@empresa.example", "zé@exemplo.com", "a@b.co"] {
            #expect(EmailAddressRule.isWellFormed(address), "\(address)")
        }
        #expect(EmailAddressRule.key("Ze\u{301}@Acme.COM") == EmailAddressRule.key("zé@acme.com"))
        #expect(EmailAddressRule.key("Ze\u{301}@Acme.COM") == "zé@acme.com")
    }

    @Test("Line breaks, blanks, controls, invisible characters, brackets, a bad domain or over 254 bytes are refused")
    func refused() {
        let refused = [
            "x@acme.example\r\nX-Evil: 1", "ana silva@acme.com", "ana@acme.com\u{0}", "ana\u{200B}@acme.com", "ana@ac\u{202E}me.com",
            "<ana@acme.com>", "ana@acme.com>", "a(b)@acme.com", "a,b@acme.com", "a;b@acme.com", "a:b@acme.com", "\"a\"@acme.com",
            "a\\b@acme.com", "ana@[127.0.0.1]", "ana", "@acme.com", "ana@acme", "ana@.com", "ana@acme.", "ana@acme..com",
            "ana@b@acme.com", String(repeating: "a", count: 250) + "@x.com", "",
        ]
        for address in refused {
            #expect(!EmailAddressRule.isWellFormed(address), "\(address.debugDescription)")
        }
    }
}
