import Foundation
import IntakeCore
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import TestSupport

/// A real intake service started in this process (real RPC server on a loopback port, real
/// SQLite file or PostgreSQL database), a client, and helpers to act as staff or customers.
final class IntakeHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let host: ServiceHost
    let intake: IntakeContext
    let client: RPCClient
    let signer: PrincipalSigner
    let secretText: String
    let environment: [String: String]
    /// Workflow's stand-in, at `WORKFLOW_ADDRESSES` unless the test names another address: every
    /// agent may see every ticket until the test says otherwise (``FakeWorkflow/hide(_:from:)``).
    let workflow: FakeWorkflow

    /// - Parameters:
    ///   - databaseURL: share an existing PostgreSQL database (a second instance); `nil` makes a new one.
    ///   - sqlitePath: share an SQLite directory with another instance.
    init(_ engine: DatabaseEngine, environment extra: [String: String] = [:], databaseURL: String? = nil,
         dataDirectory: String? = nil, secret: String? = nil) throws {
        directory = try TemporaryDirectory(prefix: "intake-test")
        secretText = secret ?? "intake-test-secret-\(UUID().uuidString)"
        workflow = try FakeWorkflow(secret: secretText)
        var environment = [
            "OCORRENCIAS_DATA_DIR": dataDirectory ?? directory.path, "OCORRENCIAS_SECRET": secretText,
            "INTAKE_PORT": String(try FreePort.next()),
            // Events stay in the outbox, where the tests read them: the stand-in answers their
            // delivery UNAVAILABLE, and nobody listens at port 9.
            "WORKFLOW_ADDRESSES": workflow.address, "NOTIFICATION_ADDRESSES": "127.0.0.1:9",
            // Workflow is asked on every call (the cache has its own test).
            "INTAKE_WORKFLOW_ACCESS_CACHE_MILLISECONDS": "0",
        ]
        if engine == .postgres {
            environment["INTAKE_DATABASE_URL"] = try databaseURL ?? PostgresTestServer.shared().createDatabase()
        }
        for (key, value) in extra { environment[key] = value }
        self.environment = environment
        let configuration = try ServiceConfiguration(serviceName: "intake", arguments: ["test"], environment: environment)
        var captured: IntakeContext?
        host = try ServiceMain.start(configuration: configuration, migrations: IntakeService.migrations,
                                     logger: Logger(service: "intake", level: .critical)) { runtime, router in
            captured = try IntakeService.register(runtime: runtime, router: &router)
        }
        intake = captured!
        let secretValue = DeploymentSecret(bytes: Array(secretText.utf8))
        var clientConfiguration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)], secret: secretValue)
        clientConfiguration.callerName = "test"
        clientConfiguration.defaultTimeoutMilliseconds = 30_000
        client = RPCClient(configuration: clientConfiguration)
        signer = PrincipalSigner(secret: secretValue)
    }

    deinit {
        client.close()
        host.stop()
    }

    var database: any Database { host.runtime.database }

    // MARK: principals

    static func agent(_ id: String = "agent-1", administrator: Bool = true, permissions: [String] = [], chefe: Bool = false) -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = id
        principal.displayName = "Agente \(id)"
        principal.email = "\(id)@suporte.example"
        principal.administrator = administrator
        principal.permissions = permissions
        principal.chefe = chefe
        principal.accessLevel = 1
        return principal
    }

    static func customer(_ contact: IntakeV1.Contact, admin: Bool = false) -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = contact.id
        principal.displayName = contact.name
        principal.email = contact.email
        principal.organizationID = contact.organizationID
        principal.organizationAdmin = admin
        return principal
    }

    func options(_ principal: AuthV1.Principal, key: String? = nil) -> CallOptions {
        CallOptions(timeoutMilliseconds: 30_000, metadata: signer.metadata(for: principal), idempotencyKey: key)
    }

    var staff: CallOptions { options(Self.agent()) }

    // MARK: directory fixtures

    func organization(_ name: String, taxID: String, kind: IntakeV1.OrganizationKind = .organizationCustomer,
                      active: Bool = true, code: String = "") throws -> IntakeV1.Organization {
        var value = IntakeV1.Organization()
        value.name = name
        value.taxID = taxID
        value.kind = kind
        value.active = active
        value.code = code
        value.plan = "premium"
        value.accountOwnerAgentID = "agent-owner"
        let created = try client.call(IntakeV1.Intake.createOrganization, value, options: staff)
        guard !active else { return created }
        var inactive = created
        inactive.active = false
        return try client.call(IntakeV1.Intake.updateOrganization, inactive, options: staff)
    }

    func contact(_ organization: IntakeV1.Organization, _ name: String, email: String, authorized: Bool = true,
                 admin: Bool = false) throws -> IntakeV1.Contact {
        var value = IntakeV1.Contact()
        value.organizationID = organization.id
        value.name = name
        value.email = email
        value.phone = "+55 11 5555-0000"
        value.authorized = authorized
        value.admin = admin
        return try client.call(IntakeV1.Intake.addContact, value, options: staff)
    }

    static func request(_ organization: IntakeV1.Organization, subject: String = "Nota fiscal não transmite",
                        text: String = "Ao transmitir a NF-e a rotina FIS001 devolve erro 539.") -> IntakeV1.OpenTicketRequest {
        var request = IntakeV1.OpenTicketRequest()
        request.organizationID = organization.id
        request.category = .problema
        request.priority = .alta
        request.product = "ERP"
        request.module = "Fiscal"
        request.subject = subject
        request.request = text
        var details = CommonV1.TechnicalDetails()
        details.systemVersion = "12.1.2310"
        details.database = "SQL Server"
        details.environment = "cloud"
        details.companyBranch = "01/0001"
        details.routine = "FIS001"
        details.affectedUsers = "all users"
        request.details = details
        return request
    }

    // MARK: reading what intake stored

    func count(_ table: String) throws -> Int64 {
        try database.read { try $0.scalar("SELECT COUNT(*) FROM \(table)").integerValue }
    }

    /// Contents whose `ref_count` is not the number of attachment rows naming them (what garbage
    /// collection relies on), as "sha: counted / rows"; empty when every count is exact.
    func referenceCountMismatches() throws -> [String] {
        try database.read { tx in
            try tx.query("""
                SELECT c.sha256, c.ref_count, (SELECT COUNT(*) FROM attachments a WHERE a.sha256 = c.sha256) AS actual
                FROM contents c ORDER BY c.sha256
                """).compactMap { row in
                let counted = try row.int("ref_count"), actual = try row.int("actual")
                return counted == actual ? nil : "\(try row.text("sha256").prefix(12)): \(counted) / \(actual)"
            }
        }
    }

    /// Events intake queued for workflow, decoded envelopes in order.
    func events() throws -> [EventsV1.EventEnvelope] {
        try database.read { tx in
            try tx.query("SELECT payload FROM storage_outbox WHERE event_key LIKE 'workflow|%' ORDER BY seq").map {
                try EventsV1.EventEnvelope(serializedBytes: try $0.blob("payload"))
            }
        }
    }

    func events<Event: ProtoMessage>(_ type: Event.Type) throws -> [Event] {
        try events().filter { $0.type == Event.protoName }.map { try Event(serializedBytes: $0.payload) }
    }
}

extension SQLValue {
    var integerValue: Int64 {
        switch self {
        case .integer(let value): return value
        case .text(let text): return Int64(text) ?? -1
        case .real(let value): return Int64(value)
        default: return -1
        }
    }
}

/// Runs `body` and returns the RPC error it threw.
func rpcError(_ body: () throws -> Void) -> RPCError? {
    do {
        try body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(.unknown, "\(error)")
    }
}

/// Hex SHA-256.
func sha256Hex(_ bytes: [UInt8]) -> String { Digest.hex(Digest.sha256(bytes)) }
