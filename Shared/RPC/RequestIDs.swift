/// Which request and trace ids a process takes from its callers (`request-id`, `trace-id`
/// metadata, the gateway's `X-Request-Id`): 1 to 100 bytes of letters, digits and `-_.:`.
/// Anything else is replaced by an id of the receiver's own (or, for a trace id, dropped), so
/// no caller can make every log line on the way carry megabytes or text made to look like
/// other fields.
public enum RequestIDs {
    /// The longest id taken, in UTF-8 bytes.
    public static let maxBytes = 100

    /// `text` when it is an acceptable id, else nil.
    public static func accepted(_ text: String?) -> String? {
        guard let text else { return nil }
        let utf8 = text.utf8
        guard (1...maxBytes).contains(utf8.count) else { return nil }
        // Plain ASCII ids (every id the deployment makes) are checked byte by byte.
        var ascii = true
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"):
                continue
            default:
                if byte < 0x80 { return nil }
                ascii = false
            }
        }
        if ascii { return text }
        return text.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0) })
            ? text : nil
    }
}
