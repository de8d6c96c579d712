import CMessages
import Foundation

/// Reads a JSON request body straight into a protobuf-c message and packs it, without
/// `JSONSerialization` and its `[String: Any]` tree: the fast path of ``ProtoJSON/encode(_:as:)``
/// for the bodies clients send every day.
///
/// It takes only what it is sure to read exactly as the general path would (the same bytes out):
/// strict JSON in UTF-8, one object whose keys are fields of the message, each once; integers
/// within their field's range, `true`/`false`, strings (escapes included; no NUL), enums by
/// name, base64 `bytes`, nested objects and arrays of these; `null` skips a key as there.
/// Anything else (malformed JSON, an unknown field, a number written as text, a float, a
/// repeated key...) answers `nil`, and the caller takes the general path, which accepts it or
/// says what is wrong with the same error as before.
///
/// ```swift
/// let payload = ProtoJSON.encodeDirect(request.body, as: descriptor)
///     ?? ProtoJSON.encode(try request.jsonObject(), as: descriptor)
/// ```
extension ProtoJSON {
    /// The message in the JSON `body`, packed; `nil` when the general path must decide.
    public static func encodeDirect(_ body: [UInt8], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [UInt8]? {
        body.withUnsafeBufferPointer { bytes -> [UInt8]? in
            var reader = DirectReader(bytes: bytes)
            let arena = Arena()
            defer { arena.free() }
            reader.skipBlanks()
            guard let message = reader.readMessage(descriptor, arena, depth: 0) else { return nil }
            reader.skipBlanks()
            guard reader.atEnd else { return nil }
            let base = message.assumingMemoryBound(to: ProtobufCMessage.self)
            let size = protobuf_c_message_get_packed_size(base)
            guard size > 0 else { return [] }
            return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                count = protobuf_c_message_pack(base, buffer.baseAddress)
            }
        }
    }

    /// A cursor over the body; every `read` returns `nil` (give up) on anything it does not take.
    struct DirectReader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset = 0
        static let maxDepth = 32

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var atEnd: Bool { offset == bytes.count }

        mutating func skipBlanks() {
            while offset < bytes.count {
                let byte = bytes[offset]
                guard byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D else { return }
                offset += 1
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard offset < bytes.count, bytes[offset] == byte else { return false }
            offset += 1
            return true
        }

        mutating func takeWord(_ word: StaticString) -> Bool {
            let count = word.utf8CodeUnitCount
            guard bytes.count - offset >= count, memcmp(bytes.baseAddress! + offset, word.utf8Start, count) == 0 else { return false }
            offset += count
            return true
        }

        /// One JSON object into a new `descriptor` message.
        mutating func readMessage(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ arena: Arena, depth: Int) -> UnsafeMutableRawPointer? {
            guard depth < Self.maxDepth, take(UInt8(ascii: "{")) else { return nil }
            let message = arena.allocate(descriptor.pointee.sizeof_message)
            protobuf_c_message_init(descriptor, message)
            let known = fields(descriptor)
            let positions = fieldPositions(descriptor)
            // A key given twice: the general path decides (fields by position, other keys by name).
            var seen: UInt64 = 0
            var seenOthers: [String] = []
            skipBlanks()
            if take(UInt8(ascii: "}")) { return message }
            while true {
                skipBlanks()
                guard let key = readString() else { return nil }
                let position = positions[key]
                if let position {
                    guard position < 64, seen & (1 << position) == 0 else { return nil }
                    seen |= 1 << position
                } else {
                    guard !seenOthers.contains(key) else { return nil }
                    seenOthers.append(key)
                }
                skipBlanks()
                guard take(UInt8(ascii: ":")) else { return nil }
                skipBlanks()
                if takeWord("null") {
                    // Skipped, known field or not, as the general path skips NSNull.
                } else {
                    guard let position else { return nil }
                    let field = known[position]
                    let location = message + Int(field.offset)
                    if field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue {
                        guard let count = readList(field, into: location, arena, depth: depth) else { return nil }
                        (message + Int(field.quantifier_offset)).storeBytes(of: count, as: Int.self)
                    } else {
                        guard readValue(field, into: location, arena, depth: depth) else { return nil }
                        if field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 {
                            (message + Int(field.quantifier_offset)).storeBytes(of: field.id, as: UInt32.self)
                        } else if field.label.rawValue == PROTOBUF_C_LABEL_OPTIONAL.rawValue,
                                  field.type.rawValue != PROTOBUF_C_TYPE_STRING.rawValue, field.type.rawValue != PROTOBUF_C_TYPE_MESSAGE.rawValue {
                            (message + Int(field.quantifier_offset)).storeBytes(of: Int32(1), as: Int32.self)
                        }
                    }
                }
                skipBlanks()
                if take(UInt8(ascii: ",")) { continue }
                return take(UInt8(ascii: "}")) ? message : nil
            }
        }

        /// A JSON array into a repeated field: its buffer stored at `location`; the item count.
        mutating func readList(_ field: ProtobufCFieldDescriptor, into location: UnsafeMutableRawPointer, _ arena: Arena, depth: Int) -> Int? {
            guard take(UInt8(ascii: "[")) else { return nil }
            let size = elementSize(field)
            var items: [UInt8] = []
            var count = 0
            let item = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
            defer { item.deallocate() }
            skipBlanks()
            if !take(UInt8(ascii: "]")) {
                while true {
                    skipBlanks()
                    memset(item, 0, size)
                    guard readValue(field, into: item, arena, depth: depth) else { return nil }
                    items.append(contentsOf: UnsafeRawBufferPointer(start: item, count: size))
                    count += 1
                    skipBlanks()
                    if take(UInt8(ascii: ",")) { continue }
                    guard take(UInt8(ascii: "]")) else { return nil }
                    break
                }
            }
            let buffer = arena.allocate(size * max(1, count))
            items.withUnsafeBytes { if count > 0 { buffer.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            location.storeBytes(of: buffer, as: UnsafeMutableRawPointer.self)
            return count
        }

        /// One value of `field`'s type at `location`.
        mutating func readValue(_ field: ProtobufCFieldDescriptor, into location: UnsafeMutableRawPointer, _ arena: Arena, depth: Int) -> Bool {
            switch field.type.rawValue {
            case PROTOBUF_C_TYPE_INT32.rawValue, PROTOBUF_C_TYPE_SINT32.rawValue, PROTOBUF_C_TYPE_SFIXED32.rawValue:
                guard let value = readInteger(), let narrow = Int32(exactly: value) else { return false }
                location.storeBytes(of: narrow, as: Int32.self)
            case PROTOBUF_C_TYPE_UINT32.rawValue, PROTOBUF_C_TYPE_FIXED32.rawValue:
                guard let value = readInteger(), let narrow = UInt32(exactly: value) else { return false }
                location.storeBytes(of: narrow, as: UInt32.self)
            case PROTOBUF_C_TYPE_INT64.rawValue, PROTOBUF_C_TYPE_SINT64.rawValue, PROTOBUF_C_TYPE_SFIXED64.rawValue:
                guard let value = readInteger() else { return false }
                location.storeBytes(of: value, as: Int64.self)
            case PROTOBUF_C_TYPE_UINT64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue:
                guard let value = readInteger(), let unsigned = UInt64(exactly: value) else { return false }
                location.storeBytes(of: unsigned, as: UInt64.self)
            case PROTOBUF_C_TYPE_BOOL.rawValue:
                if takeWord("true") {
                    location.storeBytes(of: Int32(1), as: Int32.self)
                } else if takeWord("false") {
                    location.storeBytes(of: Int32(0), as: Int32.self)
                } else {
                    return false
                }
            case PROTOBUF_C_TYPE_ENUM.rawValue:
                let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
                guard let name = readString(), let value = enumValues(descriptor)[name] else { return false }
                location.storeBytes(of: value, as: Int32.self)
            case PROTOBUF_C_TYPE_STRING.rawValue:
                guard let text = readString(), !text.utf8.contains(0) else { return false }
                location.storeBytes(of: arena.string(text), as: UnsafeMutableRawPointer.self)
            case PROTOBUF_C_TYPE_BYTES.rawValue:
                guard let text = readString(), let data = Data(base64Encoded: text) else { return false }
                let buffer = arena.allocate(data.count)
                data.withUnsafeBytes { if data.count > 0 { buffer.copyMemory(from: $0.baseAddress!, byteCount: data.count) } }
                location.storeBytes(of: ProtobufCBinaryData(len: data.count, data: buffer.assumingMemoryBound(to: UInt8.self)), as: ProtobufCBinaryData.self)
            case PROTOBUF_C_TYPE_MESSAGE.rawValue:
                let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
                guard let nested = readMessage(descriptor, arena, depth: depth + 1) else { return false }
                location.storeBytes(of: nested, as: UnsafeMutableRawPointer.self)
            default:
                // Floats and doubles: the general path (its rounding is Foundation's).
                return false
            }
            return true
        }

        /// A JSON integer: optional `-`, digits without a leading zero, no fraction or exponent.
        mutating func readInteger() -> Int64? {
            let negative = take(UInt8(ascii: "-"))
            let start = offset
            var magnitude: UInt64 = 0
            while offset < bytes.count, bytes[offset] >= 0x30, bytes[offset] <= 0x39 {
                let (times, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
                let (plus, overflow2) = times.addingReportingOverflow(UInt64(bytes[offset] - 0x30))
                guard !overflow1, !overflow2 else { return nil }
                magnitude = plus
                offset += 1
            }
            let digits = offset - start
            guard digits > 0, !(digits > 1 && bytes[start] == 0x30) else { return nil }
            if offset < bytes.count, bytes[offset] == UInt8(ascii: ".") || bytes[offset] == UInt8(ascii: "e") || bytes[offset] == UInt8(ascii: "E") {
                return nil
            }
            if negative {
                guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
                return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            }
            return Int64(exactly: magnitude)
        }

        /// A JSON string (escapes decoded); `nil` for control characters, lone surrogates or
        /// invalid UTF-8.
        mutating func readString() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = offset
            var plain = true
            while offset < bytes.count {
                let byte = bytes[offset]
                if byte == 0x22 { break }
                if byte < 0x20 { return nil }
                if byte >= 0x80 { plain = false }
                if byte == 0x5C {
                    // The escaped byte (a quote, maybe) is not the end; decoded below.
                    plain = false
                    offset += 2
                    continue
                }
                offset += 1
            }
            guard offset < bytes.count, bytes[offset] == 0x22 else { return nil }
            let raw = UnsafeBufferPointer(rebasing: bytes[start..<offset])
            offset += 1
            if plain { return String(decoding: raw, as: UTF8.self) }
            var decoded: [UInt8] = []
            decoded.reserveCapacity(raw.count)
            var index = 0
            while index < raw.count {
                let byte = raw[index]
                index += 1
                guard byte == 0x5C else { decoded.append(byte); continue }
                guard index < raw.count else { return nil }
                let escape = raw[index]
                index += 1
                switch escape {
                case 0x22, 0x5C, 0x2F: decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    guard let unit = Self.hex4(raw, &index) else { return nil }
                    var scalar = UInt32(unit)
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 1 < raw.count, raw[index] == 0x5C, raw[index + 1] == UInt8(ascii: "u") else { return nil }
                        index += 2
                        guard let low = Self.hex4(raw, &index), (0xDC00...0xDFFF).contains(low) else { return nil }
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(unit) {
                        return nil
                    }
                    guard let value = Unicode.Scalar(scalar) else { return nil }
                    decoded.append(contentsOf: UTF8.encode(value)!)
                default:
                    return nil
                }
            }
            return String(validating: decoded, as: UTF8.self)
        }

        static func hex4(_ raw: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt16? {
            guard raw.count - index >= 4 else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                let byte = raw[index]
                let digit: UInt8
                switch byte {
                case 0x30...0x39: digit = byte - 0x30
                case 0x41...0x46: digit = byte - 0x41 + 10
                case 0x61...0x66: digit = byte - 0x61 + 10
                default: return nil
                }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }
    }
}
