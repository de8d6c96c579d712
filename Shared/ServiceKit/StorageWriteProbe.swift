import Foundation
import Observability
import RPCTransport
import Storage

/// A service's readiness as its database's writes show it: NOT_SERVING while the most recent
/// write failed because the database cannot take work (``Storage/WriteHealth``: unreachable,
/// locked, disk full), SERVING again after the next write commits.
///
/// No write is added per health check: the state comes from the service's own writes. While it
/// is failing, and only then, a small probe write (``Storage/Database/probeWrite()``, one row of
/// `storage_write_probe`) is committed every `OCORRENCIAS_STORAGE_PROBE_MS` (5000) milliseconds,
/// so that the service comes back once the database takes writes again even when no caller
/// writes (a load balancer stops sending them work while it is not ready). A probe is a real
/// write because only one tells the truth: `SELECT 1` answers on a full disk, and SQLite's
/// `BEGIN IMMEDIATE` succeeds on one too.
///
/// Started by ``ServiceMain`` for every service; changes are logged (warning when writes start
/// failing, notice when they work again).
public final class StorageWriteProbe: BackgroundService, @unchecked Sendable {
    let database: any Database
    let logger: Logger
    let intervalSeconds: Double
    private let loop = BackgroundLoop(name: "storage write probe")
    // Touched by the loop's thread only.
    private var reported: String?

    /// The milliseconds `OCORRENCIAS_STORAGE_PROBE_MS` may say.
    static let intervalRange = 10...600_000

    /// - Throws: ``ConfigurationError`` for a malformed `OCORRENCIAS_STORAGE_PROBE_MS`.
    public init(database: any Database, environment: [String: String], logger: Logger) throws {
        self.database = database
        self.logger = logger
        let milliseconds = try EnvironmentSettings(environment).integer("OCORRENCIAS_STORAGE_PROBE_MS", in: Self.intervalRange) ?? 5_000
        intervalSeconds = Double(milliseconds) / 1000
    }

    /// The health a service reports: not serving while writes fail, else whether the database
    /// answers at all.
    public static func health(of database: any Database) -> BuiltinServices.HealthStatus {
        if let failure = database.writeHealth.failure {
            return .notServing("banco de dados não aceita escritas / the database takes no writes: \(failure)")
        }
        do {
            try database.ping()
            return .serving
        } catch {
            return .notServing("banco de dados não responde / database does not answer: \(error)")
        }
    }

    /// One look: probes while writes fail, and logs a change since the last look.
    func pass() {
        if database.writeHealth.failure != nil { _ = try? database.probeWrite() }
        let failure = database.writeHealth.failure
        guard (failure == nil) != (reported == nil) else { return }
        if let failure {
            logger.warning("database takes no writes: not serving until a write commits", ["cause": failure])
        } else {
            logger.notice("database takes writes again: serving")
        }
        reported = failure
    }

    public func start() { loop.start(every: intervalSeconds) { [self] in pass() } }
    public func stop() { loop.stop() }
}
