import CMicroHTTPD
import Glibc

/// A multipart form's `Content-Type` as libmicrohttpd's post processor reads it.
///
/// libmicrohttpd 0.9.75 (Debian 12) finds the boundary with `strstr(value, "boundary=")` and takes
/// what follows to the end of the header: `boundary=XyZ; charset=UTF-8` (Apache HttpClient) gives
/// a boundary with `; charset=UTF-8`, `BOUNDARY=XyZ` none at all, and a parameter before it whose
/// value holds `boundary=` the wrong one (a quoted boundary alone it reads right). The body then
/// never matches and the form was answered 400 `INVALID_FORM`, which the client cannot fix.
/// RFC 2046 allows all of these (parameter names are case-insensitive; values are tokens or
/// quoted strings).
///
/// Before the post processor is made, the server rewrites the header's value in place to the one
/// form libmicrohttpd reads right, `multipart/form-data;boundary=<boundary>`: never longer than
/// the value it replaces, so it fits where libmicrohttpd keeps the header.
enum FormContentType {
    /// The value libmicrohttpd reads right for `value`, or nil when `value` is not a
    /// `multipart/form-data` with a boundary parameter, or already reads right.
    static func normalized(_ value: [UInt8]) -> [UInt8]? {
        let parts = split(value)
        guard let type = parts.first, equalIgnoringASCIICase(trimmed(type), mediaType) else { return nil }
        var boundary: [UInt8]?
        for parameter in parts.dropFirst() {
            guard let equals = parameter.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = trimmed(Array(parameter[..<equals]))
            guard equalIgnoringASCIICase(name, "boundary") else { continue }
            boundary = unquoted(trimmed(Array(parameter[(equals + 1)...])))
            break
        }
        // RFC 2046: 1 to 70 characters. Anything else is left to the post processor to refuse.
        guard let boundary, (1...70).contains(boundary.count), !boundary.contains(0) else { return nil }
        guard !readsRight(value, boundary: boundary) else { return nil }
        let result = Array("\(mediaType);boundary=".utf8) + boundary
        return result.count <= value.count ? result : nil
    }

    /// Whether libmicrohttpd's reading (the first `boundary=` after the media type, to the end)
    /// already gives `boundary`: the common `multipart/form-data; boundary=XyZ` is left as it is.
    private static func readsRight(_ value: [UInt8], boundary: [UInt8]) -> Bool {
        let key = Array("boundary=".utf8)
        var index = mediaType.utf8.count
        while index + key.count <= value.count {
            if Array(value[index..<(index + key.count)]) == key {
                return Array(value[(index + key.count)...]) == boundary
            }
            index += 1
        }
        return false
    }

    /// Rewrites `connection`'s `Content-Type` value to ``normalized(_:)``'s, when there is one.
    static func normalize(_ connection: OpaquePointer) {
        guard let stored = cmhd_header(connection, "Content-Type") else { return }
        let length = strlen(stored)
        let value = Array(UnsafeRawBufferPointer(start: stored, count: length))
        guard let replacement = normalized(value) else { return }
        // libmicrohttpd keeps received header values in the connection's own (writable) memory
        // pool, NUL-terminated; the replacement is never longer, so it fits with its NUL.
        let target = UnsafeMutableRawPointer(mutating: stored)
        replacement.withUnsafeBytes { target.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        target.storeBytes(of: 0, toByteOffset: replacement.count, as: UInt8.self)
    }

    private static let mediaType = "multipart/form-data"

    /// `value` cut at the semicolons outside quoted strings.
    private static func split(_ value: [UInt8]) -> [[UInt8]] {
        var parts: [[UInt8]] = [[]]
        var quoted = false
        var escaped = false
        for byte in value {
            if escaped {
                escaped = false
            } else if quoted && byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                quoted.toggle()
            } else if byte == UInt8(ascii: ";") && !quoted {
                parts.append([])
                continue
            }
            parts[parts.count - 1].append(byte)
        }
        return parts
    }

    /// A quoted string's content (backslash escapes undone), or `value` itself.
    private static func unquoted(_ value: [UInt8]) -> [UInt8]? {
        guard value.first == UInt8(ascii: "\"") else { return value }
        guard value.count >= 2, value.last == UInt8(ascii: "\"") else { return nil }
        var result: [UInt8] = []
        var escaped = false
        for byte in value.dropFirst().dropLast() {
            if !escaped && byte == UInt8(ascii: "\\") {
                escaped = true
                continue
            }
            escaped = false
            result.append(byte)
        }
        return escaped ? nil : result
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8] {
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }), let last = bytes.lastIndex(where: { !isSpace($0) }) else { return [] }
        return Array(bytes[first...last])
    }

    private static func equalIgnoringASCIICase(_ bytes: [UInt8], _ text: String) -> Bool {
        let lower = bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }
        return lower == Array(text.utf8)
    }
}
