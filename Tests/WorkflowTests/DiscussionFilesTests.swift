import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport
import WorkflowCore

@Suite("Workflow: an agent's discussion entries carry files, internal ones never reach customers")
struct DiscussionFilesTests {
    static let ana = WorkflowHarness.agent("ana")
    static let maria = WorkflowHarness.customer("maria", organization: "org-1")

    /// Workflow with the seeded directory and ticket `t1`, taken by Ana.
    static func heldByAna(_ engine: DatabaseEngine) throws -> WorkflowHarness {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        _ = try harness.take("t1", as: ana)
        return harness
    }

    static func file(_ id: String, _ name: String, internal isInternal: Bool = false) -> CommonV1.AttachmentRef {
        var ref = CommonV1.AttachmentRef()
        ref.id = id
        ref.fileName = name
        ref.contentType = "text/plain"
        ref.sizeBytes = 10
        ref.`internal` = isInternal
        return ref
    }

    /// Intake's AttachmentAdded for a file put on `t1` (as its AddFiles publishes it: the ticket's own file).
    static func added(_ harness: WorkflowHarness, _ ref: CommonV1.AttachmentRef) throws {
        var event = IntakeV1.AttachmentAdded()
        event.ticketID = "t1"
        event.code = "2026-t1"
        event.attachment = ref
        event.addedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        try harness.deliver(event, key: "t1")
    }

    static func entry(_ harness: WorkflowHarness, _ text: String, isPublic: Bool, _ files: [CommonV1.AttachmentRef]) throws -> WorkflowV1.DiscussionEntry {
        var request = WorkflowV1.AddDiscussionRequest()
        request.ticketID = "t1"
        request.isPublic = isPublic
        request.text = text
        request.attachments = files
        return try #require(try harness.call(WorkflowV1.Workflow.addDiscussion, request, as: ana).entry)
    }

    @Test("a public entry lists its files (an internal one among them to staff only), an internal entry's files are internal, files whose entry never came stay the ticket's; intake's events before or after the entry change nothing (migration 182)",
          arguments: TestEngines.all)
    func entriesCarryFiles(engine: DatabaseEngine) throws {
        let harness = try Self.heldByAna(engine)

        // Intake's event first (the usual order: AddFiles commits before the entry).
        let fix = Self.file("f1", "correcao.sql"), evidence = Self.file("f2", "evidencia.png", internal: true)
        try Self.added(harness, fix)
        let published = try Self.entry(harness, "Segue a correção.", isPublic: true, [fix, evidence])
        #expect(published.attachments.map(\.id) == ["f1", "f2"] && published.attachments.map(\.`internal`) == [false, true])
        try Self.added(harness, evidence)
        // The entry first, intake's event after.
        let log = Self.file("f3", "log.txt")
        let note = try Self.entry(harness, "Log do servidor do cliente.", isPublic: false, [log])
        #expect(note.attachments.map(\.`internal`) == [true], "an internal entry's files are internal")
        try Self.added(harness, Self.file("f3", "log.txt", internal: true))
        // Files stored by intake whose entry was refused: the ticket's own, each as its flag allows.
        try Self.added(harness, Self.file("f4", "orfao-publico.txt"))
        try Self.added(harness, Self.file("f5", "orfao-interno.txt", internal: true))

        let staff = try harness.ticket("t1", as: Self.ana)
        let entries = staff.discussion.filter { !$0.attachments.isEmpty }
        #expect(entries.map { $0.attachments.map(\.id) } == [["f1", "f2"], ["f3"]])
        #expect(entries.map { $0.attachments.map(\.`internal`) } == [[false, true], [true]])
        #expect(staff.attachments.map(\.id) == ["f4", "f5"])

        let customer = try harness.ticket("t1", as: Self.maria)
        #expect(customer.discussion.map(\.text).contains("Segue a correção.") && !customer.discussion.map(\.text).contains("Log do servidor do cliente."))
        #expect(customer.discussion.flatMap(\.attachments).map(\.id) == ["f1"], "the customer sees the public entry's public file only")
        #expect(customer.attachments.map(\.id) == ["f4"], "and no internal file among the ticket's")
        #expect(!(customer.discussion.flatMap(\.attachments) + customer.attachments).contains { $0.`internal` })

        // DiscussionAdded: a public entry's event carries no internal file; an internal entry's keeps its own.
        let events = try harness.published(WorkflowV1.DiscussionAdded.self, ticket: "t1").map(\.0).filter { !$0.attachments.isEmpty }
        #expect(events.map { $0.attachments.map(\.id) } == [["f1"], ["f3"]])
        #expect(events.map(\.isPublic) == [true, false])
    }

    @Test("validate_only checks an entry as adding it would (text, staff, who may answer in public) and writes nothing, records no idempotency key",
          arguments: TestEngines.all)
    func validateOnly(engine: DatabaseEngine) throws {
        let harness = try Self.heldByAna(engine)
        func check(_ text: String, isPublic: Bool, as principal: AuthV1.Principal) -> RPCStatusCode? {
            var request = WorkflowV1.AddDiscussionRequest()
            request.ticketID = "t1"
            request.isPublic = isPublic
            request.text = text
            request.validateOnly = true
            request.attachments = [Self.file("v1", "a.txt")]
            return harness.failure(WorkflowV1.Workflow.addDiscussion, request, as: principal)?.code
        }
        let bruno = WorkflowHarness.agent("bruno")
        #expect(check("Ok", isPublic: true, as: Self.ana) == nil)
        #expect(check("  ", isPublic: true, as: Self.ana) == .invalidArgument)
        #expect(check("Ok", isPublic: true, as: bruno) == .permissionDenied, "the ticket is held by Ana")
        #expect(check("Ok", isPublic: false, as: bruno) == nil, "an internal note from anyone who sees it")
        #expect(check("Ok", isPublic: true, as: Self.maria) == .permissionDenied)
        let view = try harness.ticket("t1", as: Self.ana)
        #expect(view.discussion.allSatisfy { $0.kind != "note" } && view.attachments.isEmpty, "nothing written")
    }

    @Test("a file of a customer's reply named on an entry stays on the reply; a public event never turns an internal file public",
          arguments: TestEngines.all)
    func filesKeepTheirPlaceAndFlag(engine: DatabaseEngine) throws {
        let harness = try Self.heldByAna(engine)
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.messageID = "m1"
        reply.text = "Segue a tela."
        reply.attachments = [Self.file("r1", "tela.png")]
        try harness.deliver(reply, key: "t1")
        _ = try Self.entry(harness, "Veja a tela.", isPublic: true, [Self.file("r1", "tela.png")])
        _ = try Self.entry(harness, "Nota.", isPublic: false, [Self.file("g1", "segredo.txt")])
        try Self.added(harness, Self.file("g1", "segredo.txt"))  // a stale public event after the internal entry
        let customer = try harness.ticket("t1", as: Self.maria)
        #expect(customer.discussion.first { $0.kind == "customer_reply" }?.attachments.map(\.id) == ["r1"])
        #expect(!(customer.discussion.flatMap(\.attachments) + customer.attachments).map(\.id).contains("g1"))
    }
}
