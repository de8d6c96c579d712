import Foundation
import Messages
@testable import NotificationCore
import Storage
import Testing
import TestSupport

/// A transfer's copies (`copy_to`): workflow names those that are its agents cleared for the
/// ticket (`agent_copy_to`); they read the internal note, as the holder does. Every other copy —
/// an outside address, an agent below the ticket's level — is told of the transfer without it.
/// Copies read their own wording (`TransferredCopy`), not the holder's "repassada para você".
@Suite("Notification: a transfer's copies", .serialized)
struct TransferCopiesTests {
    static func transfer(_ id: String, code: String, level: Int32, locale: String = "pt-BR",
                         copies: [String], agents: [String]) -> EventsV1.EventEnvelope {
        var transfer = WorkflowV1.Transferred()
        transfer.ticket = Events.summary(ticketID: id, code: code, accessLevel: level, locale: locale)
        var to = WorkflowV1.Holder()
        to.agentID = "agent-2"
        to.agentName = "Bruno"
        to.agentEmail = "bruno@suporte.example"
        transfer.to = to
        transfer.note = "cliente difícil, não comentar"
        transfer.copyTo = copies
        transfer.agentCopyTo = agents
        transfer.actorName = "Ana"
        return Events.envelope(transfer, key: id, accessLevel: level)
    }

    @Test("""
          On a confidential ticket the agent copy workflow vouched for reads the note and the subject; an agent copy it \
          did not (below the level) and an outside copy do not; copies get "Cópia: ocorrência repassada para <holder>" \
          (en: "Copy: ticket transferred to <holder>"), the holder "repassada para você"
          """, arguments: TestEngines.all)
    func agentCopiesReadTheNote(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        try harness.deliver([
            // carla is an agent cleared for level 2 (workflow says so, typed as she was); dani is an
            // agent below it (workflow leaves her out); the supplier is outside the team.
            Self.transfer("t-copies", code: "2026-000960", level: 2,
                          copies: ["Carla@Suporte.example", "dani@suporte.example", "fornecedor@parceiro.example"],
                          agents: ["Carla@Suporte.example"]),
            Self.transfer("t-copies-en", code: "2026-000961", level: 0, locale: "en-US",
                          copies: ["fornecedor@parceiro.example"], agents: []),
        ])
        #expect(waitFor(15) { sink.files("eml").count == 6 })
        usleep(300_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        func mail(_ code: String, _ to: String) throws -> ReceivedMail {
            try #require(mails.first { ($0.headers["Subject"] ?? "").contains(code) && $0.envelope.to.map { $0.lowercased() } == [to] })
        }
        let note = "não comentar", hidden = "(conteúdo confidencial / confidential content)"

        let holder = try mail("2026-000960", "bruno@suporte.example")
        #expect(holder.headers["Subject"] == "[2026-000960] Ocorrência repassada para você")
        #expect(holder.text.contains(note))

        let agent = try mail("2026-000960", "carla@suporte.example")
        #expect(agent.headers["Subject"] == "[2026-000960] Cópia: ocorrência repassada para Bruno")
        #expect(agent.text.contains(note) && agent.html.contains(note), "\(agent.text)")
        #expect(agent.text.contains("Cálculo de ICMS"), "cleared for the ticket: its subject too")

        for address in ["dani@suporte.example", "fornecedor@parceiro.example"] {
            let copy = try mail("2026-000960", address)
            #expect(copy.headers["Subject"] == "[2026-000960] Cópia: ocorrência repassada para Bruno", "\(address)")
            #expect(!copy.text.contains(note) && !copy.html.contains(note), "\(address): \(copy.text)")
            #expect(!copy.text.contains("Cálculo de ICMS") && copy.text.contains(hidden), "\(address): \(copy.text)")
            #expect(copy.text.contains("Ana") && copy.text.contains("Bruno"), "still told who transferred it to whom")
        }

        let english = try mail("2026-000961", "fornecedor@parceiro.example")
        #expect(english.headers["Subject"] == "[2026-000961] Copy: ticket transferred to Bruno")
        #expect(!english.text.contains(note) && english.text.contains(hidden), "\(english.text)")
        #expect(try mail("2026-000961", "bruno@suporte.example").headers["Subject"] == "[2026-000961] Ticket transferred to you")
    }
}
