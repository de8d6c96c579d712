import RPCTransport
import ServiceKit
import Storage

/// The knowledge service: its schema and the RPC methods and background work it registers.
public enum KnowledgeService {
    /// Versioned migrations of the knowledge database (appended to, never edited).
    public static let migrations: [Migration] = []

    /// Registers the service's methods, its event consumer and its outbox relay.
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws {
        let consumer = EventConsumer(consumer: "knowledge")
        consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        runtime.addBackground(EventPublisher(source: "knowledge").relay(runtime: runtime))
    }
}
