import Foundation

/// Writes JSON from the values handlers build (`[String: Any]` trees of strings, numbers, booleans,
/// arrays, `NSNull`), with sorted keys and no escaped slashes. Much faster than
/// `JSONSerialization` on Linux, which boxes every Swift number (a 25-row queue page took ~15 ms).
public enum JSONWriter {
    public static func data(_ value: Any) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, into: &out)
        return out
    }

    static func write(_ value: Any, into out: inout [UInt8]) {
        switch value {
        case let text as String: string(text, into: &out)
        case let flag as Bool: out.append(contentsOf: flag ? Array("true".utf8) : Array("false".utf8))
        case let n as Int: out.append(contentsOf: String(n).utf8)
        case let n as Int32: out.append(contentsOf: String(n).utf8)
        case let n as Int64: out.append(contentsOf: String(n).utf8)
        case let n as UInt32: out.append(contentsOf: String(n).utf8)
        case let n as UInt64: out.append(contentsOf: String(n).utf8)
        case let n as Double: number(n, into: &out)
        case let n as Float: number(Double(n), into: &out)
        case let object as [String: Any]:
            out.append(UInt8(ascii: "{"))
            var first = true
            for key in object.keys.sorted() {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                string(key, into: &out)
                out.append(UInt8(ascii: ":"))
                write(object[key]!, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (index, item) in array.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case is NSNull: out.append(contentsOf: Array("null".utf8))
        case let number as NSNumber:
            let kind = String(cString: number.objCType)
            if kind == "c" || kind == "B" {
                out.append(contentsOf: number.boolValue ? Array("true".utf8) : Array("false".utf8))
            } else if kind == "d" || kind == "f" {
                Self.number(number.doubleValue, into: &out)
            } else {
                out.append(contentsOf: number.stringValue.utf8)
            }
        case let dictionary as NSDictionary:
            var object: [String: Any] = [:]
            for (key, item) in dictionary { object["\(key)"] = item }
            write(object, into: &out)
        case let array as NSArray: write(array.map { $0 }, into: &out)
        default: string("\(value)", into: &out)
        }
    }

    static func number(_ value: Double, into out: inout [UInt8]) {
        if !value.isFinite { out.append(contentsOf: Array("null".utf8)); return }
        if value == value.rounded(), abs(value) < 1e15 { out.append(contentsOf: String(Int64(value)).utf8); return }
        out.append(contentsOf: "\(value)".utf8)
    }

    static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
