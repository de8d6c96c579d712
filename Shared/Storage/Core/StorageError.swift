/// An error from the storage layer, classified so callers can react by ``Kind`` rather than by
/// parsing engine messages. The same ``Kind`` is reported for the same situation on SQLite and on
/// PostgreSQL (for example ``Kind/uniqueViolation`` for SQLite `SQLITE_CONSTRAINT_UNIQUE` and
/// PostgreSQL SQLSTATE `23505`).
///
/// ```swift
/// do {
///     try db.write { tx in try tx.execute("INSERT INTO users (email) VALUES (?)", [.text(email)]) }
/// } catch let error as StorageError where error.kind == .uniqueViolation {
///     // e-mail already registered
/// }
/// ```
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, by meaning.
    public enum Kind: String, Sendable, Hashable {
        /// The database could not be reached or the connection broke before a commit was sent.
        /// ``Database/write(_:)`` retries these; a transaction was certainly not committed.
        case connection
        /// The connection broke while `COMMIT` was in flight: the transaction may or may not have
        /// been committed. Never retried automatically; make the operation idempotent to recover.
        case commitOutcomeUnknown
        /// The database is locked by another process (SQLite `SQLITE_BUSY`, PostgreSQL `55P03`).
        /// Retried by ``Database/write(_:)``.
        case busy
        /// A serialization failure or deadlock (PostgreSQL `40001`/`40P01`). Retried by
        /// ``Database/write(_:)``.
        case serialization
        /// A `UNIQUE` or `PRIMARY KEY` constraint was violated.
        case uniqueViolation
        /// Another constraint was violated (foreign key, `NOT NULL`, `CHECK`).
        case constraint
        /// The SQL could not be compiled: a syntax error or an unknown table or column.
        case syntax
        /// A schema migration could not be applied or the recorded history disagrees with the code.
        case migration
        /// No pooled connection became free within the configured acquire timeout.
        case timeout
        /// An idempotency key was reused with a different request (see ``IdempotencyStore``).
        case idempotencyMismatch
        /// A column was missing or held a value of another type than the one asked for.
        case typeMismatch
        /// The API was used in a way that cannot work (wrong parameter count, nested write, ...).
        case misuse
        /// The database has been closed.
        case closed
        /// Anything else reported by the engine.
        case other
    }

    /// The classification of the failure.
    public var kind: Kind
    /// A human-readable explanation, including the engine's own message.
    public var message: String
    /// The statement that failed, when there was one.
    public var sql: String?
    /// The engine's code: a PostgreSQL SQLSTATE (`"23505"`) or a SQLite extended result code
    /// (`"2067"`).
    public var code: String?

    /// Creates an error.
    public init(_ kind: Kind, _ message: String, sql: String? = nil, code: String? = nil) {
        self.kind = kind
        self.message = message
        self.sql = sql
        self.code = code
    }

    /// Whether ``Database/write(_:)`` and ``Database/read(_:)`` retry the transaction after this
    /// error: busy databases, serialization failures and connections that broke before `COMMIT`.
    public var isRetryable: Bool {
        switch kind {
        case .connection, .busy, .serialization: return true
        default: return false
        }
    }

    /// Whether the database cannot take work right now, for a reason that passes without the
    /// request changing: unreachable or restarting (``Kind/connection``, PostgreSQL class `57P`),
    /// no free connection in time (``Kind/timeout``), locked (``Kind/busy``), closed (the process is
    /// stopping), or out of room (SQLite `SQLITE_FULL`, PostgreSQL class `53`: disk full, out of
    /// memory, too many connections). Services answer these `UNAVAILABLE` (the gateway: 503)
    /// rather than `INTERNAL`.
    public var isUnavailable: Bool {
        switch kind {
        case .connection, .timeout, .busy, .closed: return true
        default: break
        }
        guard let code else { return false }
        // A SQLSTATE has five characters (`53100`); SQLite's (extended) codes at most four digits.
        if code.count == 5 { return code.hasPrefix("53") || code.hasPrefix("57P") }
        return Int32(code).map { $0 & 0xff == 13 } ?? false   // SQLITE_FULL
    }

    public var description: String {
        var text = "StorageError.\(kind.rawValue): \(message)"
        if let code { text += " [code \(code)]" }
        if let sql { text += " (SQL: \(sql.count > 300 ? String(sql.prefix(300)) + "…" : sql))" }
        return text
    }
}
