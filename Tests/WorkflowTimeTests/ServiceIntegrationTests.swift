import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// The whole workflow service (ticket core + time half) in this process on a loopback port, with
/// a simulated clock, driven as intake and agents would: intake events over EventSink, agents over
/// RPC. The timer scheduler runs on its own thread against the simulated clock.
@Suite(.serialized) struct ServiceIntegrationTests {
    static let secret = "workflow-time-integration-secret-0123"
    let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(ServiceIntegrationTests.secret.utf8)))

    final class Service: @unchecked Sendable {
        let host: ServiceHost
        let client: RPCClient
        let clock: SimulatedClock
        let directory: TemporaryDirectory

        init(_ engine: DatabaseEngine, clock: SimulatedClock) throws {
            self.clock = clock
            directory = try TemporaryDirectory()
            var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": ServiceIntegrationTests.secret,
                               "WORKFLOW_PORT": String(try FreePort.next()), "WORKFLOW_TIMER_POLL_MS": "20",
                               "WORKFLOW_SURVEY_URL": "https://suporte.example/pesquisa/",
                               "NOTIFICATION_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1", "INTAKE_ADDRESSES": "127.0.0.1:1"]
            if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
            let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["test"], environment: environment)
            var options = WorkflowService.Options()
            options.now = clock.function
            host = try ServiceMain.start(configuration: configuration, migrations: WorkflowService.migrations,
                                         logger: Logger(service: "workflow", level: .critical)) { runtime, router in
                try WorkflowService.register(runtime: runtime, router: &router, options: options)
            }
            client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)],
                                                                  secret: DeploymentSecret(bytes: Array(ServiceIntegrationTests.secret.utf8))))
        }

        deinit {
            client.close()
            host.stop()
        }

        var database: any Database { host.runtime.database }

        func deliver<Event: ProtoMessage>(_ event: Event, key: String) throws {
            var envelope = EventsV1.EventEnvelope()
            envelope.id = UUID().uuidString
            envelope.type = Event.protoName
            envelope.key = key
            envelope.source = "intake"
            envelope.occurredAtMs = clock.now
            envelope.payload = event.serializedBytes()
            var request = EventsV1.DeliverEventsRequest()
            request.events = [envelope]
            _ = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
        }

        /// Waits (real time) until `condition` holds, up to 10 s.
        func eventually(_ condition: () throws -> Bool) throws -> Bool { try waitFor(10, condition) }
    }

    func admin() -> CallOptions {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = "admin"
        principal.displayName = "Admin"
        principal.administrator = true
        principal.accessLevel = 9
        return CallOptions(timeoutMilliseconds: 10_000, metadata: signer.metadata(for: principal))
    }

    func opened(_ id: String, at: Int64) -> IntakeV1.TicketOpened {
        TicketFixtures.opened(id, code: "2027-\(id)", organization: TicketFixtures.organization("org-1", name: "Empresa"),
                              contact: TicketFixtures.person("c1", name: "Maria", email: "maria@example.com"), category: .duvida,
                              subject: "Dúvida sobre a nota", request: "Como emitir?", openedAt: at)
    }

    func move(_ service: Service, _ id: String, to stage: String, publicNote: String = "") throws {
        var request = WorkflowV1.MoveTicketRequest()
        request.ticketID = id
        request.toStage = stage
        request.publicNote = publicNote
        _ = try service.client.call(WorkflowV1.Workflow.moveTicket, request, options: admin())
    }

    func take(_ service: Service, _ id: String) throws {
        var request = WorkflowV1.TakeTicketRequest()
        request.ticketID = id
        _ = try service.client.call(WorkflowV1.Workflow.takeTicket, request, options: admin())
    }

    func events<Event: ProtoMessage>(_ service: Service, _ type: Event.Type, ticket: String) throws -> [Event] {
        try publishedEvents(service.database, type, ticketID: ticket)
    }

    @Test(arguments: TestEngines.all)
    func aTicketsLifeThroughTheRealService(engine: DatabaseEngine) throws {
        let clock = SimulatedClock(sp("2027-03-01 09:00"))
        let service = try Service(engine, clock: clock)
        let time = WorkflowV1.WorkflowTime.self

        var policy = WorkflowV1.SLAPolicySpec()
        policy.plan = "standard"
        policy.firstResponseMinutes = 60
        policy.nextResponseMinutes = 120
        policy.resolutionMinutes = 480
        policy.warningPercent = 50
        var put = WorkflowV1.PutSLAPolicyRequest()
        put.policy = policy
        _ = try service.client.call(time.putSLAPolicy, put, options: admin())
        // The flows' timer transitions became inactivity policies.
        let seeded = try service.client.call(time.listInactivityPolicies, WorkflowV1.ListInactivityPoliciesRequest(), options: admin())
        #expect(seeded.policies.map(\.stage).sorted() == ["aguardando_cliente", "pendente", "resolvido", "validacao_cliente"])

        // t1 answered in 20 minutes, waits a day on the customer, is solved; survey answered.
        try service.deliver(opened("t1", at: clock.now), key: "t1")
        // t2 waits on the customer until inactivity finishes it.
        try service.deliver(opened("t2", at: clock.now), key: "t2")
        // t3 is never answered: warning at 30 min, breach at 60 min.
        try service.deliver(opened("t3", at: clock.now), key: "t3")
        clock.set(sp("2027-03-01 09:20"))
        try take(service, "t1")
        try move(service, "t1", to: "aguardando_cliente", publicNote: "Qual a versão?")
        try take(service, "t2")
        try move(service, "t2", to: "aguardando_cliente", publicNote: "Envie o XML, por favor.")

        var getSLA = WorkflowV1.GetTicketSLARequest()
        getSLA.ticketID = "t1"
        let waiting = try service.client.call(time.getTicketSLA, getSLA, options: admin())
        #expect(waiting.plan == "standard")
        #expect(waiting.targets.first { $0.target == .firstResponse }?.status == "met")
        #expect(waiting.targets.first { $0.target == .resolution }?.status == "paused")

        clock.set(sp("2027-03-01 09:31"))
        #expect(try service.eventually { try events(service, WorkflowV1.SLAWarning.self, ticket: "t3").count == 1 })
        clock.set(sp("2027-03-01 10:01"))
        #expect(try service.eventually { try events(service, WorkflowV1.SLABreached.self, ticket: "t3").count == 1 })
        #expect(try events(service, WorkflowV1.SLABreached.self, ticket: "t3").first?.ticket?.code == "2027-t3")

        clock.set(sp("2027-03-02 09:00"))
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t1"
        reply.text = "12.1"
        try service.deliver(reply, key: "t1")
        var read = WorkflowV1.MarkMessagesReadRequest()
        read.ticketID = "t1"
        _ = try service.client.call(WorkflowV1.Workflow.markMessagesRead, read, options: admin())
        let resumed = try service.client.call(time.getTicketSLA, getSLA, options: admin())
        #expect(resumed.targets.first { $0.target == .nextResponse }?.status == "running")
        #expect(resumed.targets.first { $0.target == .resolution }?.elapsedMs == Int64(20 * 60_000))  // paused all night
        clock.set(sp("2027-03-02 10:00"))
        try move(service, "t1", to: "finalizado", publicNote: "Atualize para a 12.2.")
        let finished = try #require(try events(service, WorkflowV1.TicketFinished.self, ticket: "t1").first)
        #expect(finished.surveyURL.hasPrefix("https://suporte.example/pesquisa/"))
        var answer = WorkflowV1.AnswerSurveyRequest()
        answer.token = String(finished.surveyURL.dropFirst("https://suporte.example/pesquisa/".count))
        answer.score = 4
        _ = try service.client.call(time.answerSurvey, answer, options: CallOptions(timeoutMilliseconds: 10_000))
        #expect(try events(service, WorkflowV1.SurveyAnswered.self, ticket: "t1").first?.score == 4)

        // t2: reminder on day 8, finished for inactivity on day 10, by the timer thread.
        clock.set(sp("2027-03-09 09:21"))
        #expect(try service.eventually { try events(service, WorkflowV1.InactivityReminder.self, ticket: "t2").count == 1 })
        clock.set(sp("2027-03-11 09:21"))
        #expect(try service.eventually {
            try events(service, WorkflowV1.TicketFinished.self, ticket: "t2").first?.outcome == "inatividade"
        })

        var metrics = WorkflowV1.GetMetricsRequest()
        metrics.fromDay = "2027-03-01"
        metrics.toDay = "2027-04-01"
        let report = try service.client.call(time.getMetrics, metrics, options: admin())
        #expect(report.totals?.opened == 3)
        #expect(report.totals?.finished == 2)
        #expect(report.totals?.firstResponses == 2)
        #expect(report.totals?.avgSurveyScore == 4)
        #expect(report.backlog.map(\.count).reduce(0, +) == 1)  // t3
        // Rows per stage carry the flows' names for dashboards, not only the codes.
        let names = ["aguardando_atendimento": "Aguardando atendimento", "em_atendimento": "Em atendimento",
                     "aguardando_cliente": "Aguardando cliente", "resolvido": "Resolvido", "finalizado": "Finalizado"]
        #expect(!report.stageTime.isEmpty && !report.backlog.isEmpty)
        for (stage, name) in report.stageTime.map({ ($0.stage, $0.stageName) }) + report.backlog.map({ ($0.stage, $0.stageName) }) {
            #expect(name == names[stage] ?? "(unexpected stage \(stage))")
        }
        // Each SLA event exactly once, whatever the timer thread did meanwhile: t3's resolution
        // (8 business hours) breached too while the clock jumped a week, and its warning, due at
        // the same time, was not sent separately.
        #expect(try events(service, WorkflowV1.SLABreached.self, ticket: "t3").map(\.target) == [.firstResponse, .resolution])
        #expect(try events(service, WorkflowV1.SLAWarning.self, ticket: "t3").map(\.target) == [.firstResponse])
        #expect(try events(service, WorkflowV1.SLABreached.self, ticket: "t1").isEmpty)
    }
}
