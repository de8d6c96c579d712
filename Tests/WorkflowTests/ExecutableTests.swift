import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Workflow: the real executable", .serialized)
struct WorkflowExecutableTests {
    @Test("the workflow executable applies a delivered TicketOpened and moves the ticket through its stages over RPC with signed principals", arguments: TestEngines.all)
    func realProcess(engine: DatabaseEngine) throws {
        let directory = try TemporaryDirectory()
        let secret = "workflow-exec-secret-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret,
                           "NOTIFICATION_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1", "INTAKE_ADDRESSES": "127.0.0.1:1"]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        let process = try ServiceProcess(name: "workflow", environment: environment)
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)],
                                                secret: DeploymentSecret(bytes: Array(secret.utf8)))
        configuration.callerName = "gateway"
        let client = RPCClient(configuration: configuration)
        defer { client.close() }
        let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        func options(_ principal: AuthV1.Principal) -> CallOptions { CallOptions(timeoutMilliseconds: 10_000, metadata: signer.metadata(for: principal)) }

        // Directory: one agent in one group, a rule routing everything there.
        var admin = AuthV1.Principal()
        admin.kind = .agent
        admin.id = "admin"
        admin.administrator = true
        var agentRequest = WorkflowV1.PutAgentRequest()
        agentRequest.agent = WorkflowV1.Agent()
        agentRequest.agent?.id = "ana"
        agentRequest.agent?.name = "Ana"
        agentRequest.agent?.active = true
        _ = try client.call(WorkflowV1.Workflow.putAgent, agentRequest, options: options(admin))
        var group = WorkflowV1.PutGroupRequest()
        group.group = WorkflowV1.Group()
        group.group?.id = "n1"
        group.group?.name = "Nível 1"
        group.group?.active = true
        _ = try client.call(WorkflowV1.Workflow.putGroup, group, options: options(admin))
        var member = WorkflowV1.SetMembershipRequest()
        member.groupID = "n1"
        member.agentID = "ana"
        member.member = true
        _ = try client.call(WorkflowV1.Workflow.setMembership, member, options: options(admin))
        var rule = WorkflowV1.PutRoutingRuleRequest()
        rule.rule = WorkflowV1.RoutingRule()
        rule.rule?.groupID = "n1"
        _ = try client.call(WorkflowV1.Workflow.putRoutingRule, rule, options: options(admin))

        // Intake's event, delivered as intake's relay does.
        var opened = IntakeV1.TicketOpened()
        opened.ticketID = "exec-1"
        opened.code = "2026-000001"
        opened.organization = CommonV1.OrganizationRef()
        opened.organization?.id = "org-1"
        opened.category = .duvida
        opened.priority = .alta
        opened.subject = "Como emitir a nota de devolução?"
        opened.openedAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        var envelope = EventsV1.EventEnvelope()
        envelope.id = "evt-1"
        envelope.type = IntakeV1.TicketOpened.protoName
        envelope.key = opened.ticketID
        envelope.source = "intake"
        envelope.payload = opened.serializedBytes()
        var delivery = EventsV1.DeliverEventsRequest()
        delivery.events = [envelope]
        #expect(try client.call(EventsV1.EventSink.deliver, delivery, options: CallOptions(timeoutMilliseconds: 10_000)).accepted == 1)

        var ana = AuthV1.Principal()
        ana.kind = .agent
        ana.id = "ana"
        var take = WorkflowV1.TakeTicketRequest()
        take.ticketID = "exec-1"
        var view = try client.call(WorkflowV1.Workflow.takeTicket, take, options: options(ana))
        #expect(view.row?.stage == "em_atendimento" && view.row?.holder?.agentID == "ana" && view.row?.holder?.groupName == "Nível 1")
        var move = WorkflowV1.MoveTicketRequest()
        move.ticketID = "exec-1"
        move.toStage = "analise_produto"
        do {
            _ = try client.call(WorkflowV1.Workflow.moveTicket, move, options: options(ana))
            Issue.record("a Dúvida must not reach Análise produto")
        } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message.contains("finalizado"))
        }
        move.toStage = "finalizado"
        move.publicNote = "Use a rotina de devolução."
        view = try client.call(WorkflowV1.Workflow.moveTicket, move, options: options(ana))
        #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida")
        // An unsigned or forged principal is refused.
        var forged = options(ana)
        forged.metadata[MetadataKey.principalSignature] = String(repeating: "0", count: 64)
        #expect(throws: RPCError.self) { _ = try client.call(WorkflowV1.Workflow.getTicket, WorkflowV1.GetTicketRequest(), options: forged) }
        #expect(process.stop() == 0, "exit status after SIGTERM:\n\(process.log)")
    }
}
