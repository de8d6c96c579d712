import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport

/// The real `intake` executable (group commit on) on its own data directory, or its own
/// PostgreSQL database, with an organization and eight authorized contacts: for the tests that
/// kill it with `kill -9` while clients open tickets, then start it again on the same storage and
/// look for everything it acknowledged.
final class KillableIntake {
    let directory: TemporaryDirectory
    let environment: [String: String]
    private(set) var process: ServiceProcess
    let port: Int
    let secret: DeploymentSecret
    /// An agent's call options.
    let staff: CallOptions
    let organization: IntakeV1.Organization
    /// Call options of eight customers of ``organization``, one per client thread.
    let customers: [CallOptions]

    init(_ engine: DatabaseEngine) throws {
        directory = try TemporaryDirectory(prefix: "intake-kill")
        let secretText = "intake-kill-secret-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secretText, "INTAKE_GROUP_COMMIT": "true",
                           "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9"]
        if engine == .postgres { environment["INTAKE_DATABASE_URL"] = try PostgresTestServer.shared().createDatabase() }
        self.environment = environment
        process = try ServiceProcess(name: "intake", environment: environment)
        port = process.port
        secret = DeploymentSecret(bytes: Array(secretText.utf8))
        let signer = PrincipalSigner(secret: secret)
        staff = CallOptions(metadata: signer.metadata(for: IntakeHarness.agent()))
        let rpc = Self.client(port: port, secret: secret)
        defer { rpc.close() }
        var draft = IntakeV1.Organization()
        draft.name = "Acme"
        draft.taxID = "11.222.333/0001-81"
        draft.kind = .organizationCustomer
        draft.active = true
        let organization = try rpc.call(IntakeV1.Intake.createOrganization, draft, options: staff)
        self.organization = organization
        customers = try (0..<8).map { [staff] index -> CallOptions in
            var contact = IntakeV1.Contact()
            contact.organizationID = organization.id
            contact.name = "Pessoa \(index)"
            contact.email = "p\(index)@acme.example"
            contact.authorized = true
            contact = try rpc.call(IntakeV1.Intake.addContact, contact, options: staff)
            return CallOptions(metadata: signer.metadata(for: IntakeHarness.customer(contact)))
        }
    }

    /// A client with a connection per client thread and a 10 s deadline.
    func client() -> RPCClient { Self.client(port: port, secret: secret) }

    private static func client(port: Int, secret: DeploymentSecret) -> RPCClient {
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: port)], secret: secret)
        configuration.connectionsPerEndpoint = 8
        configuration.defaultTimeoutMilliseconds = 10_000
        return RPCClient(configuration: configuration)
    }

    /// `kill -9`.
    func kill() { process.stop(signal: SIGKILL) }

    /// An open the process acknowledged: its ticket, the client thread (0–7) and that client's round.
    typealias Acknowledged = (ticket: IntakeV1.Ticket, index: Int, round: Int)

    /// Eight clients (one per customer, each on a thread of its own) open tickets, client `index`'s
    /// round `round` with `request(index, round)`, until the process is killed (`kill -9`) once
    /// `count` opens were acknowledged or 20 s passed. Returns the acknowledged opens.
    func openUntilKilled(after count: Int = 200,
                         _ request: @escaping @Sendable (_ index: Int, _ round: Int) -> IntakeV1.OpenTicketRequest) -> [Acknowledged] {
        let rpc = client()
        let acknowledged = Mutex<[Acknowledged]>([])
        let group = DispatchGroup()
        for (index, customer) in customers.enumerated() {
            group.enter()
            Thread {
                defer { group.leave() }
                var round = 0
                while true {
                    guard let ticket = try? rpc.call(IntakeV1.Intake.openTicket, request(index, round), options: customer).ticket else { return }
                    acknowledged.withLock { $0.append((ticket, index, round)) }
                    round += 1
                }
            }.start()
        }
        let limit = Date().addingTimeInterval(20)
        while acknowledged.withLock({ $0.count }) < count && Date() < limit { usleep(5_000) }
        kill()
        group.wait()
        rpc.close()
        return acknowledged.withLock { $0 }
    }

    /// Starts the process again on the same storage and port.
    func restart() throws { process = try ServiceProcess(name: "intake", environment: environment, port: port) }

    deinit { process.stop() }
}
