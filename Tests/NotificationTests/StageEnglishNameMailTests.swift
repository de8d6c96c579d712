import Foundation
import Messages
import Storage
@testable import NotificationCore
import Testing
import TestSupport

/// An English e-mail names the ticket's stage with workflow's English name (the event's
/// `TicketSummary.customer_stage_name_en` / `stage_name_en`): an administrator's own stage as they
/// named it in English, which it read in Portuguese before 2026-12-02. An event published before
/// workflow carried those names (still in an outbox) names a shipped stage with
/// ``ShippedStageNames``, any other as it reads in Portuguese.
@Suite("Notification: an English e-mail names the stage with workflow's English name")
struct StageEnglishNameMailTests {
    /// A StageChanged of ticket `id` (`code`, the customer's `locale`) into a stage named
    /// `names` (Portuguese, English; the customer's name and the team's alike).
    static func moved(_ id: String, code: String, locale: String, stage: String, names: (String, String)) -> EventsV1.EventEnvelope {
        var ticket = Events.summary(ticketID: id, code: code, locale: locale)
        ticket.stage = stage
        (ticket.stageName, ticket.customerStageName) = (names.0, names.0)
        (ticket.stageNameEn, ticket.customerStageNameEn) = (names.1, names.1)
        var event = WorkflowV1.StageChanged()
        event.ticket = ticket
        event.toStage = stage
        return Events.envelope(event, key: id)
    }

    @Test("StageChanged to the customer over SMTP: an administrator's stage (Triagem fiscal / Tax triage) reads \"moved to Tax triage\" in English and \"passou para Triagem fiscal\" in Portuguese; an event without English names (published before they existed) names a shipped stage in English and an administrator's in Portuguese",
          arguments: TestEngines.all)
    func englishStageInTheMail(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        defer { sink.stop() }
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port),
                                              rules: NotificationRules(audiences: ["StageChanged": [.customer]]))
        try harness.deliver([
            Self.moved("t-stage-en", code: "2026-000801", locale: "en-US", stage: "triagem_fiscal", names: ("Triagem fiscal", "Tax triage")),
            Self.moved("t-stage-pt", code: "2026-000802", locale: "pt-BR", stage: "triagem_fiscal", names: ("Triagem fiscal", "Tax triage")),
            // Published before the English names existed: none carried.
            Self.moved("t-old-shipped", code: "2026-000803", locale: "en", stage: "aguardando_cliente", names: ("Aguardando sua resposta", "")),
            Self.moved("t-old-own", code: "2026-000804", locale: "en", stage: "triagem_fiscal", names: ("Triagem fiscal", "")),
        ])
        #expect(waitFor(15) { sink.files("eml").count == 4 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        func mail(_ code: String) -> ReceivedMail? { mails.first { ($0.headers["Subject"] ?? "").contains(code) } }
        #expect(mail("2026-000801")?.text.contains("Ticket 2026-000801 moved to Tax triage.") == true, "\(mail("2026-000801")?.text ?? "")")
        #expect(mail("2026-000801")?.headers["Subject"]?.hasSuffix("Status: Tax triage") == true, "\(mail("2026-000801")?.headers ?? [:])")
        #expect(mail("2026-000802")?.text.contains("A ocorrência 2026-000802 passou para Triagem fiscal.") == true, "\(mail("2026-000802")?.text ?? "")")
        #expect(mail("2026-000803")?.text.contains("moved to Awaiting your answer.") == true, "\(mail("2026-000803")?.text ?? "")")
        #expect(mail("2026-000804")?.text.contains("moved to Triagem fiscal.") == true, "\(mail("2026-000804")?.text ?? "")")
    }

    @Test("the variable: the customer's English name first, the team's when the customer has no name; Portuguese for a Portuguese reader")
    func stageNameVariable() {
        var ticket = WorkflowV1.TicketSummary()
        (ticket.stageName, ticket.stageNameEn) = ("Aguardando cliente", "Waiting on the customer")
        (ticket.customerStageName, ticket.customerStageNameEn) = ("Aguardando sua resposta", "Your answer, please")
        #expect(EventFacts.stageName(ticket, .english) == "Your answer, please")
        #expect(EventFacts.stageName(ticket, .portuguese) == "Aguardando sua resposta")
        (ticket.customerStageName, ticket.customerStageNameEn) = ("", "")
        #expect(EventFacts.stageName(ticket, .english) == "Waiting on the customer")
    }
}
