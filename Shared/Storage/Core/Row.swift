import Foundation

/// One result row, readable by column name or by position.
///
/// Column names are matched exactly first and then case-insensitively, because PostgreSQL folds
/// unquoted identifiers to lower case while SQLite keeps them as written.
///
/// The typed accessors convert where the meaning is unambiguous, so the same code reads both
/// engines: ``int(_:)`` accepts an integral `REAL` or a numeric string (PostgreSQL `NUMERIC`
/// from `SUM`), ``double(_:)`` accepts integers, ``bool(_:)`` reads `INTEGER` 0/1.
///
/// ```swift
/// let row = try tx.queryOne("SELECT id, title, closed FROM tickets WHERE id = ?", [.text(id)])
/// let title = try row?.text("title")
/// ```
public struct Row: Sendable {
    /// Column names in result order.
    public let columns: [String]
    /// Values in result order.
    public let values: [SQLValue]

    /// Creates a row; `columns` and `values` must have the same count.
    public init(columns: [String], values: [SQLValue]) {
        precondition(columns.count == values.count, "a row needs one value per column")
        self.columns = columns
        self.values = values
    }

    /// The value of `column`, or ``SQLValue/null`` when there is no such column
    /// (use ``value(_:)`` to get an error instead).
    public subscript(_ column: String) -> SQLValue {
        index(of: column).map { values[$0] } ?? .null
    }

    /// The value at `index` (0-based); traps when out of range, like an array.
    public subscript(_ index: Int) -> SQLValue { values[index] }

    /// The value of `column`.
    /// - Throws: ``StorageError/Kind/typeMismatch`` when the row has no such column.
    public func value(_ column: String) throws -> SQLValue {
        guard let index = index(of: column) else {
            throw StorageError(.typeMismatch, "no column named '\(column)' in row with columns \(columns)")
        }
        return values[index]
    }

    /// The integer in `column`.
    /// - Throws: ``StorageError/Kind/typeMismatch`` when missing, `NULL` or not an integer.
    public func int(_ column: String) throws -> Int64 {
        let value = try value(column)
        switch value {
        case .integer(let number): return number
        case .real(let number) where number.rounded() == number && abs(number) < 9.2e18:
            return Int64(number)
        case .text(let string) where Int64(string) != nil:
            return Int64(string)!
        default: throw mismatch(column, value, "an integer")
        }
    }

    /// The integer in `column`, or `nil` when it is `NULL`.
    public func optionalInt(_ column: String) throws -> Int64? {
        try value(column).isNull ? nil : int(column)
    }

    /// The floating-point number in `column` (integers are converted).
    /// - Throws: ``StorageError/Kind/typeMismatch`` when missing, `NULL` or not a number.
    public func double(_ column: String) throws -> Double {
        let value = try value(column)
        switch value {
        case .real(let number): return number
        case .integer(let number): return Double(number)
        case .text(let string) where Double(string) != nil: return Double(string)!
        default: throw mismatch(column, value, "a number")
        }
    }

    /// The floating-point number in `column`, or `nil` when it is `NULL`.
    public func optionalDouble(_ column: String) throws -> Double? {
        try value(column).isNull ? nil : double(column)
    }

    /// The text in `column`.
    /// - Throws: ``StorageError/Kind/typeMismatch`` when missing, `NULL` or not text.
    public func text(_ column: String) throws -> String {
        let value = try value(column)
        guard case .text(let string) = value else { throw mismatch(column, value, "text") }
        return string
    }

    /// The text in `column`, or `nil` when it is `NULL`, missing or not text.
    public func optionalText(_ column: String) -> String? {
        if case .text(let string) = self[column] { return string }
        return nil
    }

    /// The bytes in `column`.
    /// - Throws: ``StorageError/Kind/typeMismatch`` when missing, `NULL` or not a blob.
    public func blob(_ column: String) throws -> [UInt8] {
        let value = try value(column)
        guard case .blob(let bytes) = value else { throw mismatch(column, value, "a blob") }
        return bytes
    }

    /// The bytes in `column`, or `nil` when it is `NULL`.
    public func optionalBlob(_ column: String) throws -> [UInt8]? {
        try value(column).isNull ? nil : blob(column)
    }

    /// The boolean stored as `INTEGER` 0/1 in `column` (any non-zero integer is `true`).
    public func bool(_ column: String) throws -> Bool {
        try int(column) != 0
    }

    /// The point in time stored as epoch milliseconds in `column` (see ``SQLValue/timestamp(_:)``).
    public func date(_ column: String) throws -> Date {
        EpochMillis.date(try int(column))
    }

    private func index(of column: String) -> Int? {
        if let exact = columns.firstIndex(of: column) { return exact }
        let lowered = column.lowercased()
        return columns.firstIndex { $0.lowercased() == lowered }
    }

    private func mismatch(_ column: String, _ value: SQLValue, _ expected: String) -> StorageError {
        StorageError(.typeMismatch, "column '\(column)' holds \(value), expected \(expected)")
    }
}
