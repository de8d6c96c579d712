import CMessages
import Foundation

/// Writes a protobuf message straight to JSON text, without building a `[String: Any]` tree:
/// the same output as `JSONWriter.data(ProtoJSON.decode(bytes, as: descriptor))` (every field,
/// keys sorted, enums by name, `bytes` as base64), at a fraction of the cost (no dictionaries,
/// boxing or dynamic casts). Used for every answer that is one service message.
///
/// ```swift
/// let json = try ProtoJSON.jsonText(bytes, as: IntakeV1.Ticket._descriptor.pointer)
/// ```
extension ProtoJSON {
    /// The message in `bytes` as JSON text.
    /// - Throws: ``Failure`` when the bytes are not a `descriptor` message.
    public static func jsonText(_ bytes: [UInt8], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws -> [UInt8] {
        try jsonText(bytes, as: descriptor, capturing: nil).json
    }

    /// The message as JSON text, and the value of its top-level string field `field` (read from
    /// the same decoding, for routes that compose answers).
    public static func jsonText(_ bytes: [UInt8], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>,
                                capturing field: String?) throws -> (json: [UInt8], captured: String?) {
        guard let message = bytes.withUnsafeBufferPointer({ protobuf_c_message_unpack(descriptor, nil, $0.count, $0.baseAddress) }) else {
            throw Failure(description: "resposta inválida / malformed \(String(cString: descriptor.pointee.name))")
        }
        defer { protobuf_c_message_free_unpacked(message, nil) }
        var out: [UInt8] = []
        out.reserveCapacity(max(256, bytes.count * 2))
        writeObject(UnsafeRawPointer(message), descriptor, into: &out)
        var captured: String?
        if let field, let found = fields(descriptor).first(where: { String(cString: $0.name) == field }),
           found.type.rawValue == PROTOBUF_C_TYPE_STRING.rawValue, found.label.rawValue != PROTOBUF_C_LABEL_REPEATED.rawValue {
            captured = (UnsafeRawPointer(message) + Int(found.offset)).load(as: UnsafePointer<CChar>?.self).map { String(cString: $0) } ?? ""
        }
        return (out, captured)
    }

    /// Field positions of a message sorted by name (JSONWriter sorts keys), computed once per descriptor.
    static func sortedFields(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [(index: Int, key: [UInt8])] {
        let id = Int(bitPattern: descriptor)
        if let known = sortedFieldCache.withLock({ $0[id] }) { return known }
        let all = fields(descriptor)
        let sorted = all.indices.map { (index: $0, name: String(cString: all[$0].name)) }.sorted { $0.name < $1.name }
        let keys = sorted.map { entry -> (index: Int, key: [UInt8]) in
            var key: [UInt8] = []
            JSONWriter.string(entry.name, into: &key)
            key.append(UInt8(ascii: ":"))
            return (entry.index, key)
        }
        sortedFieldCache.withLock { $0[id] = keys }
        return keys
    }

    // A plain mutex (waiters sleep): taken for every message written, by many HTTP threads.
    static let sortedFieldCache = PlainLock<[Int: [(index: Int, key: [UInt8])]]>([:])

    static func writeObject(_ message: UnsafeRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, into out: inout [UInt8]) {
        let all = fields(descriptor)
        out.append(UInt8(ascii: "{"))
        var first = true
        for (index, key) in sortedFields(descriptor) {
            let field = all[index]
            let location = message + Int(field.offset)
            if field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(contentsOf: key)
                out.append(UInt8(ascii: "["))
                let count = (message + Int(field.quantifier_offset)).load(as: Int.self)
                if count > 0, let buffer = location.load(as: UnsafeRawPointer?.self) {
                    let size = elementSize(field)
                    for item in 0..<count {
                        if item > 0 { out.append(UInt8(ascii: ",")) }
                        writeValue(field, buffer + item * size, into: &out)
                    }
                }
                out.append(UInt8(ascii: "]"))
            } else {
                if field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0,
                   (message + Int(field.quantifier_offset)).load(as: UInt32.self) != field.id { continue }
                if field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue, location.load(as: UnsafeRawPointer?.self) == nil { continue }
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                out.append(contentsOf: key)
                writeValue(field, location, into: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// Decimal digits of `value`, as `String(value)` writes them, without making the string.
    static func writeInteger<T: FixedWidthInteger>(_ value: T, into out: inout [UInt8]) {
        var magnitude = value.magnitude
        if value < 0 { out.append(UInt8(ascii: "-")) }
        if magnitude == 0 { return out.append(UInt8(ascii: "0")) }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var count = 0
            while magnitude > 0 {
                digits[19 - count] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
                count += 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[(20 - count)...]))
        }
    }

    static func writeValue(_ field: ProtobufCFieldDescriptor, _ location: UnsafeRawPointer, into out: inout [UInt8]) {
        switch field.type.rawValue {
        case PROTOBUF_C_TYPE_INT32.rawValue, PROTOBUF_C_TYPE_SINT32.rawValue, PROTOBUF_C_TYPE_SFIXED32.rawValue:
            writeInteger(location.load(as: Int32.self), into: &out)
        case PROTOBUF_C_TYPE_UINT32.rawValue, PROTOBUF_C_TYPE_FIXED32.rawValue: writeInteger(location.load(as: UInt32.self), into: &out)
        case PROTOBUF_C_TYPE_INT64.rawValue, PROTOBUF_C_TYPE_SINT64.rawValue, PROTOBUF_C_TYPE_SFIXED64.rawValue:
            writeInteger(location.load(as: Int64.self), into: &out)
        case PROTOBUF_C_TYPE_UINT64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue: writeInteger(location.load(as: UInt64.self), into: &out)
        case PROTOBUF_C_TYPE_FLOAT.rawValue: JSONWriter.number(Double(location.load(as: Float.self)), into: &out)
        case PROTOBUF_C_TYPE_DOUBLE.rawValue: JSONWriter.number(location.load(as: Double.self), into: &out)
        case PROTOBUF_C_TYPE_BOOL.rawValue:
            out.append(contentsOf: location.load(as: Int32.self) != 0 ? [116, 114, 117, 101] : [102, 97, 108, 115, 101])
        case PROTOBUF_C_TYPE_ENUM.rawValue:
            let value = location.load(as: Int32.self)
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            let values = UnsafeBufferPointer(start: descriptor.pointee.values, count: Int(descriptor.pointee.n_values))
            if let found = values.first(where: { $0.value == value }), let name = found.name {
                writeCString(name, into: &out)
            } else {
                writeInteger(value, into: &out)
            }
        case PROTOBUF_C_TYPE_STRING.rawValue:
            if let text = location.load(as: UnsafePointer<CChar>?.self) {
                writeCString(text, into: &out)
            } else {
                out.append(contentsOf: [34, 34])
            }
        case PROTOBUF_C_TYPE_BYTES.rawValue:
            let binary = location.load(as: ProtobufCBinaryData.self)
            guard binary.len > 0, let data = binary.data else { out.append(contentsOf: [34, 34]); return }
            JSONWriter.string(Data(bytes: data, count: binary.len).base64EncodedString(), into: &out)
        case PROTOBUF_C_TYPE_MESSAGE.rawValue:
            guard let nested = location.load(as: UnsafeRawPointer?.self) else { out.append(contentsOf: [123, 125]); return }
            writeObject(nested, field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self), into: &out)
        default: out.append(contentsOf: [110, 117, 108, 108])
        }
    }

    /// A NUL-terminated UTF-8 string as a JSON string, escaped as ``JSONWriter`` does (invalid
    /// UTF-8 is repaired first, as `String(cString:)` would).
    static func writeCString(_ text: UnsafePointer<CChar>, into out: inout [UInt8]) {
        let length = strlen(text)
        let bytes = UnsafeRawBufferPointer(start: text, count: length)
        var plain = true
        for byte in bytes where byte < 0x20 || byte == 34 || byte == 92 || byte >= 0x80 { plain = false; break }
        if plain {
            out.append(34)
            out.append(contentsOf: bytes)
            out.append(34)
        } else {
            JSONWriter.string(String(cString: text), into: &out)
        }
    }
}
