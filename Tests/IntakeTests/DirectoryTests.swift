import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Tax ids")
struct TaxIDTests {
    @Test("CPF and CNPJ, including the alphanumeric CNPJ, are checked by their check digits")
    func checkDigits() {
        #expect(TaxID.parse("529.982.247-25") == .cpf("52998224725"))
        #expect(TaxID.parse("529.982.247-24") == nil)
        #expect(TaxID.parse("111.111.111-11") == nil, "repeated digits are not issued")
        #expect(TaxID.parse("11.222.333/0001-81") == .cnpj("11222333000181"))
        #expect(TaxID.parse("11.222.333/0001-82") == nil)
        // The Receita Federal's example of the alphanumeric format.
        #expect(TaxID.parse("12.ABC.345/01DE-35") == .cnpj("12ABC34501DE35"))
        #expect(TaxID.parse("12.abc.345/01de-35") == .cnpj("12ABC34501DE35"), "letters are upper-cased")
        #expect(TaxID.parse("12.ABC.345/01DE-36") == nil)
        #expect(TaxID.parse("12.ABC.345/01DE-3A") == nil, "check digits are digits")
        #expect(TaxID.parse("AB12CD34EF5602") == .cnpj("AB12CD34EF5602"))
        #expect(TaxID.parse("1234") == nil)
    }

    @Test("white space in a tax id is punctuation: tabs, line breaks and the no-break space of a pasted value; letters, zeros and repeated characters as before")
    func whiteSpaceAndEdges() {
        #expect(TaxID.parse("529.982.247-25\t") == .cpf("52998224725"))
        #expect(TaxID.parse("529\u{A0}982\u{A0}247\u{A0}25") == .cpf("52998224725"))
        #expect(TaxID.parse("\n11.222.333/0001-81\r\n") == .cnpj("11222333000181"))
        #expect(TaxID.parse(" 12 abc 345 01de 35 ") == .cnpj("12ABC34501DE35"))
        #expect(TaxID.strip("11 222\t333/0001-81") == "11222333000181", "the lookup strips the same way")
        // Leading zeros are part of the number, repeated digits are not issued.
        #expect(TaxID.parse("000.000.001-91") == .cpf("00000000191"))
        #expect(TaxID.parse("00.000.000/0000-00") == nil)
        #expect(TaxID.parse("AA.AAA.AAA/AAAA-00") == nil, "the alphanumeric CNPJ's check digits still count")
        #expect(TaxID.parse("１１.２２２.３３３/０００１-８１") == nil, "full-width digits are not digits here")
    }
}

@Suite("Customer directory", .serialized)
struct DirectoryTests {
    @Test("an organization with bad fields is refused naming each one; a valid one gets a code", arguments: TestEngines.all)
    func organizations(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        var bad = IntakeV1.Organization()
        bad.taxID = "11.222.333/0001-99"
        bad.email = "not-an-address"
        let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.createOrganization, bad, options: harness.staff) }
        #expect(error?.code == .invalidArgument)
        #expect(Set(error?.violations.map(\.field) ?? []) == ["name", "kind", "tax_id", "email"])
        #expect(error?.violations.first { $0.field == "tax_id" }?.reason == "invalid_check_digits")
        #expect(error?.violations.allSatisfy { !$0.descriptionPT.isEmpty && !$0.descriptionEN.isEmpty } == true)
        #expect(try harness.count("organizations") == 0)

        let acme = try harness.organization("Acme Indústria Ltda", taxID: "12.ABC.345/01DE-35")
        #expect(acme.code == "C000001")
        #expect(acme.taxID == "12ABC34501DE35")
        let second = try harness.organization("Beta Comércio", taxID: "11.222.333/0001-81")
        #expect(second.code == "C000002")
        // A new organization is active whatever `active` says (proto3 cannot tell it from "not given").
        var unsaid = IntakeV1.Organization()
        unsaid.name = "Gama Serviços"
        unsaid.kind = .organizationCustomer
        unsaid.taxID = "04252011000110"
        #expect(try harness.client.call(IntakeV1.Intake.createOrganization, unsaid, options: harness.staff).active)
        let duplicate = rpcError { _ = try harness.organization("Outra", taxID: "12ABC34501DE35") }
        #expect(duplicate?.code == .alreadyExists)

        // Customers may not manage the directory.
        let contact = try harness.contact(acme, "Maria Souza", email: "maria@acme.example")
        let denied = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.createOrganization, acme,
                                        options: harness.options(IntakeHarness.customer(contact)))
        }
        #expect(denied?.code == .permissionDenied)
        // A company administrator adds contacts to their own company only.
        let admin = try harness.contact(acme, "Ana Admin", email: "ana@acme.example", admin: true)
        var colleague = IntakeV1.Contact()
        colleague.organizationID = acme.id
        colleague.name = "João Lima"
        colleague.email = "joao@acme.example"
        colleague.authorized = true
        let added = try harness.client.call(IntakeV1.Intake.addContact, colleague,
                                            options: harness.options(IntakeHarness.customer(admin, admin: true)))
        #expect(added.active && added.organizationID == acme.id)
        colleague.organizationID = second.id
        let foreign = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.addContact, colleague,
                                        options: harness.options(IntakeHarness.customer(admin, admin: true)))
        }
        #expect(foreign?.code == .permissionDenied)
    }

    @Test("lookup by code, name prefix (accents and case ignored), CPF/CNPJ and e-mail", arguments: TestEngines.all)
    func lookup(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme Indústria Ltda", taxID: "12.ABC.345/01DE-35", code: "ACM01")
        let beta = try harness.organization("Beta Comércio", taxID: "11222333000181")
        _ = try harness.contact(acme, "José Álvares", email: "Jose.Alvares@Acme.example")
        _ = try harness.contact(beta, "Joana Prado", email: "joana@beta.example")
        func lookup(_ query: String) throws -> IntakeV1.LookupCustomersResponse {
            var request = IntakeV1.LookupCustomersRequest()
            request.query = query
            return try harness.client.call(IntakeV1.Intake.lookupCustomers, request, options: harness.staff)
        }
        #expect(try lookup("acm01").organizations.map(\.id) == [acme.id])
        #expect(try lookup("acme ind").organizations.map(\.id) == [acme.id])
        #expect(try lookup("ACME INDUSTRIA").organizations.map(\.id) == [acme.id])
        #expect(try lookup("12.ABC.345/01DE-35").organizations.map(\.id) == [acme.id])
        #expect(try lookup("11.222.333/0001-81").organizations.map(\.id) == [beta.id])
        #expect(try lookup("jose.alvares@acme.example").contacts.map(\.name) == ["José Álvares"])
        #expect(try lookup("jo").contacts.map(\.name).sorted() == ["Joana Prado", "José Álvares"])
        #expect(try lookup("zzz").organizations.isEmpty)
    }

    @Test("lookup matches the start of any word of a name, not only of the whole name: whole-name matches first, then later words, each once; accents and case ignored; a renamed or deleted person's old words no longer match", arguments: TestEngines.all)
    func lookupByAnyWord(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Indústria Acme Silva Ltda", taxID: "11222333000181")
        let silvaCorp = try harness.organization("Silva Comércio", taxID: "", kind: .organizationProspect)
        let maria = try harness.contact(acme, "Maria da Silva", email: "maria@acme.example")
        let silvio = try harness.contact(acme, "Sílvio Prado", email: "silvio@acme.example")
        let ana = try harness.contact(acme, "Ana Silva Silveira", email: "ana@acme.example")
        let jose = try harness.contact(acme, "José  Álvares   Souza", email: "jose@acme.example")
        let bruno = try harness.contact(acme, "Bruno Silvestre", email: "bruno@acme.example")
        var draft = IntakeV1.Representative()
        draft.name = "Revenda Sul Sistemas"
        draft.email = "contato@revenda.example"
        draft.organizationIDs = [acme.id]
        let representative = try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)
        func lookup(_ query: String, limit: Int32 = 0) throws -> IntakeV1.LookupCustomersResponse {
            var request = IntakeV1.LookupCustomersRequest()
            request.query = query
            request.limit = limit
            return try harness.client.call(IntakeV1.Intake.lookupCustomers, request, options: harness.staff)
        }
        #expect(try lookup("Silva").contacts.map(\.id) == [maria.id, ana.id], "by the matched word: 'silva', then 'silva silveira'")
        #expect(try lookup("SILV").contacts.map(\.id) == [silvio.id, maria.id, ana.id, bruno.id], "the whole name first; Ana once")
        // Ana's two words fill the first page of three: the next page finds Bruno.
        #expect(try lookup("silv", limit: 4).contacts.map(\.id) == [silvio.id, maria.id, ana.id, bruno.id])
        #expect(try lookup("da sil").contacts.map(\.id) == [maria.id], "several words in their order")
        #expect(try lookup("silva maria").contacts.isEmpty)
        #expect(try lookup("alvares souza").contacts.map(\.id) == [jose.id])
        #expect(try lookup("souza").contacts.map(\.id) == [jose.id])
        #expect(try lookup("ilva").contacts.isEmpty, "the start of a word, not any part")
        #expect(try lookup("silva").organizations.map(\.id) == [silvaCorp.id, acme.id])
        #expect(try lookup("ltda").organizations.map(\.id) == [acme.id])
        #expect(try lookup("sistemas").representatives.map(\.id) == [representative.id])
        #expect(try lookup("silv", limit: 2).contacts.map(\.id) == [silvio.id, maria.id])
        #expect(try lookup("silv", limit: 1).contacts.map(\.id) == [silvio.id])

        var renamed = maria
        renamed.name = "Maria Pereira"
        _ = try harness.client.call(IntakeV1.Intake.updateContact, renamed, options: harness.staff)
        #expect(try lookup("silva").contacts.map(\.id) == [ana.id])
        #expect(try lookup("pereira").contacts.map(\.id) == [maria.id])
        var organization = acme
        organization.name = "Acme Indústria"
        _ = try harness.client.call(IntakeV1.Intake.updateOrganization, organization, options: harness.staff)
        #expect(try lookup("ltda").organizations.isEmpty)
        #expect(try lookup("industria").organizations.map(\.id) == [acme.id])
        var changed = representative
        changed.name = "Revenda Norte"
        _ = try harness.client.call(IntakeV1.Intake.updateRepresentative, changed, options: harness.staff)
        #expect(try lookup("sistemas").representatives.isEmpty)
        #expect(try lookup("norte").representatives.map(\.id) == [representative.id])
        var delete = IntakeV1.DeleteContactRequest()
        delete.contactID = jose.id
        _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: harness.staff)
        #expect(try lookup("souza").contacts.isEmpty)
        // comercio, industria, pereira, prado, silva silveira, silveira, silvestre, norte.
        #expect(try harness.count("directory_name_words") == 8)
    }

    @Test("names stored before the words table are found by any word once intake has migrated", arguments: TestEngines.all)
    func lookupByAnyWordAfterUpgrade(engine: DatabaseEngine) throws {
        let older = try OlderDatabase(engine, before: 32, prefix: "intake-name-words")
        try older.database.write { tx in
            try OlderDatabase.insertAcme(tx)
            try tx.execute("""
                INSERT INTO contacts (id, organization_id, name, name_key, email, email_key, created_at) VALUES
                ('c2', 'o1', 'Maria da Silva', 'maria da silva', 'silva@acme.example', 'silva@acme.example', 0),
                ('c3', 'o1', 'João Silva Santos', 'joao silva santos', 'joao@acme.example', 'joao@acme.example', 0)
                """)
            try tx.execute("INSERT INTO organizations (id, code, name, name_key, kind, created_at) VALUES ('o2', 'C000002', 'Grupo Silva', 'grupo silva', 1, 0)")
            try tx.execute("INSERT INTO representatives (id, name, name_key, created_at) VALUES ('r1', 'Revenda Silva', 'revenda silva', 0)")
        }
        let harness = try older.harness()
        var request = IntakeV1.LookupCustomersRequest()
        request.query = "silva"
        let found = try harness.client.call(IntakeV1.Intake.lookupCustomers, request, options: harness.staff)
        #expect(found.contacts.map(\.id) == ["c2", "c3"])
        #expect(found.organizations.map(\.id) == ["o2"])
        #expect(found.representatives.map(\.id) == ["r1"])
        request.query = "santos"
        #expect(try harness.client.call(IntakeV1.Intake.lookupCustomers, request, options: harness.staff).contacts.map(\.id) == ["c3"])
        #expect(try harness.count("directory_name_words") == 6)
    }

    @Test("a contact linked to a ticket cannot be deleted, only deactivated", arguments: TestEngines.all)
    func deleteOnlyUnlinked(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let unused = try harness.contact(acme, "Sem Ticket", email: "sem@acme.example")
        let used = try harness.contact(acme, "Com Ticket", email: "com@acme.example")
        var open = IntakeHarness.request(acme)
        open.contactID = used.id
        _ = try harness.client.call(IntakeV1.Intake.openTicket, open, options: harness.staff)

        var delete = IntakeV1.DeleteContactRequest()
        delete.contactID = unused.id
        _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: harness.staff)
        delete.contactID = used.id
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.deleteContact, delete, options: harness.staff) }
        #expect(refused?.code == .failedPrecondition)
        var deactivate = IntakeV1.UpdateContactStatusRequest()
        deactivate.contactID = used.id
        deactivate.active = false
        #expect(try harness.client.call(IntakeV1.Intake.setContactActive, deactivate, options: harness.staff).active == false)
        #expect(try harness.count("contacts") == 1)
    }
}
