import Foundation
import Observability
import RPCTransport
import Storage
import Synchronization

/// What a service does between binding its ports and serving (opening and migrating its
/// database, then setting up), for the answers it gives meanwhile and its log.
///
/// ``ServiceMain`` starts the RPC server at once with ``reason`` as its health answer
/// (`NOT_SERVING`, "migrando o banco de dados (migração 12 de 30: service 185 …) / migrating the
/// database (migration 12 of 30: …)"; every other call `UNAVAILABLE`), and hands
/// ``report(_:)`` to ``Storage/openDatabase(_:migrations:progress:)``. The log says when the
/// migrations start (`database migrations started`, with how many are pending) and end
/// (`database migrations finished`, with `duration_ms`), each migration applied (info), and a
/// wait for the schema lock (`banco bloqueado, aguardando / database locked, waiting`, warning,
/// at most once a minute while it lasts).
public final class StartupProgress: Sendable {
    private struct State {
        var reason = StartupProgress.opening
        var migrationsStarted: ContinuousClock.Instant?
        var lastWaitLogged: ContinuousClock.Instant?
        var applying: (label: String, since: ContinuousClock.Instant)?
        var applied = 0
    }

    private let logger: Logger
    private let state = Mutex(State())

    /// Before the database answers.
    static let opening = StartingReason(pt: "abrindo o banco de dados", en: "opening the database")
    /// After the migrations, while the service sets itself up.
    static let preparing = StartingReason(pt: "preparando o serviço", en: "preparing the service")
    /// How often a lasting wait for the schema lock is logged again.
    static let waitLogInterval = Duration.seconds(60)

    public init(logger: Logger) { self.logger = logger }

    /// Why the service does not serve yet.
    public var reason: StartingReason { state.withLock { $0.reason } }

    /// Migrations this start applied (0 when the schema was current).
    public var appliedMigrations: Int { state.withLock { $0.applied } }

    /// Takes in where the migrations stand: updates ``reason`` and logs.
    public func report(_ progress: MigrationProgress) {
        let now = ContinuousClock.now
        var lines: [(level: Logger.Level, message: String, extra: [String: String])] = []
        state.withLock { state in
            switch progress {
            case .checking:
                state.reason = StartingReason(pt: "verificando as migrações do banco de dados", en: "checking the database's migrations")
            case .started(let count):
                state.migrationsStarted = now
                lines.append((.notice, "database migrations started", ["pending": String(count)]))
            case .applying(let step, let count, let migration):
                if let previous = state.applying {
                    lines.append((.info, "database migration applied", ["migration": previous.label, "duration_ms": Self.milliseconds(now - previous.since)]))
                }
                state.applying = (migration, now)
                state.lastWaitLogged = nil
                state.reason = StartingReason(pt: "migrando o banco de dados (migração \(step) de \(count): \(migration))",
                                              en: "migrating the database (migration \(step) of \(count): \(migration))")
            case .waitingForLock(let step, let count, let migration, let cause):
                state.reason = StartingReason(pt: "banco bloqueado, aguardando para aplicar a migração \(step) de \(count) (\(migration))",
                                              en: "database locked, waiting to apply migration \(step) of \(count) (\(migration))")
                if state.lastWaitLogged.map({ now - $0 >= Self.waitLogInterval }) ?? true {
                    state.lastWaitLogged = now
                    lines.append((.warning, "banco bloqueado, aguardando / database locked, waiting",
                                  ["migration": migration, "step": "\(step) of \(count)", "cause": cause]))
                }
            case .finished(let applied):
                if let previous = state.applying {
                    lines.append((.info, "database migration applied", ["migration": previous.label, "duration_ms": Self.milliseconds(now - previous.since)]))
                }
                state.applying = nil
                state.applied = applied
                let took = state.migrationsStarted.map { now - $0 } ?? .zero
                lines.append((.notice, "database migrations finished", ["applied": String(applied), "duration_ms": Self.milliseconds(took)]))
                state.reason = Self.preparing
            }
        }
        for line in lines { logger.log(line.level, line.message, line.extra) }
    }

    private static func milliseconds(_ duration: Duration) -> String {
        String(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
    }
}

/// What a service's `prepare` step gets before its database opens
/// (``ServiceMain/start(configuration:migrations:logger:databaseTuning:ports:prepare:)``): its
/// configuration, logger, the ports bound for it, and why it does not serve yet.
public final class ServiceStartup: Sendable {
    public let configuration: ServiceConfiguration
    public let logger: Logger
    /// The deployment secret (for a server the service starts here).
    public let secret: DeploymentSecret
    /// Where the start stands; ``StartupProgress/reason`` is what to answer meanwhile.
    public let progress: StartupProgress
    private let listeners: Mutex<[String: ListeningSocket]>
    private let cleanups = Mutex<[@Sendable () -> Void]>([])

    init(configuration: ServiceConfiguration, logger: Logger, secret: DeploymentSecret, progress: StartupProgress,
         listeners: [String: ListeningSocket]) {
        self.configuration = configuration
        self.logger = logger
        self.secret = secret
        self.progress = progress
        self.listeners = Mutex(listeners)
    }

    /// The socket bound for the port named `name` (``ServicePort``), handed over once; those not
    /// taken here go to ``ServiceRuntime/listener(_:)``.
    public func listener(_ name: String) -> ListeningSocket? {
        listeners.withLock { $0.removeValue(forKey: name) }
    }

    /// Runs `cleanup` if the start fails after this (a migration or the setup throws): what
    /// `prepare` started stops with it.
    public func onFailedStart(_ cleanup: @escaping @Sendable () -> Void) {
        cleanups.withLock { $0.append(cleanup) }
    }

    func remainingListeners() -> [String: ListeningSocket] { listeners.withLock { $0 } }

    func startFailed() {
        for cleanup in cleanups.withLock({ $0 }).reversed() { cleanup() }
    }
}
