// Hand-built and hand-read wire bytes for decoder tests (test-only helpers; the codec itself
// never encodes in Swift).

func varint(_ value: UInt64) -> [UInt8] {
    var value = value
    var out: [UInt8] = []
    repeat {
        var byte = UInt8(value & 0x7f)
        value >>= 7
        if value != 0 { byte |= 0x80 }
        out.append(byte)
    } while value != 0
    return out
}

func tag(_ field: Int, _ wireType: UInt64) -> [UInt8] { varint(UInt64(field) << 3 | wireType) }
func lengthDelimited(_ field: Int, _ bytes: [UInt8]) -> [UInt8] { tag(field, 2) + varint(UInt64(bytes.count)) + bytes }
func varintField(_ field: Int, _ value: UInt64) -> [UInt8] { tag(field, 0) + varint(value) }

/// One top-level field of an encoded message: its number and its bytes, tag included.
struct WireField {
    var number: Int
    var bytes: ArraySlice<UInt8>
}

struct MalformedWireBytes: Error {}

/// The top-level fields of an encoded message, in order (varint and length-delimited fields only).
func topLevelFields(of bytes: [UInt8]) throws -> [WireField] {
    var fields: [WireField] = []
    var index = 0
    func readVarint() throws -> UInt64 {
        var value: UInt64 = 0, shift: UInt64 = 0
        while true {
            guard index < bytes.count, shift < 64 else { throw MalformedWireBytes() }
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }
    while index < bytes.count {
        let start = index
        let key = try readVarint()
        switch key & 7 {
        case 0: _ = try readVarint()
        case 2: index += Int(try readVarint())
        default: throw MalformedWireBytes()
        }
        guard index <= bytes.count else { throw MalformedWireBytes() }
        fields.append(WireField(number: Int(key >> 3), bytes: bytes[start..<index]))
    }
    return fields
}
