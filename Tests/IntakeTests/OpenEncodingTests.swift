import Foundation
@testable import IntakeCore
import Messages
import ServiceKit
import Storage
import Testing

/// The snapshot and the `TicketOpened` event a group-commit batch stores for an open are joined
/// from parts encoded before the open was queued (``OpenEncoding``): they must be the very bytes
/// that encoding the whole messages gives, and the outbox rows the very rows the publisher makes.
/// (No database here: this is about encodings; the opens that store them are tested on both
/// engines in OpenTicketTests, OpenBatchTests and GroupCommitBatchTests.)
@Suite("Open encodings prepared before the transaction")
struct OpenEncodingTests {
    struct Case: Sendable, CustomStringConvertible {
        var description: String
        var base: IntakeV1.Ticket
        var originKind: CommonV1.Origin
        var customFields: [IntakeV1.CustomFieldValue] = []
        var attachments: [CommonV1.AttachmentRef] = []
        var representative = false
        var openedAtMs: Int64 = 1_795_000_000_123
    }

    static func person(_ id: String) -> CommonV1.PersonRef {
        var person = CommonV1.PersonRef()
        person.id = id
        person.name = "Pessoa \(id) — ação"
        person.email = "\(id)@example.com"
        return person
    }

    static func details(every: Bool) -> CommonV1.TechnicalDetails {
        var details = CommonV1.TechnicalDetails()
        details.systemVersion = "12.1.2310"
        details.routine = "FIS001"
        if every {
            details.database = "PostgreSQL"; details.environment = "cloud"; details.testEnvironmentAccess = "acesso"
            details.companyBranch = "01/0001"; details.exampleRecord = "NF 1"; details.previousVersion = "12.1.2300"
            details.currentVersion = "12.1.2310"; details.happensSince = "ontem"; details.affectedUsers = "all users"
            details.expectedBehaviour = "autorizar"; details.stepsToReproduce = "emitir, transmitir"
            details.operationalImpact = "faturamento parado"
        }
        return details
    }

    static let cases: [Case] = {
        var minimal = IntakeV1.Ticket()
        minimal.id = "0190aaaa-0000-7000-8000-000000000001"
        minimal.channel = "portal"
        minimal.origin = "customer"
        minimal.category = .problema
        minimal.priority = .normal
        minimal.product = "ERP"
        minimal.subject = "NF-e rejeitada"
        minimal.request = "Rejeição 539."
        minimal.status = "open"

        var full = minimal
        full.registeredByAgent = person("agent-7")
        full.channel = "phone"
        full.origin = "internal"
        full.category = .estrategica
        full.priority = .urgente
        full.module = "Fiscal"
        // Larger than the encoder's stack scratch (1 KiB), multi-byte characters.
        full.request = String(repeating: "Ação não concluída; ", count: 3_000)
        full.details = details(every: true)
        full.emailMessageID = "<abc@mail.example>"

        var noPriority = minimal
        noPriority.priority = .unspecified
        noPriority.category = .unspecified
        noPriority.details = details(every: false)

        var field = IntakeV1.CustomFieldValue()
        field.key = "pedido"
        field.value = "12345"
        var other = IntakeV1.CustomFieldValue()
        other.key = "data"
        other.value = "2026-11-30"
        var file = CommonV1.AttachmentRef()
        file.id = "att-1"
        file.fileName = "nota.xml"
        file.contentType = "application/xml"
        file.sizeBytes = 4_096
        file.sha256 = String(repeating: "ab", count: 32)
        var second = file
        second.id = "att-2"
        second.sizeBytes = 0

        return [
            Case(description: "minimal", base: minimal, originKind: .customer),
            Case(description: "every field", base: full, originKind: .internal, customFields: [field], attachments: [file, second],
                 representative: true),
            Case(description: "defaults left out, unknown origin kind, time 0", base: noPriority, originKind: .unspecified, openedAtMs: 0),
            Case(description: "negative time, two custom fields", base: minimal, originKind: .representative,
                 customFields: [field, other], representative: true, openedAtMs: -5),
        ]
    }()

    /// The ticket the writer completes from `base`, as `open` does.
    static func completed(_ test: Case) -> IntakeV1.Ticket {
        var ticket = test.base
        ticket.code = "2026-000042"
        var organization = CommonV1.OrganizationRef()
        organization.id = "org-1"
        organization.name = "Cliente Ltda"
        organization.plan = "gold"
        ticket.organization = organization
        ticket.contact = person("contact-1")
        ticket.representative = test.representative ? person("rep-1") : nil
        ticket.customFields = test.customFields
        ticket.attachments = test.attachments
        ticket.openedAtMs = test.openedAtMs
        return ticket
    }

    @Test("the snapshot and the event joined from their parts are the bytes of the whole messages", arguments: cases)
    func encodings(_ test: Case) throws {
        let publisher = EventPublisher(source: "intake")
        let encoding = OpenEncoding(test.base, eventID: "event-1", publisher: publisher)
        let ticket = Self.completed(test)
        var origin = IntakeV1.ListEntry()
        origin.key = ticket.origin
        origin.originKind = test.originKind
        let (snapshot, event) = encoding.encode(ticket, originKind: test.originKind)

        #expect(snapshot == TicketStore.snapshot(ticket))
        let expected = IntakeContext.openedEvent(ticket, origin: origin)
        if test.customFields.count <= 1 {
            #expect(event == expected.serializedBytes())
        }
        // (A map's entries come in the dictionary's order, which is not the same from one
        // dictionary to another: compared decoded.)
        #expect(try IntakeV1.TicketOpened(serializedBytes: event) == expected)
        #expect(try IntakeV1.Ticket(serializedBytes: snapshot).attachments.isEmpty)
    }

    @Test("the subject's trimming without Foundation when there is nothing to trim is Foundation's trimming")
    func trimming() {
        for text in ["", " ", "a", "NF-e rejeitada", " NF-e", "NF-e ", "\tx\n", "ação", "ação ", "\u{00A0}x", "x\u{2003}", "x\u{0085}",
                     "~x~", "a\u{0301}", "\u{0301}a", "a\r\n", "!  !"] {
            #expect(IntakeContext.trimmed(text) == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(Array(text.unicodeScalars))")
        }
    }

    @Test("prepared outbox rows are the publisher's rows: same ids, keys and type, envelopes byte for byte, none for the watcher")
    func outboxRows() throws {
        let publisher = EventPublisher(source: "intake")
        let test = Self.cases[1]
        let ticket = Self.completed(test)
        var origin = IntakeV1.ListEntry()
        origin.key = ticket.origin
        origin.originKind = test.originKind
        let event = IntakeContext.openedEvent(ticket, origin: origin)
        let payload = event.serializedBytes()
        let prepared = publisher.prepareOutboxEvents(IntakeV1.TicketOpened.self, key: ticket.id, id: "event-9")
        let rows = publisher.outboxEvents(prepared, encodedEvent: payload, occurredAtMs: 1_795_000_000_999)
        let reference = publisher.outboxEvents(event: event, key: ticket.id, id: "event-9")
        #expect(rows.map(\.id) == reference.map(\.id))
        #expect(rows.map(\.key) == reference.map(\.key))
        #expect(rows.map(\.type) == [String](repeating: IntakeV1.TicketOpened.protoName, count: rows.count))
        #expect(rows.count == 3)

        var envelope = EventsV1.EventEnvelope()
        envelope.id = "event-9"
        envelope.type = IntakeV1.TicketOpened.protoName
        envelope.key = ticket.id
        envelope.source = "intake"
        envelope.occurredAtMs = 1_795_000_000_999
        let light = envelope.serializedBytes()
        envelope.payload = payload
        for row in rows {
            #expect(row.payload == (row.key.hasPrefix("gateway|") ? light : envelope.serializedBytes()), "\(row.key)")
        }
        // The publisher's own rows for the same message, apart from the time.
        for (row, other) in zip(rows, reference) {
            var mine = try EventsV1.EventEnvelope(serializedBytes: row.payload)
            var theirs = try EventsV1.EventEnvelope(serializedBytes: other.payload)
            mine.occurredAtMs = 0
            theirs.occurredAtMs = 0
            #expect(mine == theirs)
        }
    }
}
