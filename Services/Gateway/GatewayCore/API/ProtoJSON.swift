import CMessages
import Foundation

/// Converts between JSON and protobuf messages named by reflection, driven by the protobuf-c
/// descriptors linked into this program (found by their C symbol, which protoc-c derives from the
/// message's full name). Field names are the `.proto` names (`snake_case`); enums by name or
/// number; `bytes` as base64; 64-bit integers as JSON numbers.
public enum ProtoJSON {
    /// A JSON value that does not fit the message (unknown field, wrong type, a number out of
    /// its field's range).
    public struct Failure: Error, CustomStringConvertible {
        /// `field: pt / en` (or `pt / en` without a field), as the CLI prints it.
        public var description: String
        /// Dotted path of the offending field (`agent.max_access_level`, `files[0].data`); empty
        /// when the failure is not about one field.
        public var field: String = ""
        /// What is wrong, in Portuguese and in English, without the field's name.
        public var pt: String
        public var en: String

        public init(description: String) {
            self.description = description
            pt = description
            en = description
        }

        /// A failure about one field.
        public init(field: String, pt: String, en: String) {
            self.field = field
            self.pt = pt
            self.en = en
            description = field.isEmpty ? "\(pt) / \(en)" : "\(field): \(pt) / \(en)"
        }
    }

    /// The descriptor of `ocorrencias.intake.v1.OpenTicketRequest`.
    public static func descriptor(named fullName: String) throws -> UnsafePointer<ProtobufCMessageDescriptor> {
        let symbol = cSymbol(fullName) + "__descriptor"
        guard let handle = dlopen(nil, RTLD_NOW), let pointer = dlsym(handle, symbol) else {
            throw Failure(description: "mensagem desconhecida por este programa / message unknown to this program: \(fullName) (\(symbol))")
        }
        return UnsafePointer(pointer.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
    }

    /// protoc-c's name mangling: dots become `__`, CamelCase becomes lower_snake.
    static func cSymbol(_ fullName: String) -> String {
        fullName.split(separator: ".").map { part -> String in
            var out = ""
            var wasUpper = true
            for character in part {
                let isUpper = character.isASCII && character.isUppercase
                if isUpper {
                    if !wasUpper { out += "_" }
                    out += character.lowercased()
                } else {
                    out.append(character)
                }
                wasUpper = isUpper
            }
            return out
        }.joined(separator: "__")
    }

    // MARK: JSON → bytes

    public static func encode(_ json: [String: Any], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws -> [UInt8] {
        let arena = Arena()
        defer { arena.free() }
        let message = try build(json, descriptor, arena, path: "")
        let base = message.assumingMemoryBound(to: ProtobufCMessage.self)
        let size = protobuf_c_message_get_packed_size(base)
        var out = [UInt8](repeating: 0, count: size)
        if size > 0 { _ = protobuf_c_message_pack(base, &out) }
        return out
    }

    final class Arena {
        var blocks: [UnsafeMutableRawPointer] = []
        func allocate(_ bytes: Int) -> UnsafeMutableRawPointer {
            let block = calloc(1, max(bytes, 1))!
            blocks.append(block)
            return block
        }
        func string(_ text: String) -> UnsafeMutableRawPointer {
            let bytes = Array(text.utf8CString)
            let block = allocate(bytes.count)
            bytes.withUnsafeBytes { block.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            return block
        }
        func free() { for block in blocks { Foundation.free(block) } }
    }

    static func fields(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> UnsafeBufferPointer<ProtobufCFieldDescriptor> {
        UnsafeBufferPointer(start: descriptor.pointee.fields, count: Int(descriptor.pointee.n_fields))
    }

    static func build(_ json: [String: Any], _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>, _ arena: Arena, path: String) throws -> UnsafeMutableRawPointer {
        let message = arena.allocate(descriptor.pointee.sizeof_message)
        protobuf_c_message_init(descriptor, message)
        let known = fields(descriptor)
        let positions = fieldPositions(descriptor)
        for (key, value) in json {
            if value is NSNull { continue }
            guard let position = positions[key] else {
                let names = known.map { String(cString: $0.name) }.joined(separator: ", ")
                throw Failure(field: "\(path)\(key)", pt: "campo desconhecido (\(String(cString: descriptor.pointee.name)): \(names))",
                              en: "unknown field (\(String(cString: descriptor.pointee.name)): \(names))")
            }
            let field = known[position]
            let location = message + Int(field.offset)
            if field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue {
                guard let items = value as? [Any] else { throw Failure(field: "\(path)\(key)", pt: "esperava uma lista", en: "expected a list") }
                let size = elementSize(field)
                let buffer = arena.allocate(size * max(1, items.count))
                for (index, item) in items.enumerated() {
                    try write(item, field, into: buffer + index * size, arena, path: "\(path)\(key)[\(index)].")
                }
                (message + Int(field.quantifier_offset)).storeBytes(of: items.count, as: Int.self)
                location.storeBytes(of: buffer, as: UnsafeMutableRawPointer.self)
            } else {
                try write(value, field, into: location, arena, path: "\(path)\(key).")
                if field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0 {
                    (message + Int(field.quantifier_offset)).storeBytes(of: field.id, as: UInt32.self)
                } else if field.label.rawValue == PROTOBUF_C_LABEL_OPTIONAL.rawValue,
                          field.type.rawValue != PROTOBUF_C_TYPE_STRING.rawValue, field.type.rawValue != PROTOBUF_C_TYPE_MESSAGE.rawValue {
                    (message + Int(field.quantifier_offset)).storeBytes(of: Int32(1), as: Int32.self)
                }
            }
        }
        return message
    }

    /// A message's fields by `.proto` name (their positions in its descriptor), made once per message type.
    static func fieldPositions(_ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [String: Int] {
        let id = Int(bitPattern: descriptor)
        if let known = fieldPositionCache.withLock({ $0[id] }) { return known }
        var positions: [String: Int] = [:]
        // The first of two fields with one name wins, as a search in order would find it.
        for (index, field) in fields(descriptor).enumerated() where positions[String(cString: field.name)] == nil {
            positions[String(cString: field.name)] = index
        }
        fieldPositionCache.withLock { $0[id] = positions }
        return positions
    }

    /// An enum's values by name, made once per enum type (the first value of a name wins).
    static func enumValues(_ descriptor: UnsafePointer<ProtobufCEnumDescriptor>) -> [String: Int32] {
        let id = Int(bitPattern: descriptor)
        if let known = enumValueCache.withLock({ $0[id] }) { return known }
        var values: [String: Int32] = [:]
        for value in UnsafeBufferPointer(start: descriptor.pointee.values, count: Int(descriptor.pointee.n_values)) {
            let name = String(cString: value.name)
            if values[name] == nil { values[name] = value.value }
        }
        enumValueCache.withLock { $0[id] = values }
        return values
    }

    // Plain mutexes (waiters sleep): taken on every request by many HTTP threads (see GatewayMetrics).
    static let fieldPositionCache = PlainLock<[Int: [String: Int]]>([:])
    static let enumValueCache = PlainLock<[Int: [String: Int32]]>([:])

    static func elementSize(_ field: ProtobufCFieldDescriptor) -> Int {
        switch field.type.rawValue {
        case PROTOBUF_C_TYPE_INT64.rawValue, PROTOBUF_C_TYPE_SINT64.rawValue, PROTOBUF_C_TYPE_SFIXED64.rawValue,
             PROTOBUF_C_TYPE_UINT64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue, PROTOBUF_C_TYPE_DOUBLE.rawValue: 8
        case PROTOBUF_C_TYPE_STRING.rawValue, PROTOBUF_C_TYPE_MESSAGE.rawValue: MemoryLayout<UnsafeRawPointer>.size
        case PROTOBUF_C_TYPE_BYTES.rawValue: MemoryLayout<ProtobufCBinaryData>.size
        default: 4
        }
    }

    static func write(_ value: Any, _ field: ProtobufCFieldDescriptor, into location: UnsafeMutableRawPointer, _ arena: Arena, path: String) throws {
        let name = String(path.dropLast())
        func number() throws -> NSNumber {
            if let n = value as? NSNumber { return n }
            if let s = value as? String, let d = Double(s) { return NSNumber(value: d) }
            throw Failure(field: name, pt: "esperava um número", en: "expected a number")
        }
        /// The value as a `T`, exactly: a fraction or a number outside `T`'s range is refused
        /// (never rounded nor wrapped around).
        func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
            if let exact = Self.exactInteger(value, T.self) { return exact }
            throw Failure(field: name, pt: "esperava um número inteiro de \(T.min) a \(T.max)",
                          en: "expected a whole number from \(T.min) to \(T.max)")
        }
        switch field.type.rawValue {
        case PROTOBUF_C_TYPE_INT32.rawValue, PROTOBUF_C_TYPE_SINT32.rawValue, PROTOBUF_C_TYPE_SFIXED32.rawValue:
            location.storeBytes(of: try integer(Int32.self), as: Int32.self)
        case PROTOBUF_C_TYPE_UINT32.rawValue, PROTOBUF_C_TYPE_FIXED32.rawValue:
            location.storeBytes(of: try integer(UInt32.self), as: UInt32.self)
        case PROTOBUF_C_TYPE_INT64.rawValue, PROTOBUF_C_TYPE_SINT64.rawValue, PROTOBUF_C_TYPE_SFIXED64.rawValue:
            location.storeBytes(of: try integer(Int64.self), as: Int64.self)
        case PROTOBUF_C_TYPE_UINT64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue:
            location.storeBytes(of: try integer(UInt64.self), as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT.rawValue:
            location.storeBytes(of: try number().floatValue, as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE.rawValue:
            location.storeBytes(of: try number().doubleValue, as: Double.self)
        case PROTOBUF_C_TYPE_BOOL.rawValue:
            guard let flag = value as? Bool else { throw Failure(field: name, pt: "esperava true/false", en: "expected a boolean") }
            location.storeBytes(of: Int32(flag ? 1 : 0), as: Int32.self)
        case PROTOBUF_C_TYPE_ENUM.rawValue:
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            let values = UnsafeBufferPointer(start: descriptor.pointee.values, count: Int(descriptor.pointee.n_values))
            if let text = value as? String {
                guard let found = enumValues(descriptor)[text] else {
                    let names = values.map { String(cString: $0.name) }.joined(separator: ", ")
                    throw Failure(field: name, pt: "valor desconhecido \(text) (\(names))", en: "unknown value \(text) (\(names))")
                }
                location.storeBytes(of: found, as: Int32.self)
            } else {
                location.storeBytes(of: try integer(Int32.self), as: Int32.self)
            }
        case PROTOBUF_C_TYPE_STRING.rawValue:
            guard let text = value as? String else { throw Failure(field: name, pt: "esperava texto", en: "expected a string") }
            // protobuf-c strings end at their first NUL: what followed would be dropped silently.
            guard !text.utf8.contains(0) else {
                throw Failure(field: name, pt: "texto com o caractere NUL (\\u0000)", en: "text with the NUL character (\\u0000)")
            }
            location.storeBytes(of: arena.string(text), as: UnsafeMutableRawPointer.self)
        case PROTOBUF_C_TYPE_BYTES.rawValue:
            guard let text = value as? String, let data = Data(base64Encoded: text) else {
                throw Failure(field: name, pt: "esperava base64", en: "expected base64")
            }
            let buffer = arena.allocate(data.count)
            data.withUnsafeBytes { if data.count > 0 { buffer.copyMemory(from: $0.baseAddress!, byteCount: data.count) } }
            location.storeBytes(of: ProtobufCBinaryData(len: data.count, data: buffer.assumingMemoryBound(to: UInt8.self)), as: ProtobufCBinaryData.self)
        case PROTOBUF_C_TYPE_MESSAGE.rawValue:
            guard let object = value as? [String: Any] else { throw Failure(field: name, pt: "esperava um objeto", en: "expected an object") }
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            location.storeBytes(of: try build(object, descriptor, arena, path: path), as: UnsafeMutableRawPointer.self)
        default:
            throw Failure(field: name, pt: "tipo não suportado", en: "unsupported type")
        }
    }

    /// `value` (a JSON number, or a number written as text) as a `T` when it is a whole number
    /// within `T`'s range; `nil` otherwise (a fraction, out of range, not a number).
    static func exactInteger<T: FixedWidthInteger>(_ value: Any, _ type: T.Type) -> T? {
        if let number = value as? NSNumber {
            switch String(cString: number.objCType) {
            case "d", "f": return exactInteger(number.doubleValue, T.self)
            case "Q": return T(exactly: number.uint64Value)
            default: return T(exactly: number.int64Value)
            }
        }
        guard let text = value as? String else { return nil }
        if let whole = Int64(text) { return T(exactly: whole) }
        if let whole = UInt64(text) { return T(exactly: whole) }
        return Double(text).flatMap { exactInteger($0, T.self) }
    }

    static func exactInteger<T: FixedWidthInteger>(_ value: Double, _ type: T.Type) -> T? {
        guard value.isFinite, value.rounded(.towardZero) == value else { return nil }
        return T(exactly: value)
    }

    // MARK: bytes → JSON

    public static func decode(_ bytes: [UInt8], as descriptor: UnsafePointer<ProtobufCMessageDescriptor>) throws -> [String: Any] {
        guard let message = bytes.withUnsafeBufferPointer({ protobuf_c_message_unpack(descriptor, nil, $0.count, $0.baseAddress) }) else {
            throw Failure(description: "resposta inválida / malformed \(String(cString: descriptor.pointee.name))")
        }
        defer { protobuf_c_message_free_unpacked(message, nil) }
        return object(UnsafeRawPointer(message), descriptor)
    }

    static func object(_ message: UnsafeRawPointer, _ descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [String: Any] {
        var out: [String: Any] = [:]
        for field in fields(descriptor) {
            let name = String(cString: field.name)
            let location = message + Int(field.offset)
            if field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue {
                let count = (message + Int(field.quantifier_offset)).load(as: Int.self)
                guard count > 0, let buffer = location.load(as: UnsafeRawPointer?.self) else { out[name] = [Any](); continue }
                let size = elementSize(field)
                out[name] = (0..<count).map { read(field, buffer + $0 * size) }
            } else {
                if field.flags & UInt32(PROTOBUF_C_FIELD_FLAG_ONEOF.rawValue) != 0,
                   (message + Int(field.quantifier_offset)).load(as: UInt32.self) != field.id { continue }
                if field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue, location.load(as: UnsafeRawPointer?.self) == nil { continue }
                out[name] = read(field, location)
            }
        }
        return out
    }

    static func read(_ field: ProtobufCFieldDescriptor, _ location: UnsafeRawPointer) -> Any {
        switch field.type.rawValue {
        case PROTOBUF_C_TYPE_INT32.rawValue, PROTOBUF_C_TYPE_SINT32.rawValue, PROTOBUF_C_TYPE_SFIXED32.rawValue: return location.load(as: Int32.self)
        case PROTOBUF_C_TYPE_UINT32.rawValue, PROTOBUF_C_TYPE_FIXED32.rawValue: return location.load(as: UInt32.self)
        case PROTOBUF_C_TYPE_INT64.rawValue, PROTOBUF_C_TYPE_SINT64.rawValue, PROTOBUF_C_TYPE_SFIXED64.rawValue: return location.load(as: Int64.self)
        case PROTOBUF_C_TYPE_UINT64.rawValue, PROTOBUF_C_TYPE_FIXED64.rawValue: return location.load(as: UInt64.self)
        case PROTOBUF_C_TYPE_FLOAT.rawValue: return location.load(as: Float.self)
        case PROTOBUF_C_TYPE_DOUBLE.rawValue: return location.load(as: Double.self)
        case PROTOBUF_C_TYPE_BOOL.rawValue: return location.load(as: Int32.self) != 0
        case PROTOBUF_C_TYPE_ENUM.rawValue:
            let value = location.load(as: Int32.self)
            let descriptor = field.descriptor.assumingMemoryBound(to: ProtobufCEnumDescriptor.self)
            let values = UnsafeBufferPointer(start: descriptor.pointee.values, count: Int(descriptor.pointee.n_values))
            return values.first { $0.value == value }.map { String(cString: $0.name) } ?? value
        case PROTOBUF_C_TYPE_STRING.rawValue:
            return location.load(as: UnsafePointer<CChar>?.self).map { String(cString: $0) } ?? ""
        case PROTOBUF_C_TYPE_BYTES.rawValue:
            let binary = location.load(as: ProtobufCBinaryData.self)
            guard binary.len > 0, let data = binary.data else { return "" }
            return Data(bytes: data, count: binary.len).base64EncodedString()
        case PROTOBUF_C_TYPE_MESSAGE.rawValue:
            guard let nested = location.load(as: UnsafeRawPointer?.self) else { return [String: Any]() }
            return object(nested, field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self))
        default: return NSNull()
        }
    }
}

extension ProtoJSON {
    /// True when the dotted `path` (`filter.stages`) names a field of the message.
    public static func hasField(_ path: String, in descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Bool {
        var current = descriptor
        let parts = path.split(separator: ".")
        for (index, part) in parts.enumerated() {
            guard let field = fields(current).first(where: { String(cString: $0.name) == part }) else { return false }
            if index < parts.count - 1 {
                guard field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue else { return false }
                current = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
            }
        }
        return true
    }

    /// The message type of the field `name` (a message field), else nil.
    public static func messageDescriptor(of name: String, in descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> UnsafePointer<ProtobufCMessageDescriptor>? {
        guard let field = fields(descriptor).first(where: { String(cString: $0.name) == name }),
              field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue else { return nil }
        return field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
    }

    /// True when the dotted `path` names a repeated field.
    public static func isRepeated(_ path: String, in descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> Bool {
        var current = descriptor
        let parts = path.split(separator: ".")
        for (index, part) in parts.enumerated() {
            guard let field = fields(current).first(where: { String(cString: $0.name) == part }) else { return false }
            if index == parts.count - 1 { return field.label.rawValue == PROTOBUF_C_LABEL_REPEATED.rawValue }
            guard field.type.rawValue == PROTOBUF_C_TYPE_MESSAGE.rawValue else { return false }
            current = field.descriptor.assumingMemoryBound(to: ProtobufCMessageDescriptor.self)
        }
        return false
    }
}
