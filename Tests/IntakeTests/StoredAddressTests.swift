import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// Addresses and keys stored before the directory review's rules (2026-12-02), made to follow
/// them by migration 35 and ``IntakeContext/checkStoredAddresses()``.
@Suite("Addresses stored before today's rules", .serialized)
struct StoredAddressTests {
    @Test("rows marked by migration 35: an address with a line break or brackets is cleared (kept in refused_email), one with blanks around it trimmed, a key in decomposed Unicode rewritten to lower-case NFC (a colleague's composed address then shares it: both found, the older first); new rows are checked already; a second pass changes nothing",
          arguments: TestEngines.all)
    func storedAddressesFollowTheRule(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let injected = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let spaced = try harness.contact(acme, "João", email: "joao@acme.example")
        let decomposed = try harness.contact(acme, "Zé Antigo", email: "ze-antigo@acme.example")
        let composed = try harness.contact(acme, "Zé Novo", email: "zé@acme.example")
        var draft = IntakeV1.Representative()
        draft.name = "Revenda Sul"
        draft.email = "contato@sul.example"
        let representative = try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)
        // New rows went through the rule: nothing to look at.
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM contacts WHERE address_checked = 0").integerValue } == 0)
        #expect(try harness.intake.checkStoredAddresses() == IntakeContext.StoredAddressCheck())

        // What an older intake stored (and migration 35 marked).
        let oldZe = "Ze\u{301}@Acme.example"
        try harness.database.write { tx in
            func old(_ table: String, _ id: String, _ email: String, key: String?) throws {
                if let key {
                    try tx.execute("UPDATE \(table) SET email = ?, email_key = ?, address_checked = 0 WHERE id = ?", [.text(email), .text(key), .text(id)])
                } else {
                    try tx.execute("UPDATE \(table) SET email = ?, address_checked = 0 WHERE id = ?", [.text(email), .text(id)])
                }
            }
            try old("contacts", injected.id, "maria@acme.example\r\nBcc: intruso@evil.example", key: "maria@acme.example\r\nbcc: intruso@evil.example")
            try old("contacts", spaced.id, " joao@acme.example\n", key: " joao@acme.example\n")
            try old("contacts", decomposed.id, oldZe, key: oldZe.lowercased())
            try old("representatives", representative.id, "<contato@sul.example>", key: "<contato@sul.example>")
            try old("organizations", acme.id, "financeiro@acme.example>", key: nil)
        }
        #expect(try harness.intake.checkStoredAddresses() == IntakeContext.StoredAddressCheck(rekeyed: 2, cleared: 3))
        func contact(_ id: String) throws -> IntakeV1.Contact {
            var get = IntakeV1.GetContactRequest()
            get.contactID = id
            return try harness.client.call(IntakeV1.Intake.getContact, get, options: harness.staff)
        }
        #expect(try contact(injected.id).email == "" && contact(spaced.id).email == "joao@acme.example" && contact(decomposed.id).email == oldZe)
        let refused = try harness.database.read { tx in
            try tx.query("""
                SELECT refused_email FROM contacts WHERE refused_email <> ''
                UNION ALL SELECT refused_email FROM representatives WHERE refused_email <> ''
                UNION ALL SELECT refused_email FROM organizations WHERE refused_email <> ''
                """).map { try $0.text("refused_email") }
        }
        #expect(Set(refused) == ["maria@acme.example\r\nBcc: intruso@evil.example", "<contato@sul.example>", "financeiro@acme.example>"])
        var getOrganization = IntakeV1.GetOrganizationRequest()
        getOrganization.organizationID = acme.id
        #expect(try harness.client.call(IntakeV1.Intake.getOrganization, getOrganization, options: harness.staff).email == "")
        var getRepresentative = IntakeV1.RepresentativeRequest()
        getRepresentative.representativeID = representative.id
        #expect(try harness.client.call(IntakeV1.Intake.getRepresentative, getRepresentative, options: harness.staff).email == "")

        // Either form of Zé's address finds both Zés, the older first.
        for typed in ["zé@acme.example", "ze\u{301}@acme.example", "ZÉ@ACME.EXAMPLE"] {
            var lookup = IntakeV1.LookupCustomersRequest()
            lookup.query = typed
            let found = try harness.client.call(IntakeV1.Intake.lookupCustomers, lookup, options: harness.staff).contacts.map(\.id)
            #expect(Set(found) == [decomposed.id, composed.id], "\(typed.debugDescription)")
        }
        let keys = try harness.database.read { tx in
            try tx.query("SELECT id FROM contacts WHERE email_key = ? ORDER BY created_at, id", [.text("zé@acme.example")]).map { try $0.text("id") }
        }
        #expect(keys == [decomposed.id, composed.id])
        // Once.
        #expect(try harness.intake.checkStoredAddresses() == IntakeContext.StoredAddressCheck())
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM contacts WHERE address_checked = 0").integerValue } == 0)
    }
}
