/// Escaping of untrusted text for HTML, shared by everything that renders HTML on the server
/// (knowledge's Markdown, notification's e-mail templates).
///
/// The work is done on UTF-8 bytes: the five special characters and NUL are ASCII, and an ASCII
/// byte never occurs inside a multi-byte UTF-8 sequence, so this is escaping per Unicode scalar.
/// Not per `Character`: a quote followed by a combining mark (`"\u{301}`) is one grapheme cluster
/// that compares unequal to `"`, and a per-character loop would leave the quote as it is — able
/// to close a quoted attribute value.
public enum HTML {
    /// `text` safe inside HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
    /// `'` become entities; NUL characters (invalid in HTML) are dropped.
    public static func escape(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        escape(utf8: text.utf8, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// ``escape(_:)`` on UTF-8 bytes, appended to `out` (for renderers that build bytes).
    public static func escape<Bytes: Sequence>(utf8 bytes: Bytes, into out: inout [UInt8]) where Bytes.Element == UInt8 {
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "&"): out += [0x26, 0x61, 0x6d, 0x70, 0x3b]  // &amp;
            case UInt8(ascii: "<"): out += [0x26, 0x6c, 0x74, 0x3b]  // &lt;
            case UInt8(ascii: ">"): out += [0x26, 0x67, 0x74, 0x3b]  // &gt;
            case UInt8(ascii: "\""): out += [0x26, 0x71, 0x75, 0x6f, 0x74, 0x3b]  // &quot;
            case UInt8(ascii: "'"): out += [0x26, 0x23, 0x33, 0x39, 0x3b]  // &#39;
            case 0: continue
            default: out.append(byte)
            }
        }
    }

    /// ``escape(_:)`` on UTF-8 bytes.
    public static func escape(utf8 bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16)
        escape(utf8: bytes, into: &out)
        return out
    }
}
