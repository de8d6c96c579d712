import CPostgres
import Foundation

/// Conversions between ``SQLValue`` and libpq's parameter and result formats.
///
/// Parameters: integers, reals and text go in text format and the server infers their types from
/// the statement; blobs go in binary format (raw bytes for `BYTEA`). Results are read in text
/// format and converted by column type: integer types → ``SQLValue/integer(_:)``, `BOOLEAN` →
/// integer 0/1, floats → ``SQLValue/real(_:)``, `NUMERIC` → integer when integral else real,
/// `BYTEA` → ``SQLValue/blob(_:)``, everything else → ``SQLValue/text(_:)``.
enum PostgresValues {
    // Type OIDs from pg_type.
    private static let boolOID: Oid = 16, byteaOID: Oid = 17, int8OID: Oid = 20, int2OID: Oid = 21
    private static let int4OID: Oid = 23, oidOID: Oid = 26, float4OID: Oid = 700, float8OID: Oid = 701
    private static let numericOID: Oid = 1700

    /// Parameter arrays for `PQexecPrepared`, allocated with `malloc`; call ``deallocate()``.
    struct Parameters {
        let values: UnsafeMutablePointer<UnsafePointer<CChar>?>
        let lengths: UnsafeMutablePointer<Int32>
        let formats: UnsafeMutablePointer<Int32>
        /// The number of parameters.
        let count: Int

        init(_ params: [SQLValue], sql: String) throws {
            count = params.count
            values = .allocate(capacity: max(1, count))
            lengths = .allocate(capacity: max(1, count))
            formats = .allocate(capacity: max(1, count))
            for (index, value) in params.enumerated() {
                lengths[index] = 0
                formats[index] = 0
                switch value {
                case .null:
                    values[index] = nil
                case .integer(let number):
                    values[index] = UnsafePointer(strdup(String(number)))
                case .real(let number):
                    values[index] = UnsafePointer(strdup(Self.text(for: number)))
                case .text(let string):
                    if string.utf8.contains(0) {
                        for earlier in 0..<index { free(UnsafeMutablePointer(mutating: values[earlier])) }
                        values.deallocate(); lengths.deallocate(); formats.deallocate()
                        throw StorageError(.misuse, "parameter \(index + 1): PostgreSQL text cannot contain the NUL character; use a blob", sql: sql)
                    }
                    values[index] = UnsafePointer(strdup(string))
                case .blob(let bytes):
                    // Non-NULL even when empty: a NULL pointer would mean SQL NULL.
                    let copy = malloc(max(1, bytes.count))!
                    bytes.withUnsafeBytes { buffer in
                        if let base = buffer.baseAddress { copy.copyMemory(from: base, byteCount: buffer.count) }
                    }
                    values[index] = UnsafePointer(copy.assumingMemoryBound(to: CChar.self))
                    lengths[index] = Int32(clamping: bytes.count)
                    formats[index] = 1
                }
            }
        }

        func deallocate() {
            for index in 0..<count { free(UnsafeMutablePointer(mutating: values[index])) }
            values.deallocate()
            lengths.deallocate()
            formats.deallocate()
        }

        /// PostgreSQL's spellings of the special values; Swift's shortest round-trip otherwise.
        private static func text(for number: Double) -> String {
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return String(number)
        }
    }

    /// Every row of a successful `PGresult`.
    static func rows(_ result: OpaquePointer) -> [Row] {
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        guard rowCount > 0 else { return [] }
        let names = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [Row] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                values.append(value(result, row: row, column: column, type: types[Int(column)]))
            }
            rows.append(Row(columns: names, values: values))
        }
        return rows
    }

    private static func value(_ result: OpaquePointer, row: Int32, column: Int32, type: Oid) -> SQLValue {
        if PQgetisnull(result, row, column) == 1 { return .null }
        guard let raw = PQgetvalue(result, row, column) else { return .null }
        let length = Int(PQgetlength(result, row, column))
        switch type {
        case byteaOID:
            var decodedLength = 0
            let bytes = UnsafeRawPointer(raw).assumingMemoryBound(to: UInt8.self)
            guard let decoded = PQunescapeBytea(bytes, &decodedLength) else { return .blob([]) }
            defer { PQfreemem(decoded) }
            return .blob(Array(UnsafeBufferPointer(start: decoded, count: decodedLength)))
        default:
            let text = String(decoding: UnsafeRawBufferPointer(start: raw, count: length), as: UTF8.self)
            switch type {
            case int8OID, int4OID, int2OID, oidOID:
                return Int64(text).map(SQLValue.integer) ?? .text(text)
            case boolOID:
                return .integer(text == "t" ? 1 : 0)
            case float4OID, float8OID:
                return Double(text).map(SQLValue.real) ?? .text(text)
            case numericOID:
                if let integer = Int64(text) { return .integer(integer) }
                return Double(text).map(SQLValue.real) ?? .text(text)
            default:
                return .text(text)
            }
        }
    }
}
