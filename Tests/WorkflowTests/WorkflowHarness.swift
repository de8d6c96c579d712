import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport
import WorkflowCore

/// A workflow service started in this process on a loopback port, on one engine, called over
/// real RPC with signed principals.
final class WorkflowHarness: @unchecked Sendable {
    static let secret = "workflow-tests-secret-0123456789abcdef"
    let directory: TemporaryDirectory
    let host: ServiceHost
    let client: RPCClient
    let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(WorkflowHarness.secret.utf8)))
    let engine: DatabaseEngine
    /// The lifecycle the service registered (timers act through it).
    let lifecycle: TicketLifecycle

    init(_ engine: DatabaseEngine, options: WorkflowService.Options = WorkflowService.Options(), environment extra: [String: String] = [:]) throws {
        self.engine = engine
        directory = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": Self.secret,
                           "WORKFLOW_PORT": String(try FreePort.next()),
                           // Subscribers are not running: events stay in the outbox where tests read them.
                           "NOTIFICATION_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1", "INTAKE_ADDRESSES": "127.0.0.1:1"]
        if engine == .postgres { environment["WORKFLOW_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        for (key, value) in extra { environment[key] = value }
        let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["test"], environment: environment)
        let box = Mutex<TicketLifecycle?>(nil)
        host = try ServiceMain.start(configuration: configuration, migrations: WorkflowService.migrations,
                                     logger: Logger(service: "workflow", level: .critical)) { runtime, router in
            let registered = try WorkflowService.register(runtime: runtime, router: &router, options: options)
            box.withLock { $0 = registered }
        }
        lifecycle = box.withLock { $0! }
        var clientConfiguration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)],
                                                      secret: DeploymentSecret(bytes: Array(Self.secret.utf8)))
        clientConfiguration.callerName = "test"
        client = RPCClient(configuration: clientConfiguration)
    }

    deinit {
        client.close()
        host.stop()
    }

    var database: any Database { host.runtime.database }

    // MARK: Principals

    static func admin() -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = "admin"
        principal.displayName = "Administradora"
        principal.administrator = true
        principal.accessLevel = 9
        return principal
    }

    /// The access levels ``seedDirectory()`` (and LinkCustomersTests' dora) give the agents.
    static let seededLevels: [String: Int32] = ["chefe": 2, "ana": 1, "bruno": 0, "carla": 3, "pm": 1, "dora": 1]

    /// An agent signed as the gateway signs them: with the level of their sign-in, which matches
    /// their agent record (workflow holds them to the lower of the two, ``Actor``); 0 for an
    /// agent the directory does not know.
    static func agent(_ id: String, level: Int32? = nil) -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = id
        principal.displayName = id
        principal.accessLevel = level ?? seededLevels[id] ?? 0
        return principal
    }

    /// The contact of ``opened(_:organization:plan:category:priority:product:module:subject:request:openedAt:)``'s
    /// tickets ("contact-org-1", shown as maria): the customer who decides for them (accepts or
    /// rejects a solution, ServiceKit's `TicketDecisionRule`), not a colleague of theirs.
    static func ticketContact(organization: String = "org-1") -> AuthV1.Principal {
        var principal = customer("contact-\(organization)", organization: organization)
        principal.displayName = "maria"
        return principal
    }

    static func customer(_ id: String, organization: String) -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = id
        principal.displayName = id
        principal.organizationID = organization
        return principal
    }

    // MARK: Calls

    func call<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, as principal: AuthV1.Principal,
                                 idempotencyKey: String? = nil) throws -> Response {
        var metadata = signer.metadata(for: principal)
        if let idempotencyKey { metadata[MetadataKey.idempotencyKey] = idempotencyKey }
        return try client.call(method, request, options: CallOptions(timeoutMilliseconds: 10_000, metadata: metadata))
    }

    /// The status code of a call that must fail.
    func failure<Request, Response>(_ method: RPCMethod<Request, Response>, _ request: Request, as principal: AuthV1.Principal,
                                    idempotencyKey: String? = nil) -> RPCError? {
        do {
            _ = try call(method, request, as: principal, idempotencyKey: idempotencyKey)
            return nil
        } catch let error as RPCError {
            return error
        } catch {
            return RPCError(.unknown, "\(error)")
        }
    }

    /// Delivers an event as intake (or another publisher) would, over EventSink/Deliver.
    @discardableResult
    func deliver<Event: ProtoMessage>(_ event: Event, key: String, source: String = "intake", id: String = UUID().uuidString) throws -> EventsV1.DeliverEventsResponse {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = id
        envelope.type = Event.protoName
        envelope.key = key
        envelope.source = source
        envelope.occurredAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        envelope.payload = event.serializedBytes()
        var request = EventsV1.DeliverEventsRequest()
        request.events = [envelope]
        return try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
    }

    /// An envelope of `event` (as an outbox makes it), for ``deliver(_:partial:)``.
    static func envelope<Event: ProtoMessage>(_ event: Event, key: String, source: String = "intake",
                                              id: String = UUID().uuidString) -> EventsV1.EventEnvelope {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = id
        envelope.type = Event.protoName
        envelope.key = key
        envelope.source = source
        envelope.occurredAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        envelope.payload = event.serializedBytes()
        return envelope
    }

    /// Several events in one `EventSink/Deliver` call, as the relay sends a round's events.
    func deliver(_ envelopes: [EventsV1.EventEnvelope], partial: Bool = true) throws -> EventsV1.DeliverEventsResponse {
        var request = EventsV1.DeliverEventsRequest()
        request.events = envelopes
        request.partial = partial
        return try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
    }

    /// Events workflow published for `subscriber` (still in its outbox), in order.
    func published(for subscriber: String = "notification") throws -> [EventsV1.EventEnvelope] {
        try database.read { tx in
            try tx.query("SELECT payload FROM storage_outbox WHERE event_key LIKE ? ORDER BY seq", [.text(subscriber + "|%")])
        }.map { try EventsV1.EventEnvelope(serializedBytes: $0.blob("payload")) }
    }

    func published<Event: ProtoMessage>(_ type: Event.Type, ticket: String? = nil) throws -> [(Event, EventsV1.EventEnvelope)] {
        try published().filter { $0.type == Event.protoName && (ticket == nil || $0.key == ticket) }.map { (try Event(serializedBytes: $0.payload), $0) }
    }

    // MARK: Fixtures

    static func opened(_ id: String, organization: String = "org-1", plan: String = "standard", category: CommonV1.Category = .problema,
                       priority: CommonV1.Priority = .normal, product: String = "ERP", module: String = "Fiscal",
                       subject: String = "Nota fiscal não transmite", request: String = "Erro 539 ao transmitir a NF-e",
                       openedAt: Int64 = 0) -> IntakeV1.TicketOpened {
        TicketFixtures.opened(id, code: "2026-\(id)",
                              organization: TicketFixtures.organization(organization, name: "Empresa \(organization)", plan: plan,
                                                                        email: "\(organization)@example.com"),
                              contact: TicketFixtures.person("contact-\(organization)", name: "Maria", email: "maria@\(organization).example.com"),
                              category: category, priority: priority, product: product, module: module, subject: subject, request: request,
                              openedAt: openedAt > 0 ? openedAt : Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Writes agent `id`'s record (`PutAgent` as the administrator).
    func putAgent(_ id: String, level: Int32, chefe: String = "", isChefe: Bool = false, role: String = "", active: Bool = true) throws {
        var agent = WorkflowV1.Agent()
        agent.id = id
        agent.name = id.capitalized
        agent.email = "\(id)@suporte.example"
        agent.maxAccessLevel = level
        agent.active = active
        agent.chefeAgentID = chefe
        agent.isChefe = isChefe
        agent.role = role
        var request = WorkflowV1.PutAgentRequest()
        request.agent = agent
        _ = try call(WorkflowV1.Workflow.putAgent, request, as: Self.admin())
    }

    /// A metrics request from yesterday to the day after tomorrow (São Paulo days): every
    /// ticket a test opens now.
    static func metricsAroundToday() -> WorkflowV1.GetMetricsRequest {
        var metrics = WorkflowV1.GetMetricsRequest()
        let day = DateFormatter()
        day.dateFormat = "yyyy-MM-dd"
        day.timeZone = TimeZone(identifier: "America/Sao_Paulo")
        metrics.fromDay = day.string(from: Date().addingTimeInterval(-86_400))
        metrics.toDay = day.string(from: Date().addingTimeInterval(2 * 86_400))
        return metrics
    }

    /// A directory with groups "n1" (agents ana, bruno) and "n2" (carla), a chefe "chefe" over ana
    /// and bruno, a product manager "pm", and a routing rule sending "premium" plans to n2.
    func seedDirectory() throws {
        let admin = Self.admin()
        var role = WorkflowV1.PutRoleRequest()
        role.role = WorkflowV1.Role()
        role.role?.name = "produto"
        role.role?.permissions = ["product.decide"]
        _ = try call(WorkflowV1.Workflow.putRole, role, as: admin)
        let levels = Self.seededLevels
        try putAgent("chefe", level: levels["chefe"]!, isChefe: true)
        try putAgent("ana", level: levels["ana"]!, chefe: "chefe")
        try putAgent("bruno", level: levels["bruno"]!, chefe: "chefe")
        try putAgent("carla", level: levels["carla"]!)
        try putAgent("pm", level: levels["pm"]!, role: "produto")
        for (id, name) in [("n1", "Nível 1"), ("n2", "Nível 2"), ("produto", "Produto")] {
            var group = WorkflowV1.PutGroupRequest()
            group.group = WorkflowV1.Group()
            group.group?.id = id
            group.group?.name = name
            group.group?.active = true
            _ = try call(WorkflowV1.Workflow.putGroup, group, as: admin)
        }
        for (group, agent) in [("n1", "ana"), ("n1", "bruno"), ("n1", "chefe"), ("n2", "carla"), ("produto", "pm")] {
            var member = WorkflowV1.SetMembershipRequest()
            member.groupID = group
            member.agentID = agent
            member.member = true
            _ = try call(WorkflowV1.Workflow.setMembership, member, as: admin)
        }
        var premium = WorkflowV1.PutRoutingRuleRequest()
        premium.rule = WorkflowV1.RoutingRule()
        premium.rule?.id = "premium"
        premium.rule?.position = 1
        premium.rule?.plan = "premium"
        premium.rule?.groupID = "n2"
        _ = try call(WorkflowV1.Workflow.putRoutingRule, premium, as: admin)
        var fallback = WorkflowV1.PutRoutingRuleRequest()
        fallback.rule = WorkflowV1.RoutingRule()
        fallback.rule?.id = "default"
        fallback.rule?.position = 100
        fallback.rule?.groupID = "n1"
        _ = try call(WorkflowV1.Workflow.putRoutingRule, fallback, as: admin)
    }

    func ticket(_ id: String, as principal: AuthV1.Principal = WorkflowHarness.admin()) throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.GetTicketRequest()
        request.ticketID = id
        return try call(WorkflowV1.Workflow.getTicket, request, as: principal)
    }

    @discardableResult
    func move(_ id: String, to stage: String, note: String = "", publicNote: String = "", as principal: AuthV1.Principal) throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.MoveTicketRequest()
        request.ticketID = id
        request.toStage = stage
        request.note = note
        request.publicNote = publicNote
        return try call(WorkflowV1.Workflow.moveTicket, request, as: principal)
    }

    @discardableResult
    func take(_ id: String, as principal: AuthV1.Principal) throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.TakeTicketRequest()
        request.ticketID = id
        return try call(WorkflowV1.Workflow.takeTicket, request, as: principal)
    }

    func history(_ id: String) throws -> [WorkflowV1.HistoryEntry] {
        var request = WorkflowV1.GetHistoryRequest()
        request.ticketID = id
        return try call(WorkflowV1.Workflow.getHistory, request, as: Self.admin()).entries
    }
}
