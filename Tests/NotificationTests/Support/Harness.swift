import Foundation
import Messages
@testable import NotificationCore
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import TestSupport

/// The notification service running in this process on a real database (SQLite file or the
/// test PostgreSQL cluster), answering RPC over loopback TCP, sending to real peers.
final class NotificationHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let secretText = "notification-tests-secret-0123456789"
    let secret: DeploymentSecret
    let host: ServiceHost
    let client: RPCClient
    let settings: NotificationSettings
    /// Workflow's stand-in at `WORKFLOW_ADDRESSES`: answers `GetTicketHolder` (every ticket visible
    /// to everyone unless a test hides one) and refuses events, so `EmailSent` stays in the outbox.
    let workflow: FakeWorkflow

    /// A service on `engine` sending e-mail to a fresh SMTP sink that writes each message it
    /// receives into `mailDirectory` (read with `ReceivedMail.all(in:)`).
    static func withSMTPSink(_ engine: DatabaseEngine) throws -> (mailDirectory: TemporaryDirectory, sink: PythonPeer, harness: NotificationHarness) {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        return (mailDirectory, sink, try NotificationHarness(engine: engine, settings: settings(smtpPort: sink.port)))
    }

    static func settings(smtpPort: Int) -> NotificationSettings {
        var settings = NotificationSettings()
        settings.smtpURL = "smtp://127.0.0.1:\(smtpPort)"
        settings.mailDomain = "suporte.example"
        settings.fromAddress = "suporte@suporte.example"
        settings.pollIntervalMilliseconds = 50
        settings.retry = RetryPolicy(maxAttempts: 4, baseMilliseconds: 50, maxMilliseconds: 400)
        settings.connectTimeoutMilliseconds = 2_000
        settings.sendTimeoutMilliseconds = 10_000
        settings.webhookTimeoutMilliseconds = 5_000
        // The test receivers listen on 127.0.0.1, blocked by default (WebhookAddressTests).
        settings.webhookBlockedNetworks = .none
        return settings
    }

    /// - Parameter stored: rows written before the service starts, on a database migrated only
    ///   to `version` (what an older release left), e.g. to see a migration carry them over.
    init(engine: DatabaseEngine, settings: NotificationSettings, rules: NotificationRules = .defaults,
         environment extra: [String: String] = [:],
         stored: (version: Int, write: (any SQLExecutor) throws -> Void)? = nil) throws {
        directory = try TemporaryDirectory(prefix: "notification-test")
        secret = DeploymentSecret(bytes: Array(secretText.utf8))
        self.settings = settings
        workflow = try FakeWorkflow(secret: secretText)
        var environment = [
            "OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secretText,
            "NOTIFICATION_PORT": String(try FreePort.next()),
            // The stand-in takes no events: EmailSent events stay in the outbox, where tests read them.
            "WORKFLOW_ADDRESSES": workflow.address,
        ]
        environment.merge(extra) { _, new in new }
        if engine == .postgres {
            environment["NOTIFICATION_DATABASE_URL"] = try ScratchDatabase(.postgres).configuration.url
        }
        if let stored {
            let configuration = DatabaseConfiguration(url: environment["NOTIFICATION_DATABASE_URL"],
                                                      sqlitePath: "\(directory.path)/notification.sqlite")
            let old = try openDatabase(configuration, migrations: NotificationService.migrations.filter { $0.version <= stored.version })
            defer { old.close() }
            try old.write { tx in try stored.write(tx) }
        }
        let configuration = try ServiceConfiguration(serviceName: "notification", arguments: ["test"], environment: environment)
        host = try ServiceMain.start(configuration: configuration, migrations: NotificationService.migrations,
                                     logger: Logger(service: "notification", level: .critical)) { runtime, router in
            try NotificationService.register(runtime: runtime, router: &router, settings: settings, rules: rules)
        }
        client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)], secret: secret))
    }

    deinit {
        client.close()
        host.stop()
    }

    var database: any Database { host.runtime.database }

    // MARK: calls

    func options(_ principal: AuthV1.Principal) -> CallOptions {
        CallOptions(timeoutMilliseconds: 10_000, metadata: PrincipalSigner(secret: secret).metadata(for: principal))
    }

    static func administrator() -> AuthV1.Principal {
        var p = AuthV1.Principal()
        p.kind = .agent
        p.id = "admin-1"
        p.displayName = "Admin"
        p.administrator = true
        p.accessLevel = 9
        p.email = "admin@suporte.example"
        return p
    }

    static func agent(id: String = "agent-1", email: String = "ana@suporte.example", level: Int32 = 1) -> AuthV1.Principal {
        var p = AuthV1.Principal()
        p.kind = .agent
        p.id = id
        p.displayName = "Ana"
        p.accessLevel = level
        p.email = email
        return p
    }

    static func customer() -> AuthV1.Principal {
        var p = AuthV1.Principal()
        p.kind = .customer
        p.id = "contact-1"
        p.email = "jose@cliente.example"
        p.organizationID = "org-1"
        return p
    }

    @discardableResult
    func deliver(_ envelopes: [EventsV1.EventEnvelope]) throws -> EventsV1.DeliverEventsResponse {
        var request = EventsV1.DeliverEventsRequest()
        request.events = envelopes
        return try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 10_000))
    }

    func deliveries(ticketID: String = "", recipient: String = "") throws -> [NotificationV1.Delivery] {
        var request = NotificationV1.ListDeliveriesRequest()
        request.ticketID = ticketID
        request.recipient = recipient
        return try client.call(NotificationV1.Notification.listDeliveries, request, options: options(Self.administrator())).deliveries
    }

    func stats() throws -> NotificationV1.GetStatsResponse {
        try client.call(NotificationV1.Notification.getStats, NotificationV1.GetStatsRequest(), options: options(Self.administrator()))
    }

    /// Outbox rows of `EmailSent` (what workflow will receive).
    func emailSentEvents() throws -> [NotificationV1.EmailSent] {
        try emailSentEnvelopes().map { try NotificationV1.EmailSent(serializedBytes: $0.payload) }
    }

    /// The envelopes of the `EmailSent` events in the outbox, oldest first.
    func emailSentEnvelopes() throws -> [EventsV1.EventEnvelope] {
        try database.read { tx in
            try tx.query("SELECT payload FROM storage_outbox WHERE event_type = ? ORDER BY seq", [.text(NotificationV1.EmailSent.protoName)])
                .map { try EventsV1.EventEnvelope(serializedBytes: try $0.blob("payload")) }
        }
    }
}

/// Builds events the way intake and workflow publish them.
enum Events {
    static func envelope<E: ProtoMessage>(_ event: E, id: String = UUID().uuidString, key: String, accessLevel: Int32 = 0) -> EventsV1.EventEnvelope {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = id
        envelope.type = E.protoName
        envelope.key = key
        envelope.source = E.protoName.contains(".intake.") ? "intake" : "workflow"
        envelope.occurredAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        envelope.payload = event.serializedBytes()
        envelope.accessLevel = accessLevel
        return envelope
    }

    static func person(_ id: String, _ name: String, _ email: String) -> CommonV1.PersonRef {
        var p = CommonV1.PersonRef()
        p.id = id
        p.name = name
        p.email = email
        return p
    }

    static func opened(ticketID: String = "t-\(UUID().uuidString.prefix(8))", code: String = "2026-000123",
                       contactEmail: String = "jose@cliente.example", organizationEmail: String = "ti@cliente.example",
                       subject: String = "Nota fiscal não é emitida", request: String = "Erro <script>alert(1)</script> & falha") -> IntakeV1.TicketOpened {
        var event = IntakeV1.TicketOpened()
        event.ticketID = ticketID
        event.code = code
        var organization = CommonV1.OrganizationRef()
        organization.id = "org-1"
        organization.name = "Cliente Ltda"
        organization.email = organizationEmail
        event.organization = organization
        event.contact = person("contact-1", "José Conceição", contactEmail)
        event.channel = "portal"
        event.subject = subject
        event.request = request
        return event
    }

    static func summary(ticketID: String, code: String = "2026-000200", accessLevel: Int32 = 0, locale: String = "pt-BR",
                        agentEmail: String = "ana@suporte.example", chefeEmail: String = "chefe@suporte.example") -> WorkflowV1.TicketSummary {
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = ticketID
        summary.code = code
        summary.organizationID = "org-1"
        summary.organizationName = "Cliente Ltda"
        summary.organizationEmail = "ti@cliente.example"
        summary.contact = person("contact-1", "José", "jose@cliente.example")
        summary.subject = "Cálculo de ICMS"
        summary.stage = "em_atendimento"
        summary.stageName = "Em atendimento"
        summary.customerStageName = "Em atendimento"
        var holder = WorkflowV1.Holder()
        holder.agentID = "agent-1"
        holder.agentName = "Ana"
        holder.agentEmail = agentEmail
        holder.groupID = "grp-fiscal"
        holder.groupName = "Fiscal"
        holder.chefeAgentID = "chefe-1"
        holder.chefeEmail = chefeEmail
        summary.holder = holder
        summary.accessLevel = accessLevel
        summary.locale = locale
        return summary
    }
}

/// `SendTicketEmail` requests as the tests' agent writes them: to the customer José, about one ticket.
enum TicketEmails {
    static func request(_ ticketID: String, code: String, subject: String, body: String, copies: [String] = [],
                        attachments: [NotificationV1.InlineAttachment] = [], refs: [String] = []) -> NotificationV1.SendTicketEmailRequest {
        var request = NotificationV1.SendTicketEmailRequest()
        request.ticketID = ticketID
        request.ticketCode = code
        request.to = ["jose@cliente.example"]
        request.copies = copies
        request.subject = subject
        request.body = body
        request.attachments = attachments
        request.attachmentRefs = refs.map(ref)
        return request
    }

    /// A file carried in the request itself.
    static func inline(_ fileName: String, contentType: String, _ content: [UInt8]) -> NotificationV1.InlineAttachment {
        var attachment = NotificationV1.InlineAttachment()
        attachment.fileName = fileName
        attachment.contentType = contentType
        attachment.content = content
        return attachment
    }

    /// A file stored in intake, named by its id only.
    static func ref(_ id: String) -> CommonV1.AttachmentRef {
        var ref = CommonV1.AttachmentRef()
        ref.id = id
        return ref
    }
}
