import Foundation
import Messages
import Observability
import RPCTransport
import ServiceKit
import Storage
import TestSupport
@testable import WorkflowCore

/// Call options signed for an agent `id` at `level` (an administrator when `admin`), with `secret`.
func agentOptions(_ secret: DeploymentSecret, id: String, level: Int32, admin: Bool = false) -> CallOptions {
    var p = AuthV1.Principal()
    p.kind = .agent
    p.id = id
    p.administrator = admin
    p.accessLevel = level
    return CallOptions(timeoutMilliseconds: 10_000, metadata: PrincipalSigner(secret: secret).metadata(for: p))
}

/// `time`'s `WorkflowTime` RPC service on a loopback port (real TCP, deployment handshake) and a
/// client of it; both closed when this goes.
final class TimeAPIServer {
    let server: RPCServer
    let client: RPCClient

    init(_ time: WorkflowTime, secret: DeploymentSecret) throws {
        var router = RPCRouter()
        time.register(router: &router, principals: PrincipalSigner(secret: secret))
        var configuration = ServerConfiguration(serviceName: "workflow", secret: secret)
        configuration.port = 0
        server = RPCServer(configuration: configuration, router: router, logger: Logger(service: "workflow", level: .critical))
        try server.start()
        client = RPCClient(configuration: ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: server.port)], secret: secret))
    }

    deinit {
        client.close()
        server.shutdown(gracePeriodMilliseconds: 100)
    }
}

/// The set-up of the tests that drive `WorkflowTime` over its RPC service: a scratch database on
/// `engine` with `migrations`, a simulated clock at `start` (São Paulo time, see `sp`), a
/// `WorkflowTime` on both (survey links under ``surveyBaseURL`` unless `configuration` says
/// otherwise) and its service on a loopback port with a client. The service stops, then the
/// database closes, when this goes.
final class TimeAPIFixture {
    static let surveyBaseURL = "https://s.example/p/"
    let database: any Database
    let clock: SimulatedClock
    let time: WorkflowTime
    private var server: TimeAPIServer?

    init(_ engine: DatabaseEngine, secret: DeploymentSecret, at start: String,
         migrations: [Migration] = WorkflowTimeMigrations.all,
         configuration: WorkflowTime.Configuration = TimeAPIFixture.defaultConfiguration) throws {
        database = try ScratchDatabase(engine).open(migrations: migrations)
        clock = SimulatedClock(sp(start))
        time = WorkflowTime(database: database, secret: secret, configuration: configuration, clock: clock.function)
        server = try TimeAPIServer(time, secret: secret)
    }

    /// The configuration the fixture uses unless told otherwise: survey links under ``surveyBaseURL``.
    static var defaultConfiguration: WorkflowTime.Configuration {
        var configuration = WorkflowTime.Configuration()
        configuration.surveyBaseURL = surveyBaseURL
        return configuration
    }

    /// A client of the service (real TCP, deployment handshake).
    var client: RPCClient { server!.client }

    /// The survey token in `link`, a link made under ``surveyBaseURL``.
    static func surveyToken(_ link: String) -> String { String(link.dropFirst(surveyBaseURL.count)) }

    /// Sets the clock to `when` (São Paulo time, as ``sp(_:_:)``) and runs `body` in a write.
    func at(_ when: String, _ body: (any SQLExecutor) throws -> Void) throws {
        clock.set(sp(when))
        try database.write(body)
    }

    deinit {
        server = nil
        database.close()
    }
}

/// Events of `type` published to notification (one outbox row per subscriber), oldest first.
func publishedEvents<Event: ProtoMessage>(_ database: any Database, _ type: Event.Type, ticketID: String? = nil) throws -> [Event] {
    try database.read { tx in
        try tx.query("SELECT payload FROM storage_outbox WHERE event_type = ? AND event_key LIKE 'notification|%' ORDER BY seq",
                     [.text(Event.protoName)])
    }.compactMap { row -> Event? in
        let envelope = try EventsV1.EventEnvelope(serializedBytes: try row.blob("payload"))
        if let ticketID, envelope.key != ticketID { return nil }
        return try Event(serializedBytes: envelope.payload)
    }
}
