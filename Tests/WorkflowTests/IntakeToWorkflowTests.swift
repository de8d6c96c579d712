import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport
import WorkflowCore

/// The real intake executable and workflow talking through their outboxes and RPC.
@Suite("Workflow with the real intake", .serialized)
struct IntakeToWorkflowTests {
    @Test("a ticket opened in intake reaches workflow by event; opening a related ticket from it goes through intake and comes back linked", arguments: TestEngines.all)
    func openRelated(engine: DatabaseEngine) throws {
        let intakePort = try FreePort.next()
        let harness = try WorkflowHarness(engine, environment: ["INTAKE_ADDRESSES": "127.0.0.1:\(intakePort)"])
        try harness.seedDirectory()
        let directory = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": WorkflowHarness.secret,
                           "WORKFLOW_ADDRESSES": "127.0.0.1:\(harness.host.port)", "NOTIFICATION_ADDRESSES": "127.0.0.1:1",
                           "KNOWLEDGE_ADDRESSES": "127.0.0.1:1"]
        if engine == .postgres { environment["INTAKE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let intake = try ServiceProcess(name: "intake", environment: environment, port: intakePort)
        defer { intake.stop() }
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: intakePort)],
                                                secret: DeploymentSecret(bytes: Array(WorkflowHarness.secret.utf8)))
        configuration.callerName = "gateway"
        let intakeClient = RPCClient(configuration: configuration)
        defer { intakeClient.close() }
        func options(_ principal: AuthV1.Principal) -> CallOptions {
            CallOptions(timeoutMilliseconds: 10_000, metadata: harness.signer.metadata(for: principal))
        }

        var organization = IntakeV1.Organization()
        organization.name = "Padaria Pão Quente"
        organization.kind = .organizationCustomer
        organization.plan = "premium"
        organization.taxID = "11.222.333/0001-81"
        organization.active = true
        organization.email = "contato@paoquente.example"
        organization = try intakeClient.call(IntakeV1.Intake.createOrganization, organization, options: options(WorkflowHarness.admin()))
        var contact = IntakeV1.Contact()
        contact.organizationID = organization.id
        contact.name = "Joana"
        contact.email = "joana@paoquente.example"
        contact.active = true
        contact.authorized = true
        contact = try intakeClient.call(IntakeV1.Intake.addContact, contact, options: options(WorkflowHarness.admin()))
        let customer = WorkflowHarness.customer(contact.id, organization: organization.id)

        var open = IntakeV1.OpenTicketRequest()
        open.organizationID = organization.id
        open.category = .duvida
        open.priority = .normal
        open.product = "ERP"
        open.module = "Fiscal"
        open.subject = "Como cancelar uma NF-e?"
        open.request = "Emiti uma nota com valor errado e preciso cancelar."
        let opened = try intakeClient.call(IntakeV1.Intake.openTicket, open, options: options(customer))
        let sourceID = try #require(opened.ticket?.id)
        #expect(waitFor(20) { (try? harness.ticket(sourceID)) != nil }, "TicketOpened reached workflow through intake's outbox")
        let source = try harness.ticket(sourceID)
        #expect(source.row?.holder?.groupID == "n2", "premium plan routed to n2")
        #expect(source.row?.organizationName == "Padaria Pão Quente")

        var related = WorkflowV1.OpenRelatedTicketRequest()
        related.ticketID = sourceID
        related.subject = "Rejeição 501 ao cancelar"
        related.request = "Ao cancelar a nota, a Sefaz devolve a rejeição 501."
        related.category = .problema
        let created = try harness.call(WorkflowV1.Workflow.openRelatedTicket, related, as: WorkflowHarness.admin(), idempotencyKey: "rel-1")
        let again = try harness.call(WorkflowV1.Workflow.openRelatedTicket, related, as: WorkflowHarness.admin(), idempotencyKey: "rel-1")
        #expect(again.ticketID == created.ticketID, "a retry opens one ticket")
        #expect(waitFor(20) { (try? harness.ticket(created.ticketID)) != nil })
        let child = try harness.ticket(created.ticketID)
        #expect(child.row?.category == .problema && child.row?.organizationID == organization.id && child.contact?.id == contact.id)
        var list = WorkflowV1.ListRelatedRequest()
        list.ticketID = sourceID
        let links = try harness.call(WorkflowV1.Workflow.listRelated, list, as: WorkflowHarness.admin())
        #expect(links.linked.map(\.ticketID) == [created.ticketID])
        #expect(try harness.history(sourceID).contains { $0.kind == "link" && $0.newValue == created.code })
        // Two retries with one key at once: intake opens one ticket for both, and the link that
        // both then write (no ticket locked first) is made once; both callers get the same answer.
        related.subject = "Rejeição 502 ao cancelar"
        let retried = related
        let answers = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { _ in
            do {
                let answer = try harness.call(WorkflowV1.Workflow.openRelatedTicket, retried, as: WorkflowHarness.admin(), idempotencyKey: "rel-2")
                answers.withLock { $0.append(answer.ticketID) }
            } catch { failures.withLock { $0.append("\(error)") } }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let raced = answers.withLock { $0 }
        #expect(raced.count == 2 && raced.first == raced.last && raced.first != created.ticketID)
        #expect(waitFor(20) { (try? harness.ticket(raced.first ?? "")) != nil })
        let linked = try harness.call(WorkflowV1.Workflow.listRelated, list, as: WorkflowHarness.admin()).linked.map(\.ticketID)
        #expect(linked.sorted() == [created.ticketID, raced.first ?? ""].sorted())
        #expect(try harness.history(sourceID).filter { $0.kind == "link" }.count == 2, "one line per link")
        var incomplete = related
        incomplete.subject = ""
        #expect(harness.failure(WorkflowV1.Workflow.openRelatedTicket, incomplete, as: WorkflowHarness.admin())?.violations.first?.field == "subject")
    }
}
