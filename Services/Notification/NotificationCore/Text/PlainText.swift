/// Small string operations on UTF-8 bytes, used where planning renders every message: they
/// give the same results as Foundation's `contains(_:)` and `replacingOccurrences(of:with:)`
/// for the ASCII patterns used here, without going through `NSString`.
enum PlainText {
    /// Whether `needle` occurs in `text` (byte-wise; an empty needle is found).
    static func contains(_ text: String, _ needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard !needle.isEmpty else { return true }
        return text.utf8.withContiguousStorageIfAvailable { find(needle, in: $0) } ?? find(needle, in: Array(text.utf8))
    }

    private static func find<Bytes: RandomAccessCollection<UInt8>>(_ needle: [UInt8], in bytes: Bytes) -> Bool where Bytes.Index == Int {
        guard bytes.count >= needle.count else { return false }
        var index = bytes.startIndex
        while index + needle.count <= bytes.endIndex {
            if bytes[index] == needle[0] {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }

    /// Whether `text` has a scalar that makes a `Character` with `isNewline` (LF, VT, FF, CR,
    /// NEL, LS, PS), found on its UTF-8 bytes; when false no character of `text` is a newline.
    static func mayHaveNewline(_ text: String) -> Bool {
        var previous: UInt8 = 0, beforePrevious: UInt8 = 0
        for byte in text.utf8 {
            if (0x0a...0x0d).contains(byte) { return true }
            // U+0085 is C2 85; U+2028 and U+2029 are E2 80 A8 and E2 80 A9.
            if byte == 0x85 && previous == 0xc2 { return true }
            if (byte == 0xa8 || byte == 0xa9) && previous == 0x80 && beforePrevious == 0xe2 { return true }
            beforePrevious = previous
            previous = byte
        }
        return false
    }

    /// `text` with CR and LF each replaced by a space (header values are one line).
    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x0d || $0 == 0x0a }) else { return text }
        return String(decoding: text.utf8.map { $0 == 0x0d || $0 == 0x0a ? 0x20 : $0 }, as: UTF8.self)
    }

    /// Paragraphs of `text` as HTML: a blank line (`\n\n`) closes a paragraph, a single `\n`
    /// is a `<br>` (the text is already escaped).
    static func paragraphs(_ text: String) -> String {
        guard text.utf8.contains(0x0a) else { return text }
        var text = text
        return text.withUTF8 { bytes in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count + 64)
            // Runs without a newline are copied whole.
            var index = 0, run = 0
            while index < bytes.count {
                guard bytes[index] == 0x0a else {
                    index += 1
                    continue
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<index]))
                if index + 1 < bytes.count && bytes[index + 1] == 0x0a {
                    out.append(contentsOf: paragraphBreak)
                    index += 2
                } else {
                    out.append(contentsOf: lineBreak)
                    index += 1
                }
                run = index
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<bytes.count]))
            return String(decoding: out, as: UTF8.self)
        }
    }

    private static let paragraphBreak = Array("</p><p>".utf8)
    private static let lineBreak = Array("<br>".utf8)
}

/// A JSON writer for webhook bodies: objects with sorted keys, strings escaped as
/// `JSONSerialization` does with `.withoutEscapingSlashes` (`"`, `\`, control characters),
/// integers and booleans. Much cheaper than building `[String: Any]` for Foundation.
struct JSONWriter {
    private(set) var bytes: [UInt8] = []

    enum Value {
        case string(String)
        case integer(Int64)
        case bool(Bool)
        case object([String: String])
    }

    static func object(_ fields: [String: Value]) -> [UInt8] {
        var writer = JSONWriter()
        writer.bytes.reserveCapacity(512)
        writer.write(fields)
        return writer.bytes
    }

    private mutating func write(_ fields: [String: Value]) {
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in fields.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            string(key)
            bytes.append(UInt8(ascii: ":"))
            switch fields[key]! {
            case .string(let value): string(value)
            case .integer(let value): bytes += Array(String(value).utf8)
            case .bool(let value): bytes += Array((value ? "true" : "false").utf8)
            case .object(let values): write(values.mapValues { .string($0) })
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func string(_ text: String) {
        let hex = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0a: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0d: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0c: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20: bytes += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
