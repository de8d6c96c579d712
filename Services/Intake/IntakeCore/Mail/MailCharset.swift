import CGMime
import Foundation

/// How the bytes of a text part become text, for the mail real clients and old systems send.
///
/// GMime's own conversion drops what it cannot convert without a trace ("Acentuação" labelled
/// UTF-8 but written in windows-1252 became "Acentuao") and passes on the bytes of a part without a
/// charset, or with one iconv does not know, unconverted. Here:
/// - no label, a UTF-8 or ASCII label, an ISO-8859-1 / windows-1252 label, or a label iconv does
///   not know (`x-unknown`, `ansi`): UTF-8 when the bytes are valid UTF-8 (an ERP labelling its
///   UTF-8 as ISO-8859-1), else windows-1252 — the superset of ISO-8859-1 that Windows, Outlook
///   and browsers use (WHATWG reads an ISO-8859-1 label as windows-1252 too), so “aspas”, the
///   dash – and € are kept instead of becoming invisible C1 control characters;
/// - any other label iconv knows (ISO-8859-15, KOI8-R, Shift_JIS, ISO-2022-JP, …): converted by
///   iconv; when the bytes are not valid in it, read as above.
/// NUL characters are dropped (PostgreSQL text cannot hold them), and so is a leading byte order mark.
///
/// ```swift
/// MailCharset.decode([0x4E, 0xE3, 0x6F], charset: "utf-8")    // "Não" (windows-1252 after all)
/// MailCharset.repairC1("\u{93}aspas\u{94}")                    // "“aspas”"
/// ```
enum MailCharset {
    /// Labels read as UTF-8 when valid, else windows-1252.
    static let westernLabels: Set<String> = [
        "utf-8", "utf8", "unicode-1-1-utf-8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso-ir-6", "us",
        "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1", "latin-1", "l1", "cp819", "ibm819",
        "iso-ir-100", "csisolatin1", "windows-1252", "cp1252", "x-cp1252", "win-1252",
    ]

    /// `bytes` (a part's content, transfer encoding undone) as text, per the rules above.
    static func decode(_ bytes: [UInt8], charset label: String) -> String {
        let name = label.trimmingCharacters(in: CharacterSet(charactersIn: "\"' \t")).lowercased()
        if !name.isEmpty && !westernLabels.contains(name), let converted = convert(bytes, from: name) {
            return tidy(repairC1(converted))
        }
        return tidy(String(validating: bytes, as: UTF8.self) ?? windows1252(bytes))
    }

    /// iconv's conversion of `bytes` from `charset`; nil when it does not know the charset or the
    /// bytes are not valid in it.
    static func convert(_ bytes: [UInt8], from charset: String) -> String? {
        var written = 0
        guard let converted = bytes.withUnsafeBufferPointer({ buffer in
            cgmime_convert(buffer.baseAddress, buffer.count, charset, &written)
        }) else { return nil }
        defer { cgmime_free(converted) }
        return converted.withMemoryRebound(to: UInt8.self, capacity: written) { pointer in
            String(decoding: UnsafeBufferPointer(start: pointer, count: written), as: UTF8.self)
        }
    }

    /// Windows-1252 for 0x80–0x9F (0 where it defines nothing: those bytes stay C1 controls).
    static let high: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    /// `bytes` read as windows-1252 (every byte is a character).
    static func windows1252(_ bytes: [UInt8]) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(scalar(UInt32(byte))) }
        return String(text)
    }

    /// `text` with the C1 control characters U+0080–U+009F that an ISO-8859-1 reading of
    /// windows-1252 leaves (RFC 2047 words and 8-bit headers labelled or guessed ISO-8859-1)
    /// turned into what windows-1252 means by them.
    static func repairC1(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { (0x80...0x9F).contains($0.value) }) else { return text }
        var repaired = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { repaired.append(Self.scalar(scalar.value)) }
        return String(repaired)
    }

    static func scalar(_ value: UInt32) -> Unicode.Scalar {
        let mapped = (0x80...0x9F).contains(value) && high[Int(value - 0x80)] != 0 ? high[Int(value - 0x80)] : value
        return Unicode.Scalar(mapped) ?? "\u{FFFD}"
    }

    /// `text` without NUL characters and without a leading byte order mark (Windows editors and
    /// some ERPs start UTF-8 text with one; it would sit invisibly before the first word).
    static func tidy(_ text: String) -> String {
        let text = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
        return text.contains("\0") ? text.replacingOccurrences(of: "\0", with: "") : text
    }

    /// A header's text on one line: runs of whitespace, line breaks and control characters (an
    /// encoded word may hold a line break or a tab) become one space; trimmed.
    static func singleLine(_ text: String) -> String {
        text.split(whereSeparator: { $0.isWhitespace || $0.isNewline || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) })
            .joined(separator: " ")
    }
}
