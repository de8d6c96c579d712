import Foundation

/// A value bound to a `?` placeholder or read from a result column.
///
/// The five cases are the storage classes both engines agree on. Map richer types at the edge:
/// booleans are stored as `INTEGER` 0/1 (``SQLValue/init(_:)-(Bool)``), timestamps as epoch
/// milliseconds (``SQLValue/timestamp(_:)``), UUIDs as text.
///
/// ```swift
/// try db.write { tx in
///     try tx.execute("INSERT INTO tickets (id, title, urgent) VALUES (?, ?, ?)",
///                    [.text(id), "Impressora parada", SQLValue(true)])
/// }
/// ```
public enum SQLValue: Sendable, Hashable {
    /// SQL `NULL`.
    case null
    /// A 64-bit signed integer (`INTEGER` / `BIGINT`).
    case integer(Int64)
    /// A double-precision float (`REAL` / `DOUBLE PRECISION`).
    case real(Double)
    /// UTF-8 text (`TEXT`). PostgreSQL rejects the NUL character inside text.
    case text(String)
    /// Raw bytes (`BLOB` / `BYTEA`).
    case blob([UInt8])

    /// Whether this is ``null``.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}

// MARK: - Conveniences

extension SQLValue {
    /// An integer value.
    public init(_ value: Int) { self = .integer(Int64(value)) }

    /// A boolean as `INTEGER` 1 or 0, so both engines store and compare it the same way.
    public init(_ value: Bool) { self = .integer(value ? 1 : 0) }

    /// Text, or ``null`` when `value` is `nil`.
    public init(_ value: String?) { self = value.map(SQLValue.text) ?? .null }

    /// Bytes, or ``null`` when `value` is `nil`.
    public init(_ value: [UInt8]?) { self = value.map(SQLValue.blob) ?? .null }

    /// An integer, or ``null`` when `value` is `nil`.
    public init(_ value: Int64?) { self = value.map(SQLValue.integer) ?? .null }

    /// A point in time as integer milliseconds since the Unix epoch (UTC).
    public static func timestamp(_ date: Date) -> SQLValue {
        .integer(EpochMillis.from(date))
    }
}

extension SQLValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .null }
}

extension SQLValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension SQLValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .real(value) }
}

extension SQLValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
}

extension SQLValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self.init(value) }
}

extension SQLValue: CustomStringConvertible {
    /// A short human-readable rendering (blobs show their length only), for logs and errors.
    public var description: String {
        switch self {
        case .null: return "NULL"
        case .integer(let value): return String(value)
        case .real(let value): return String(value)
        case .text(let value): return "'\(value)'"
        case .blob(let bytes): return "<\(bytes.count) bytes>"
        }
    }
}
