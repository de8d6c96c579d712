import Foundation
@testable import IntakeCore
import Messages
import RPC
import Storage
import Testing
import TestSupport

/// Custom fields' edges an adversarial review found (2026-12-02): values `Double` and `Int`
/// read that nobody types, a product spelled another way escaping its required fields, choices
/// that could never be picked, and the field changed after tickets exist.
@Suite("Custom field edges", .serialized)
struct CustomFieldEdgeTests {
    static func value(_ key: String, _ text: String) -> IntakeV1.CustomFieldValue {
        var value = IntakeV1.CustomFieldValue()
        value.key = key
        value.value = text
        return value
    }

    static func put(_ harness: IntakeHarness, _ key: String, _ kind: IntakeV1.CustomFieldKind, product: String = "", required: Bool = false,
                    active: Bool = true, choices: [String] = []) throws -> IntakeV1.CustomField {
        var field = IntakeV1.CustomField()
        field.key = key
        field.labelPt = key
        field.kind = kind
        field.product = product
        field.required = required
        field.active = active
        field.choices = choices
        return try harness.client.call(IntakeV1.Intake.putCustomField, field, options: harness.staff)
    }

    @Test("numbers are decimal (no 0x10, NaN, inf, 1e309, 1,5) and dates YYYY-MM-DD in ASCII digits (no +1, no full-width digits); the refused open stores nothing")
    func numbersAndDates() throws {
        #expect(["12", "-3", "+4.5", ".5", "5.", "1e3", "2.5E-4", "0"].allSatisfy(CustomFieldValidation.isNumber), "accepted")
        #expect(!["0x10", "0x1p3", "NaN", "nan", "inf", "Infinity", "1e309", "-1e309", "1,5", "1_000", "", "-", ".", "e5", "1e", "1e+",
                  "١٢", "１２", "12abc"].contains(where: CustomFieldValidation.isNumber), "refused")
        #expect(["2024-02-29", "2026-12-31", "1999-01-01"].allSatisfy(CustomFieldValidation.isDate))
        #expect(!["2026-+1-+5", "+026-01-01", "2026-1-05", "２０２６-01-01", "2026-02-29", "2026-13-01", "2026-00-10", "2026-01-00",
                  "2026-01-01T00:00", "2026/01/01", "01-01-2026"].contains(where: CustomFieldValidation.isDate))
    }

    @Test("on opening, odd numbers and dates are refused naming the field in pt and en; nothing stored", arguments: TestEngines.all)
    func oddValuesRefusedOnOpening(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        _ = try Self.put(harness, "nota", .fieldNumber)
        _ = try Self.put(harness, "emissao", .fieldDate)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        for (number, date) in [("0x10", "2026-+1-+5"), ("NaN", "+026-01-01"), ("1e309", "２０２６-01-01")] {
            var request = IntakeHarness.request(acme)
            request.customFields = [Self.value("nota", number), Self.value("emissao", date)]
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }
            #expect(error?.code == .invalidArgument)
            #expect(Dictionary(uniqueKeysWithValues: (error?.violations ?? []).map { ($0.field, $0.reason) })
                    == ["custom_fields.nota": "not_a_number", "custom_fields.emissao": "not_a_date"], "\(number) \(date)")
            #expect(error?.violations.allSatisfy { !$0.descriptionPT.isEmpty && !$0.descriptionEN.isEmpty } == true)
        }
        #expect(try harness.count("tickets") == 0)
        var request = IntakeHarness.request(acme)
        request.customFields = [Self.value("nota", "-12.50"), Self.value("emissao", "2024-02-29")]
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket?.customFields.map { "\($0.key)=\($0.value)" } == ["emissao=2024-02-29", "nota=-12.50"])
    }

    @Test("a product typed with other case or surrounding spaces is the field's product: its required fields apply, listed and checked alike; the ticket keeps the product trimmed",
          arguments: TestEngines.all)
    func productSpelledOtherwise(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        _ = try Self.put(harness, "nota", .fieldNumber, product: "ERP", required: true)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        for product in [" ERP", "erp", "Erp\t"] {
            var list = IntakeV1.ListCustomFieldsRequest()
            list.product = product
            #expect(try harness.client.call(IntakeV1.Intake.listCustomFields, list, options: asMaria).fields.map(\.key) == ["nota"])
            var request = IntakeHarness.request(acme)
            request.product = product
            #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }?.violations.map(\.field)
                    == ["custom_fields.nota"], "\(product.debugDescription)")
        }
        #expect(try harness.count("tickets") == 0)
        var request = IntakeHarness.request(acme)
        request.product = " erp "
        request.module = " Fiscal "
        request.customFields = [Self.value("nota", "1")]
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        #expect(ticket.product == "erp" && ticket.module == "Fiscal")
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.product == "erp")
        var other = IntakeV1.ListCustomFieldsRequest()
        other.product = "RH"
        #expect(try harness.client.call(IntakeV1.Intake.listCustomFields, other, options: asMaria).fields.isEmpty)
    }

    @Test("choices are kept trimmed, each once, blanks dropped, so every one can be picked; an oversized one is refused naming its place",
          arguments: TestEngines.all)
    func choicesCanBePicked(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let stored = try Self.put(harness, "uf", .fieldChoice, required: true, choices: [" SP", "RJ ", "", "SP", "  "])
        #expect(stored.choices == ["SP", "RJ"])
        #expect(try harness.client.call(IntakeV1.Intake.listCustomFields, IntakeV1.ListCustomFieldsRequest(), options: harness.staff)
            .fields.first?.choices == ["SP", "RJ"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        var request = IntakeHarness.request(acme)
        request.customFields = [Self.value("uf", " SP ")]
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket?.customFields.first?.value == "SP")
        let long = rpcError { _ = try Self.put(harness, "filial", .fieldChoice, choices: ["01", String(repeating: "x", count: 201)]) }
        #expect(long?.violations.map(\.field) == ["choices[1]"])
        let blank = rpcError { _ = try Self.put(harness, "filial", .fieldChoice, choices: [" ", ""]) }
        #expect(blank?.violations.map(\.field) == ["choices"])
    }

    @Test("changing a field after tickets exist: a required field added, a choice removed, the field deactivated or its kind changed apply to later opens only; tickets keep their values",
          arguments: TestEngines.all)
    func changesAfterTicketsExist(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        _ = try Self.put(harness, "uf", .fieldChoice, choices: ["SP", "RJ"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        var request = IntakeHarness.request(acme, subject: "primeira")
        request.customFields = [Self.value("uf", "RJ")]
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket)
        _ = try Self.put(harness, "uf", .fieldChoice, choices: ["SP"])
        _ = try Self.put(harness, "pedido", .fieldNumber, required: true)
        request.subject = "segunda"
        let refused = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }
        #expect(Set(refused?.violations.map(\.field) ?? []) == ["custom_fields.uf", "custom_fields.pedido"])
        // Deactivated: no longer asked for; a value still sent for it is named (no such field now).
        _ = try Self.put(harness, "pedido", .fieldNumber, required: true, active: false)
        _ = try Self.put(harness, "uf", .fieldText)
        request.customFields = [Self.value("uf", "RJ")]
        #expect(try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria).ticket?.customFields.map(\.value) == ["RJ"])
        request.subject = "terceira"
        request.customFields = [Self.value("uf", "RJ"), Self.value("pedido", "12")]
        #expect(rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }?.violations.map(\.field)
                == ["custom_fields.pedido"])
        var get = IntakeV1.GetTicketRequest()
        get.ticket = first.id
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.staff).customFields.map(\.value) == ["RJ"])
    }
}

/// Lists too long to name each offending entry (found 2026-12-02: 60,000 custom field values or
/// 40,000 upload ids made error answers of 10 MB and 6 MB, larger than an RPC frame, so callers
/// got UNAVAILABLE after seconds of the writer's time).
@Suite("Oversized lists in a request", .serialized)
struct OversizedListTests {
    @Test("more than 500 custom field values or 1,000 uploads named is one INVALID_ARGUMENT naming the list (with the request's other faults), for an open, a reply and AddFiles, with or without a key; nothing stored",
          arguments: TestEngines.all)
    func oversizedListsAreOneViolation(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let asMaria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        var request = IntakeHarness.request(acme)
        request.subject = ""
        request.customFields = (0..<60_000).map { CustomFieldEdgeTests.value("k\($0)", "x") }
        request.attachmentIDs = (0..<40_000).map { "id-\($0)" }
        for options in [asMaria, harness.options(IntakeHarness.customer(try harness.contact(acme, "João", email: "joao@acme.example")), key: "k-1")] {
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: options) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.violations.map { "\($0.field):\($0.reason)" } == ["custom_fields:too_many", "attachment_ids:too_many", "subject:required"])
        }
        // At the limits, each entry is still named.
        request.subject = "Assunto"
        request.customFields = (0..<500).map { CustomFieldEdgeTests.value("k\($0)", "x") }
        request.attachmentIDs = (0..<1_000).map { "id-\($0)" }
        let named = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria) }
        #expect(named?.violations.count == 1_500)
        #expect(try harness.count("tickets") == 0)

        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria).ticket)
        var reply = IntakeV1.ReplyRequest()
        reply.ticket = ticket.id
        reply.text = "Segue."
        reply.attachmentIDs = (0..<40_000).map { "id-\($0)" }
        for options in [asMaria, harness.options(IntakeHarness.customer(try harness.contact(acme, "Lia", email: "lia@acme.example")), key: "r-1")] {
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.reply, reply, options: options) }
            #expect(error?.violations.map { "\($0.field):\($0.reason)" } == ["attachment_ids:too_many"])
        }
        #expect(try harness.count("ticket_messages") == 0)
        let files = rpcError { _ = try harness.addFiles(ticket.id, uploads: reply.attachmentIDs, internal: false, as: harness.staff) }
        #expect(files?.violations.map { "\($0.field):\($0.reason)" } == ["attachment_ids:too_many"])
    }
}
