/// Ticket codes (`2026-000123`: a four-digit year, a dash, six or more digits) written in an
/// e-mail's subject or text. Never used to thread a message to a ticket (anyone can type a
/// code, the known flaw the issue names); only to keep a held message that quotes a ticket
/// away from agents who may not see that ticket (``IntakeContext/quarantineTickets(_:_:tokens:)``).
enum MailTicketCodes {
    /// At most how many distinct codes one message is searched for.
    static let maxCodes = 20
    /// How much of a message's text is searched (its beginning: the subject and the first
    /// screens are where a customer or a forwarded notification names a ticket).
    static let maxTextCharacters = 64 * 1024

    /// The distinct codes in `text`, in order of appearance, at most `limit`. A code is a run of
    /// exactly four digits, `-`, and six or more digits, with no digit right before or after.
    static func codes(in text: String, limit: Int = maxCodes) -> [String] {
        let bytes = Array(text.utf8)
        var found: [String] = []
        var index = 0
        func isDigit(_ at: Int) -> Bool { at >= 0 && at < bytes.count && bytes[at] >= 0x30 && bytes[at] <= 0x39 }
        while index + 11 <= bytes.count && found.count < limit {
            guard !isDigit(index - 1), (index..<index + 4).allSatisfy(isDigit), bytes[index + 4] == UInt8(ascii: "-") else {
                index += 1
                continue
            }
            var end = index + 5
            while isDigit(end) { end += 1 }
            if end - (index + 5) >= 6 {
                let code = String(decoding: bytes[index..<end], as: UTF8.self)
                if !found.contains(code) { found.append(code) }
            }
            index = end
        }
        return found
    }
}
