import Foundation
import LoadDriverKit
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Production: the whole journey over real processes", .serialized)
struct JourneyTests {
    @Test("a customer's ticket goes from opening to finished through intake, workflow and notification, with each e-mail once", arguments: TestEngines.all)
    func journey(engine: DatabaseEngine) throws {
        let cluster = try Cluster(engine: engine)
        defer { cluster.stop() }
        let callers = Callers(cluster.deployment)
        defer { callers.close() }
        let cast = try Cast.setUp(callers, tag: "J")
        var journey = Journey(callers: callers, cast: cast)
        journey.stepTimeout = 30

        // The customer opens; the outbox carries it to workflow, which queues it for the group.
        var record = try journey.open(nonce: "journey-1")
        #expect(record.code.hasSuffix("-000001"))
        _ = try journey.waitForStage(record.id, deadline: Date().addingTimeInterval(20)) { $0 == "aguardando_atendimento" }
        var queue = WorkflowV1.ListQueueRequest()
        queue.filter = WorkflowV1.TicketFilter()
        queue.filter?.groupID = "n1"
        let listed = try callers.workflow.call(WorkflowV1.Workflow.listQueue, queue, options: callers.options(cast.agent))
        #expect(listed.tickets.map(\.code) == [record.code])

        // Agent takes it and asks for information; the customer replies; it is back with the agent;
        // solution and finish.
        journey.advance(&record, nonce: "journey-1")
        #expect(record.error == "")
        #expect(record.step == .finished)

        var history = WorkflowV1.GetHistoryRequest()
        history.ticketID = record.id
        let entries = try callers.workflow.call(WorkflowV1.Workflow.getHistory, history, options: callers.options(cast.agent)).entries
        let stages = entries.filter { $0.kind == "stage" }.map(\.newValue)
        #expect(stages == ["em_atendimento", "aguardando_cliente", "em_atendimento", "finalizado"], "history: \(entries.map { "\($0.kind):\($0.oldValue)->\($0.newValue)" })")

        // E-mails: each expected one exactly once by Message-ID, with a reply token intake accepts.
        let verifier = Verifier(callers: callers, cast: cast, databases: cluster.databases, mailDirectory: cluster.sink.directory)
        let report = verifier.verify([record])
        #expect(report.ok, "\(report)")
        #expect(report.lost == 0 && report.duplicated == 0 && report.resends == 0)
        let mails = SinkMail.all(in: cluster.sink.directory)
        let toCustomer = mails.filter { $0.toAddress == cast.contactEmail.lowercased() }
        #expect(toCustomer.map(\.eventKind).sorted() == ["InformationRequested", "SolutionGiven", "TicketFinished", "TicketOpened"])
        let opened = try #require(toCustomer.first { $0.eventKind == "TicketOpened" })
        #expect(opened.subject.contains(record.code))
        let token = ReplyToken(secret: cluster.deployment.secret)
        for mail in toCustomer {
            #expect(mail.ticketCode == record.code)
            #expect(token.ticketID(in: mail.messageID) == record.id, "Message-ID \(mail.messageID)")
        }
        #expect(Set(mails.map(\.messageID)).count == mails.count)
    }
}
