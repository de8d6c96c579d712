import Foundation

/// Finds a member named twice in one object of a JSON text (`{"priority": "BAIXA", "priority": "URGENTE"}`).
///
/// RFC 8259 leaves the meaning of such a body to the reader: Foundation keeps one of the two,
/// another parser (a proxy's, an audit log's) may keep the other, so the gateway refuses it
/// (400 `INVALID_JSON` naming the member) instead of choosing silently. Keys are compared after
/// their escapes are read (`"a"` and `"\u0061"` are the same name).
///
/// ```swift
/// JSONDuplicateKeys.first(in: Array(#"{"a": {"b": 1, "b": 2}}"#.utf8))   // "a.b"
/// ```
enum JSONDuplicateKeys {
    /// The dotted path of the first member named twice in its object, or nil. `bytes` must be
    /// valid JSON (checked by the caller's parser first); anything else answers nil.
    static func first(in bytes: [UInt8]) -> String? {
        // Cheap exit: no object with two members, no duplicate.
        guard bytes.contains(UInt8(ascii: ",")) else { return nil }
        var scanner = Scanner(bytes: bytes)
        return scanner.value(path: "")
    }

    private struct Scanner {
        let bytes: [UInt8]
        var index = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipSpace() {
            while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 { index += 1 }
        }

        /// Reads one value; the path of a duplicate found inside it, if any.
        mutating func value(path: String) -> String? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"): return object(path: path)
            case UInt8(ascii: "["): return array(path: path)
            case UInt8(ascii: "\""):
                _ = string()
                return nil
            default:
                // A number, true, false or null: up to the next delimiter.
                let start = index
                while index < bytes.count, !",]} \n\r\t".utf8.contains(bytes[index]) { index += 1 }
                // Always forward, even on a text that is not JSON (a stray `}` in an array).
                if index == start { index += 1 }
                return nil
            }
        }

        /// What comes next inside an object or array, after spaces.
        enum Step { case end, comma, item }

        /// Consumes a `closing` bracket (`.end`) or a comma (`.comma`); `.item` before a member
        /// or value; nil at the end of the text.
        mutating func step(closing: Character) -> Step? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: closing.unicodeScalars.first!):
                index += 1
                return .end
            case UInt8(ascii: ","):
                index += 1
                return .comma
            default: return .item
            }
        }

        mutating func object(path: String) -> String? {
            index += 1
            var names = Set<String>()
            while let step = step(closing: "}") {
                guard step == .item else {
                    if step == .end { return nil }
                    continue
                }
                guard let name = string() else { return nil }
                let member = path.isEmpty ? name : path + "." + name
                if !names.insert(name).inserted { return member }
                skipSpace()
                guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                index += 1
                if let found = value(path: member) { return found }
            }
            return nil
        }

        mutating func array(path: String) -> String? {
            index += 1
            var position = 0
            while let step = step(closing: "]") {
                switch step {
                case .end: return nil
                case .comma: position += 1
                case .item: if let found = value(path: "\(path)[\(position)]") { return found }
                }
            }
            return nil
        }

        /// A string at `index` (its quotes included), escapes read; nil when malformed.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index
            index += 1
            var escaped = false
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    index += 1
                } else if byte == UInt8(ascii: "\"") {
                    let raw = Array(bytes[start..<index])
                    if !escaped { return String(decoding: raw.dropFirst().dropLast(), as: UTF8.self) }
                    return (try? JSONSerialization.jsonObject(with: Data(raw), options: [.fragmentsAllowed])) as? String
                }
            }
            return nil
        }
    }
}
