import RPCTransport
import ServiceKit
import Storage

/// The intake service: its schema and the RPC methods and background work it registers.
public enum IntakeService {
    /// Versioned migrations of the intake database (appended to, never edited).
    public static let migrations: [Migration] = []

    /// Registers the service's methods, its event consumer and its outbox relay.
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws {
        let consumer = EventConsumer(consumer: "intake")
        consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        runtime.addBackground(EventPublisher(source: "intake").relay(runtime: runtime))
    }
}
