import Foundation
import Messages
import Storage
@testable import NotificationCore
import Testing
import TestSupport

/// A ticket finished as `resolvida_configuracao` (an Exigência fiscal solved by configuration)
/// reaches the customer and webhooks as a `resolvida` one does: the "ticket encerrado" mail names
/// the outcome in the customer's language, with the text for the customer and the survey link,
/// and the webhook body carries both the words and the key. A cancelled ticket's mail, without a
/// link from workflow, has no survey line.
@Suite("Notification: a ticket solved by configuration is announced like a resolved one")
struct ResolvedByConfigurationMailTests {
    @Test("The outcome reads as words in both languages")
    func label() {
        #expect(EventInterpreter.outcome("resolvida_configuracao", locale: "pt-BR") == "resolvida por configuração")
        #expect(EventInterpreter.outcome("resolvida_configuracao", locale: "en-US") == "solved by configuration")
        #expect(EventInterpreter.outcome("resolvida", locale: "en-US") == "resolved")
    }

    @Test("TicketFinished as resolvida_configuracao: the customer's mail (pt-BR and en) names the outcome, carries the text and the survey link; the webhook gets outcome and outcome_key; a cancelled ticket's mail has no survey line",
          arguments: TestEngines.all)
    func finishedMailAndWebhook(engine: DatabaseEngine) throws {
        let peers = try WebhookAndConfidentialityTests.MailAndWebhook(engine, kinds: ["TicketFinished"])
        let (mailDirectory, sink, hooks, receiver, harness) = (peers.mailDirectory, peers.sink, peers.hooks, peers.receiver, peers.harness)
        var envelopes: [EventsV1.EventEnvelope] = []
        for (id, code, locale) in [("t-cfg-pt", "2026-000701", "pt-BR"), ("t-cfg-en", "2026-000702", "en-US")] {
            var finished = WorkflowV1.TicketFinished()
            finished.ticket = Events.summary(ticketID: id, code: code, locale: locale)
            finished.outcome = "resolvida_configuracao"
            finished.publicNote = "Configuramos a regra do ICMS-ST no cadastro de tributos."
            finished.surveyURL = "https://portal.example/pesquisa/\(id)"
            envelopes.append(Events.envelope(finished, key: id))
        }
        // Cancelled tickets finish without a survey (workflow sends no link): no survey line.
        for (id, code, locale, outcome) in [("t-cxl-pt", "2026-000703", "pt-BR", "cancelada_cliente"),
                                            ("t-cxl-en", "2026-000704", "en-US", "nao_necessita_atuacao")] {
            var finished = WorkflowV1.TicketFinished()
            finished.ticket = Events.summary(ticketID: id, code: code, locale: locale)
            finished.outcome = outcome
            finished.publicNote = "Encerrada sem atuação."
            envelopes.append(Events.envelope(finished, key: id))
        }
        try harness.deliver(envelopes)
        #expect(waitFor(15) { sink.files("eml").count == 4 && receiver.files("json").count == 4 })
        usleep(200_000)
        let mails = try ReceivedMail.all(in: mailDirectory.path)
        let pt = mails.first { ($0.headers["Subject"] ?? "").contains("2026-000701") }
        let en = mails.first { ($0.headers["Subject"] ?? "").contains("2026-000702") }
        #expect(pt?.envelope.to == ["jose@cliente.example"] && en?.envelope.to == ["jose@cliente.example"])
        #expect(pt?.text.contains("(resolvida por configuração)") == true, "\(pt?.text ?? "")")
        #expect(en?.text.contains("(solved by configuration)") == true, "\(en?.text ?? "")")
        for (mail, id) in [(pt, "t-cfg-pt"), (en, "t-cfg-en")] {
            #expect(mail?.text.contains("Configuramos a regra do ICMS-ST") == true)
            #expect(mail?.html.contains("https://portal.example/pesquisa/\(id)") == true)
        }
        for code in ["2026-000703", "2026-000704"] {
            let mail = mails.first { ($0.headers["Subject"] ?? "").contains(code) }
            #expect(mail?.text.contains("Encerrada sem atuação.") == true, "\(code)")
            for part in [mail?.text ?? "Avalie", mail?.html ?? "Avalie"] {
                #expect(!part.contains("Avalie") && !part.contains("Rate our support") && !part.contains("pesquisa"), "\(code): \(part)")
            }
        }
        let bodies = Dictionary(uniqueKeysWithValues: try ReceivedWebhook.all(in: hooks.path).map { ($0.1["ticket_id"] as? String ?? "", $0.1) })
        let data = { (id: String) in bodies[id]?["data"] as? [String: Any] }
        #expect(data("t-cfg-pt")?["outcome_key"] as? String == "resolvida_configuracao")
        #expect(data("t-cfg-pt")?["outcome"] as? String == "resolvida por configuração")
        #expect(data("t-cfg-en")?["outcome"] as? String == "solved by configuration")
        #expect(data("t-cfg-pt")?["survey_url"] as? String == "https://portal.example/pesquisa/t-cfg-pt")
        #expect(data("t-cxl-pt")?["outcome_key"] as? String == "cancelada_cliente")
        #expect((data("t-cxl-pt")?["survey_url"] as? String ?? "") == "", "a webhook's survey_url may stay, empty")
    }
}
