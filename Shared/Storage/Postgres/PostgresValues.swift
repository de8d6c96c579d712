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

    /// Parameter arrays for `PQexecPrepared`; call ``deallocate()``. Every value is copied into
    /// one `malloc`ed buffer (text NUL-terminated, blobs as they are) instead of one allocation per
    /// value: a group-commit batch of intake binds ≈ 1,800 values per statement.
    struct Parameters {
        let values: UnsafeMutablePointer<UnsafePointer<CChar>?>
        let lengths: UnsafeMutablePointer<Int32>
        let formats: UnsafeMutablePointer<Int32>
        /// The number of parameters.
        let count: Int
        private let buffer: UnsafeMutableRawPointer

        init(_ params: [SQLValue], sql: String) throws {
            count = params.count
            // Sizes first: integers and reals as text (at most 24 bytes), text and blobs as they are.
            var size = 1
            for value in params {
                switch value {
                case .null: break
                case .integer: size += 21
                case .real: size += 32
                case .text(let string): size += string.utf8.count + 1
                case .blob(let bytes): size += bytes.count
                }
            }
            let buffer = malloc(size)!
            var offset = 0
            let values = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(1, count))
            let lengths = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, count))
            let formats = UnsafeMutablePointer<Int32>.allocate(capacity: max(1, count))
            /// Copies `bytes` (and a NUL when `terminated`) at `offset`; false when text holds a NUL.
            func append<C: Collection>(_ bytes: C, terminated: Bool) -> Bool where C.Element == UInt8 {
                let target = (buffer + offset).assumingMemoryBound(to: UInt8.self)
                let copied = bytes.withContiguousStorageIfAvailable { source -> Int in
                    guard let base = source.baseAddress, source.count > 0 else { return 0 }
                    target.update(from: base, count: source.count)
                    return source.count
                } ?? {
                    var index = 0
                    for byte in bytes { target[index] = byte; index += 1 }
                    return index
                }()
                if terminated {
                    if memchr(target, 0, copied) != nil { return false }
                    target[copied] = 0
                    offset += copied + 1
                } else {
                    offset += copied
                }
                return true
            }
            for (index, value) in params.enumerated() {
                lengths[index] = 0
                formats[index] = 0
                let start = UnsafePointer((buffer + offset).assumingMemoryBound(to: CChar.self))
                switch value {
                case .null:
                    values[index] = nil
                    continue
                case .integer(let number):
                    _ = append(String(number).utf8, terminated: true)
                case .real(let number):
                    _ = append(Self.text(for: number).utf8, terminated: true)
                case .text(let string):
                    var string = string
                    guard string.withUTF8({ append($0, terminated: true) }) else {
                        free(buffer)
                        values.deallocate(); lengths.deallocate(); formats.deallocate()
                        throw StorageError(.misuse, "parameter \(index + 1): PostgreSQL text cannot contain the NUL character; use a blob", sql: sql)
                    }
                case .blob(let bytes):
                    // Non-NULL even when empty (a NULL pointer would mean SQL NULL): the buffer's address.
                    _ = append(bytes, terminated: false)
                    lengths[index] = Int32(clamping: bytes.count)
                    formats[index] = 1
                }
                values[index] = start
            }
            self.buffer = buffer
            self.values = values
            self.lengths = lengths
            self.formats = formats
        }

        func deallocate() {
            free(buffer)
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
