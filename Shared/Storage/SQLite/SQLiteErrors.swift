import CSQLite

/// Maps SQLite result codes to ``StorageError`` kinds, in one place.
enum SQLiteErrors {
    // Extended codes are macro expressions Swift does not import.
    private static let constraintUnique: Int32 = 2067      // SQLITE_CONSTRAINT_UNIQUE
    private static let constraintPrimaryKey: Int32 = 1555  // SQLITE_CONSTRAINT_PRIMARYKEY

    /// The error for extended result `code`.
    /// - Parameter duringPrepare: Compilation failures are reported as ``StorageError/Kind/syntax``
    ///   (bad SQL, unknown table or column).
    static func error(code: Int32, message: String, sql: String?, duringPrepare: Bool) -> StorageError {
        StorageError(kind(code: code, duringPrepare: duringPrepare), message, sql: sql, code: String(code))
    }

    static func kind(code: Int32, duringPrepare: Bool) -> StorageError.Kind {
        switch code & 0xff {
        case SQLITE_CONSTRAINT:
            return code == constraintUnique || code == constraintPrimaryKey ? .uniqueViolation : .constraint
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .busy
        case SQLITE_CANTOPEN:
            return .connection
        case SQLITE_MISUSE, SQLITE_RANGE:
            return .misuse
        case SQLITE_ERROR where duringPrepare:
            return .syntax
        default:
            return .other
        }
    }
}
