import Foundation

/// A message's MIME tree laid out flat for line-oriented readers such as
/// ``DeliveryStatusReport``: the top-level headers, then each leaf part's headers and its body
/// *decoded* (base64 and quoted-printable), multiparts opened recursively. A `message/rfc822`
/// part is one leaf (its headers are what a bounce reader needs).
enum MIMEFlattening {
    /// The flattened text of `raw` (CRLF or LF line ends accepted; LF in the result).
    static func flatten(_ raw: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        append(raw, into: &out, depth: 0)
        return out
    }

    /// Headers (unfolded, names lowercased) and the body of one entity.
    static func split(_ entity: [UInt8]) -> (headers: [(String, String)], headerText: [UInt8], body: ArraySlice<UInt8>) {
        // The first empty line (LF LF or LF CR LF) ends the headers; none: all headers.
        var end = entity.count, bodyStart = entity.count
        if entity.first == 0x0a {
            (end, bodyStart) = (0, 1)
        } else if entity.starts(with: [0x0d, 0x0a]) {
            (end, bodyStart) = (0, 2)
        } else {
            var index = 0
            while index < entity.count {
                if entity[index] == 0x0a {
                    var next = index + 1
                    if next < entity.count && entity[next] == 0x0d { next += 1 }
                    if next < entity.count && entity[next] == 0x0a {
                        (end, bodyStart) = (index, next + 1)
                        break
                    }
                }
                index += 1
            }
        }
        let headerText = Array(entity[..<end])
        var headers: [(String, String)] = []
        for line in String(decoding: headerText, as: UTF8.self).split(whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = line.hasSuffix("\r") ? line.dropLast() : line[...]
            if let first = line.first, first == " " || first == "\t", !headers.isEmpty {
                headers[headers.count - 1].1 += " " + line.trimmingCharacters(in: .whitespaces)
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((line[..<colon].lowercased().trimmingCharacters(in: .whitespaces),
                                line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
            }
        }
        return (headers, headerText, entity[bodyStart...])
    }

    /// A parameter of a header value (`boundary` of `multipart/report; boundary="x"`).
    static func parameter(_ name: String, in value: String) -> String? {
        for item in value.split(separator: ";").dropFirst() {
            let pair = item.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            return pair[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        return nil
    }

    private static func append(_ entity: [UInt8], into out: inout [UInt8], depth: Int) {
        let (headers, headerText, body) = split(entity)
        func header(_ name: String) -> String { headers.first { $0.0 == name }?.1 ?? "" }
        let type = header("content-type")
        let media = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "text/plain"
        let encoding = header("content-transfer-encoding").lowercased()
        // Headers as they were, except the transfer encoding (the body below is decoded).
        for line in String(decoding: headerText, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.lowercased().hasPrefix("content-transfer-encoding:") { continue }
            out += Array(line.utf8.filter { $0 != 0x0d })
            out.append(0x0a)
        }
        out.append(0x0a)
        if media.hasPrefix("multipart/"), let boundary = parameter("boundary", in: type), depth < 8 {
            for part in parts(Array(body), boundary: boundary) {
                append(part, into: &out, depth: depth + 1)
            }
            return
        }
        let decoded: [UInt8] = switch encoding {
        case "base64": base64(body)
        case "quoted-printable": quotedPrintable(body)
        default: Array(body)
        }
        out += decoded.filter { $0 != 0x0d }
        if decoded.last != 0x0a { out.append(0x0a) }
        out.append(0x0a)
    }

    /// The parts between `--boundary` lines (up to `--boundary--`).
    static func parts(_ body: [UInt8], boundary: String) -> [[UInt8]] {
        let delimiter = Array("--\(boundary)".utf8)
        var result: [[UInt8]] = []
        var current: [UInt8]? = nil
        var lineStart = 0
        func lineMatches(_ start: Int, _ end: Int) -> (Bool, Bool) {
            var line = body[start..<end]
            while let last = line.last, last == 0x0d || last == 0x20 || last == 0x09 { line = line.dropLast() }
            guard line.starts(with: delimiter) else { return (false, false) }
            let rest = line.dropFirst(delimiter.count)
            if rest.isEmpty { return (true, false) }
            if rest.elementsEqual([0x2d, 0x2d]) { return (true, true) }
            return (false, false)
        }
        while lineStart < body.count {
            let newline = body[lineStart...].firstIndex(of: 0x0a) ?? body.count
            let (isDelimiter, isLast) = lineMatches(lineStart, newline)
            if isDelimiter {
                if let part = current {
                    // The line break before the delimiter belongs to it.
                    var trimmed = part
                    if trimmed.last == 0x0a { trimmed.removeLast() }
                    if trimmed.last == 0x0d { trimmed.removeLast() }
                    result.append(trimmed)
                }
                if isLast { return result }
                current = []
            } else if current != nil {
                current! += body[lineStart..<min(body.count, newline + 1)]
            }
            lineStart = newline + 1
        }
        if let part = current, !part.isEmpty { result.append(part) }
        return result
    }

    static func base64(_ body: ArraySlice<UInt8>) -> [UInt8] {
        let text = body.filter { !($0 == 0x0a || $0 == 0x0d || $0 == 0x20 || $0 == 0x09) }
        var padded = text
        while padded.count % 4 != 0 { padded.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(padded), options: .ignoreUnknownCharacters) else { return Array(body) }
        return Array(data)
    }

    static func quotedPrintable(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count)
        let bytes = Array(body)
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            default: nil
            }
        }
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "=") {
                // Soft line break: "=" then optional blanks then CRLF or LF.
                var j = i + 1
                while j < bytes.count && (bytes[j] == 0x20 || bytes[j] == 0x09) { j += 1 }
                if j < bytes.count && bytes[j] == 0x0d { j += 1 }
                if j < bytes.count && bytes[j] == 0x0a { i = j + 1; continue }
                if j >= bytes.count { break }
                if i + 2 < bytes.count, let high = hex(bytes[i + 1]), let low = hex(bytes[i + 2]) {
                    out.append(high << 4 | low)
                    i += 3
                    continue
                }
            }
            out.append(c)
            i += 1
        }
        return out
    }
}
