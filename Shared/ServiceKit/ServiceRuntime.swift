import Foundation
import Observability
import RPC
import RPCTransport
import Storage

/// What a service's core library receives at start-up: its configuration, logger, database,
/// deployment secret, clients for the services it calls, and a place for background work.
public final class ServiceRuntime: @unchecked Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    public let database: any Database
    public let secret: DeploymentSecret
    /// Signs and verifies principals with ``secret``; one per runtime, so that what it
    /// verified once is not verified again (``PrincipalSigner/principal(of:)``).
    public let principals: PrincipalSigner
    /// Seals stored answers that hold a secret (``ResponseSeal``), its key derived once from ``secret``.
    public let responseSeal: ResponseSeal
    /// Events this instance's relay hands to watchers (``EventFeed``, `EventFeed/Watch`).
    public let eventFeed = EventFeed()
    private let lock = ConditionLock()
    // Guarded by lock.
    private var clients: [String: RPCClient] = [:]
    private var background: [any BackgroundService] = []
    private var listeners: [String: ListeningSocket]

    /// - Parameter listeners: the ports bound before the database opened, by ``ServicePort/name``.
    public init(configuration: ServiceConfiguration, logger: Logger, database: any Database, secret: DeploymentSecret,
                listeners: [String: ListeningSocket] = [:]) {
        self.listeners = listeners
        self.configuration = configuration
        self.logger = logger
        self.database = database
        self.secret = secret
        principals = PrincipalSigner(secret: secret, environment: configuration.environment)
        responseSeal = ResponseSeal(secret: secret)
    }

    public var serviceName: String { configuration.serviceName }

    /// A client for `service` (its instances from `<SERVICE>_ADDRESSES`), created once.
    public func client(for service: String) -> RPCClient {
        lock.withLock {
            if let existing = clients[service] { return existing }
            var client = ClientConfiguration(endpoints: configuration.endpoints(of: service), secret: secret)
            client.callerName = configuration.serviceName
            // The deployment's frame limit (`OCORRENCIAS_RPC_MAX_FRAME_BYTES`), which the other
            // services enforce as servers: a larger request is refused here, alone.
            client.maxFrameSize = configuration.limits.maxFrameSize
            let created = RPCClient(configuration: client)
            clients[service] = created
            return created
        }
    }

    /// The socket bound for the port named `name` (``ServicePort``) before the database opened,
    /// handed over once; nil when none was (a server then binds its port itself).
    public func listener(_ name: String) -> ListeningSocket? {
        lock.withLock { listeners.removeValue(forKey: name) }
    }

    /// Runs `service` while the process runs; it is started after the server listens and
    /// stopped before the database closes.
    public func addBackground(_ service: any BackgroundService) {
        lock.withLock { background.append(service) }
    }

    var backgroundServices: [any BackgroundService] { lock.withLock { background } }

    func closeClients() {
        for client in lock.withLock({ Array(clients.values) }) { client.close() }
    }
}

/// Long-running work of a service (outbox relay, timers, mail polling).
public protocol BackgroundService: AnyObject, Sendable {
    func start()
    /// Stops and waits until the work has ended.
    func stop()
}

extension OutboxRelay: BackgroundService {}
