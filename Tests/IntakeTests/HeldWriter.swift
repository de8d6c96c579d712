import Foundation
import Storage

/// Holds a write transaction open on intake's database until ``release()``, so the calls made
/// meanwhile queue behind it and then run together (one group-commit batch). On SQLite the open
/// transaction holds the writer itself; on PostgreSQL `hold` runs in it first and takes the lock
/// the calls will wait on.
final class HeldWriter: Sendable {
    private let released = DispatchSemaphore(value: 0)

    /// Returns once the transaction is open (and, on PostgreSQL, `hold` has run).
    init(_ database: any Database, postgres hold: @escaping @Sendable (any SQLExecutor) throws -> Void) {
        let holding = DispatchSemaphore(value: 0)
        let released = self.released
        Thread {
            try? database.write { tx in
                if tx.engine == .postgres { try hold(tx) }
                holding.signal()
                released.wait()
            }
        }.start()
        holding.wait()
    }

    /// Holds this year's ticket code counter row on PostgreSQL, which every open takes its number from.
    convenience init(_ database: any Database, ticketYear year: some CustomStringConvertible) {
        let name = "ticket-\(year)"
        self.init(database) { tx in _ = try tx.query("SELECT last_value FROM counters WHERE name = ? FOR UPDATE", [.text(name)]) }
    }

    /// Lets the held transaction finish.
    func release() { released.signal() }
}
