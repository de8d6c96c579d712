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
