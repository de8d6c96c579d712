import CPostgres
import Foundation

/// Maps libpq failures and SQLSTATE codes to ``StorageError`` kinds, in one place.
enum PostgresErrors {
    // PG_DIAG_* are character-literal macros; these are their values.
    private static let fieldSQLState = Int32(UInt8(ascii: "C"))
    private static let fieldPrimary = Int32(UInt8(ascii: "M"))
    private static let fieldDetail = Int32(UInt8(ascii: "D"))
    private static let fieldHint = Int32(UInt8(ascii: "H"))

    /// The error described by a failed `result` (or by the connection when there is no result).
    static func error(result: OpaquePointer?, connection: OpaquePointer?, sql: String?) -> StorageError {
        let connectionLost = connection.map { PQstatus($0) == CONNECTION_BAD } ?? true
        guard let result else {
            return StorageError(.connection, connectionMessage(connection), sql: sql)
        }
        let state = field(result, fieldSQLState)
        var message = field(result, fieldPrimary) ?? trimmed(PQresultErrorMessage(result)).nonEmpty ?? connectionMessage(connection)
        if let detail = field(result, fieldDetail) { message += " — \(detail)" }
        if let hint = field(result, fieldHint) { message += " (hint: \(hint))" }
        let kind = connectionLost ? .connection : kind(sqlState: state, message: message)
        return StorageError(kind, message, sql: sql, code: state)
    }

    /// The error for a connection that could not be established or was lost.
    static func connectionError(_ connection: OpaquePointer?, context: String, sql: String? = nil) -> StorageError {
        StorageError(.connection, "\(context): \(connectionMessage(connection))", sql: sql)
    }

    /// The kind for SQLSTATE `state`.
    static func kind(sqlState state: String?, message: String) -> StorageError.Kind {
        guard let state else { return .other }
        switch state {
        case "23505": return .uniqueViolation
        case "40001", "40P01": return .serialization
        case "55P03": return .busy
        case "57P01", "57P02", "57P03", "53300": return .connection
        // A cached prepared statement whose result shape changed after DDL: the statement is
        // dropped from the cache and the transaction retried with a fresh one.
        case "0A000" where message.contains("cached plan"): return .serialization
        default: break
        }
        if state.hasPrefix("23") { return .constraint }
        if state.hasPrefix("42") { return .syntax }
        if state.hasPrefix("08") { return .connection }
        return .other
    }

    private static func field(_ result: OpaquePointer, _ code: Int32) -> String? {
        PQresultErrorField(result, code).map { String(cString: $0) }?.nonEmpty
    }

    private static func connectionMessage(_ connection: OpaquePointer?) -> String {
        guard let connection else { return "no connection" }
        return trimmed(PQerrorMessage(connection)).nonEmpty ?? "connection lost"
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return String(cString: text).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

extension String {
    /// `nil` when empty.
    var nonEmpty: String? { isEmpty ? nil : self }
}
