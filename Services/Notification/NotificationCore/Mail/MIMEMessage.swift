import Foundation
import RPCTransport

/// A name and an address, rendered as `=?UTF-8?B?...?= <a@b>` when the name is not ASCII.
struct MailAddress: Sendable, Equatable {
    var name: String
    var email: String

    var header: String {
        guard !name.isEmpty else { return "<\(email)>" }
        return "\(MIMEEncoding.phrase(name)) <\(email)>"
    }
}

/// A piece of a rendered message: bytes, or a spool file holding an encoded attachment.
enum MIMESegment: Sendable, Equatable {
    case bytes([UInt8])
    case file(String)
}

/// An e-mail built by us: RFC 5322 headers (UTF-8 encoded per RFC 2047), a multipart/alternative
/// text+HTML body and, when there are files, a multipart/mixed wrapper with base64 attachments.
/// Boundaries derive from the Message-ID, so the same message renders to the same bytes (a resend
/// after a crash is byte-identical).
struct MIMEMessage: Sendable {
    var from: MailAddress
    /// `from.header`, when the caller encoded it already (one sender for every message).
    var fromHeader: String?
    var to: [MailAddress]
    var cc: [MailAddress] = []
    var replyTo: String?
    var subject: String
    var text: String
    var html: String
    /// Attachments fetched into spool files, streamed into the stored message by ``segments()``.
    var spooled: [SpooledAttachment] = []
    /// Without angle brackets.
    var messageID: String
    var date: Date
    var extraHeaders: [(String, String)] = []

    /// The whole message in memory (spool files read in).
    func render() -> [UInt8] {
        let segments = segments()
        if segments.count == 1, case .bytes(let only) = segments[0] { return only }
        var bytes: [UInt8] = []
        for segment in segments {
            switch segment {
            case .bytes(let piece): bytes += piece
            case .file(let path): bytes += (FileManager.default.contents(atPath: path).map { Array($0) } ?? [])
            }
        }
        return bytes
    }

    /// The message as bytes with spooled attachments left in their files, in order. Written
    /// straight into bytes (no intermediate strings for the base64 bodies).
    func segments() -> [MIMESegment] {
        var segments: [MIMESegment] = []
        var out: [UInt8] = []
        out.reserveCapacity(1_024 + (text.utf8.count + html.utf8.count) * 139 / 100)
        func put(_ text: String) { out += text.utf8 }
        func header(_ name: String, _ value: String) {
            put(name)
            put(": ")
            put(value)
            put("\r\n")
        }
        header("From", fromHeader ?? from.header)
        header("To", to.map(\.header).joined(separator: ",\r\n "))
        if !cc.isEmpty { header("Cc", cc.map(\.header).joined(separator: ",\r\n ")) }
        if let replyTo { header("Reply-To", "<\(replyTo)>") }
        header("Subject", MIMEEncoding.headerText(subject))
        header("Date", MIMEEncoding.date(date))
        header("Message-ID", "<\(messageID)>")
        header("MIME-Version", "1.0")
        for (name, value) in extraHeaders {
            header(name, value.utf8.contains(0x0d) || value.utf8.contains(0x0a)
                ? value.replacingOccurrences(of: "\r", with: "").replacingOccurrences(of: "\n", with: " ") : value)
        }
        let seed = Digest.sha256(Array(messageID.utf8))
        let alternative = "alt-" + Digest.hex(Array(seed.prefix(12)))
        let mixed = "mix-" + Digest.hex(Array(seed.suffix(12)))
        func alternativePart() {
            put("--\(alternative)\r\n")
            put("Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
            MIMEEncoding.appendBase64Lines(Array(text.utf8), to: &out)
            put("--\(alternative)\r\n")
            put("Content-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\n")
            MIMEEncoding.appendBase64Lines(Array(html.utf8), to: &out)
            put("--\(alternative)--\r\n")
        }
        if spooled.isEmpty {
            header("Content-Type", "multipart/alternative; boundary=\"\(alternative)\"")
            put("\r\n")
            alternativePart()
        } else {
            header("Content-Type", "multipart/mixed; boundary=\"\(mixed)\"")
            put("\r\n")
            put("--\(mixed)\r\n")
            put("Content-Type: multipart/alternative; boundary=\"\(alternative)\"\r\n\r\n")
            alternativePart()
            // A part's boundary line and headers; its base64 body follows.
            func partHeaders(fileName: String, contentType: String) {
                put("--\(mixed)\r\n")
                put("Content-Type: \(MIMEEncoding.safeContentType(contentType)); \(MIMEEncoding.parameter("name", fileName))\r\n")
                put("Content-Transfer-Encoding: base64\r\n")
                put("Content-Disposition: attachment; \(MIMEEncoding.parameter("filename", fileName))\r\n\r\n")
            }
            for attachment in spooled {
                partHeaders(fileName: attachment.fileName, contentType: attachment.contentType)
                segments.append(.bytes(out))
                out = []
                segments.append(.file(attachment.path))
            }
            put("--\(mixed)--\r\n")
        }
        segments.append(.bytes(out))
        return segments
    }
}

/// The encodings MIME needs.
enum MIMEEncoding {
    static func isPlainASCII(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
    }

    /// RFC 2047 encoded words (`=?UTF-8?B?...?=`), split on character boundaries so no word
    /// exceeds 75 characters, folded onto continuation lines. ASCII text stays as it is.
    static func headerText(_ text: String) -> String {
        let clean = PlainText.oneLine(text)
        if isPlainASCII(clean) && !PlainText.contains(clean, "=?") && clean.utf8.count <= 900 { return clean }
        // Words end on character boundaries. Below U+0300 every scalar but CR and LF (made
        // spaces by `oneLine`) is a character of its own (no combining marks, joiners or
        // other extenders there), so such text is cut by scalars, on its bytes, without
        // building a `Character` for each one: the same words.
        if clean.unicodeScalars.allSatisfy({ $0.value < 0x300 }) {
            return encodedWords(clean.utf8) { bytes, index in
                // A scalar's UTF-8 length from its lead byte (at most two bytes below U+0300).
                bytes[index] < 0x80 ? 1 : 2
            }
        }
        var words: [String] = []
        var chunk: [UInt8] = []
        chunk.reserveCapacity(64)
        for character in clean {
            let bytes = character.utf8
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk.removeAll(keepingCapacity: true)
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?" + Data(chunk).base64EncodedString() + "?=") }
        return words.joined(separator: "\r\n ")
    }

    /// ``headerText(_:)``'s encoded words for text cut into units of `unitLength` bytes (a
    /// unit never split): at most 45 bytes per word, words joined by a fold.
    private static func encodedWords(_ utf8: String.UTF8View, unitLength: ([UInt8], Int) -> Int) -> String {
        let bytes = Array(utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2 + 32)
        var start = 0, index = 0
        func word(_ end: Int) {
            if !out.isEmpty { out += [0x0d, 0x0a, 0x20] }
            out += "=?UTF-8?B?".utf8
            appendBase64(bytes[start..<end], to: &out)
            out += "?=".utf8
        }
        while index < bytes.count {
            let length = unitLength(bytes, index)
            if index + length - start > 45 {
                word(index)
                start = index
            }
            index += length
        }
        if index > start { word(index) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends `bytes` in base64 (padded, one run without line breaks), as
    /// `Data.base64EncodedString()` writes it.
    static func appendBase64(_ bytes: ArraySlice<UInt8>, to out: inout [UInt8]) {
        alphabet.withUnsafeBufferPointer { a in
            var index = bytes.startIndex
            while index + 3 <= bytes.endIndex {
                let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                out.append(a[Int(n >> 18 & 63)]); out.append(a[Int(n >> 12 & 63)])
                out.append(a[Int(n >> 6 & 63)]); out.append(a[Int(n & 63)])
                index += 3
            }
            let left = bytes.endIndex - index
            if left > 0 {
                let n = UInt32(bytes[index]) << 16 | (left == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
                out.append(a[Int(n >> 18 & 63)]); out.append(a[Int(n >> 12 & 63)])
                out.append(left == 2 ? a[Int(n >> 6 & 63)] : UInt8(ascii: "=")); out.append(UInt8(ascii: "="))
            }
        }
    }

    /// A display name: encoded when not ASCII, quoted when it has specials.
    static func phrase(_ name: String) -> String {
        let clean = PlainText.oneLine(name)
        guard isPlainASCII(clean) else { return headerText(clean) }
        let escaped = !clean.utf8.contains(UInt8(ascii: "\\")) && !clean.utf8.contains(UInt8(ascii: "\""))
            ? clean : clean.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "\"\(escaped)\""
    }

    /// `name="file.pdf"`, or RFC 2231 `name*=UTF-8''%C3%A1.pdf` when not ASCII.
    static func parameter(_ name: String, _ value: String) -> String {
        if isPlainASCII(value) && !value.contains("\"") && !value.contains("\\") { return "\(name)=\"\(value)\"" }
        let unreserved = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~".utf8)
        let encoded = value.utf8.map { unreserved.contains($0) ? String(UnicodeScalar($0)) : String(format: "%%%02X", $0) }.joined()
        return "\(name)*=UTF-8''\(encoded)"
    }

    static func safeContentType(_ type: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/.+-")
        return !type.isEmpty && type.contains("/") && type.allSatisfy({ allowed.contains($0) }) ? type : "application/octet-stream"
    }

    /// Base64 in lines of 76 characters, CRLF-terminated.
    static func base64Lines(_ bytes: [UInt8]) -> String {
        String(decoding: base64LineBytes(bytes), as: UTF8.self)
    }

    /// ``base64Lines(_:)`` as bytes (encoded straight into them).
    static func base64LineBytes(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        appendBase64Lines(bytes, to: &out)
        return out
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Appends `bytes` in base64 lines of 76 characters, each CRLF-terminated (19 groups of
    /// four per line).
    static func appendBase64Lines(_ bytes: [UInt8], to out: inout [UInt8]) {
        let encoded = (bytes.count + 2) / 3 * 4
        out.reserveCapacity(out.count + encoded + (encoded / 76 + 1) * 2)
        alphabet.withUnsafeBufferPointer { a in
            bytes.withUnsafeBufferPointer { source in
                var index = 0, column = 0
                while index + 3 <= source.count {
                    let n = UInt32(source[index]) << 16 | UInt32(source[index + 1]) << 8 | UInt32(source[index + 2])
                    out.append(a[Int(n >> 18 & 63)]); out.append(a[Int(n >> 12 & 63)])
                    out.append(a[Int(n >> 6 & 63)]); out.append(a[Int(n & 63)])
                    index += 3
                    column += 4
                    if column == 76 {
                        out.append(0x0d); out.append(0x0a)
                        column = 0
                    }
                }
                let left = source.count - index
                if left > 0 {
                    let n = UInt32(source[index]) << 16 | (left == 2 ? UInt32(source[index + 1]) << 8 : 0)
                    out.append(a[Int(n >> 18 & 63)]); out.append(a[Int(n >> 12 & 63)])
                    out.append(left == 2 ? a[Int(n >> 6 & 63)] : UInt8(ascii: "=")); out.append(UInt8(ascii: "="))
                    column += 4
                }
                if column > 0 {
                    out.append(0x0d); out.append(0x0a)
                }
            }
        }
    }

    /// RFC 5322 date, e.g. `Sun, 29 Nov 2026 01:15:16 +0000` (UTC, no formatter objects).
    static func date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
