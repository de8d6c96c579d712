import Foundation

/// A lenient reading of a raw message's header block, for what GMime cannot parse (and for
/// showing agents the headers of any held message).
///
/// Lines are read up to the first empty line, within the first ``limit`` bytes: a line
/// `Name: value` (a name of printable ASCII without spaces or colons) starts a field, a line
/// starting with a space or tab continues the previous one, anything else is skipped (a stray
/// first line, binary junk). Values are unfolded and decoded as UTF-8 with invalid bytes
/// replaced; encoded words (RFC 2047) are left as they are.
///
/// ```swift
/// let fields = MailHeaders.read(raw)             // [("From", "Maria <maria@acme.example>"), …]
/// let sender = MailHeaders.address(in: "Maria <maria@acme.example>")   // "maria@acme.example"
/// ```
public enum MailHeaders {
    /// Bytes of a message looked at for its header block.
    public static let limit = 64 << 10

    /// The header fields found, in order.
    public static func read(_ raw: [UInt8], limit: Int = MailHeaders.limit) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        var canContinue = false
        for line in lines(block(raw, limit: limit)) {
            if line.isEmpty { break }
            if line.first == 0x20 || line.first == 0x09 {
                if canContinue, !fields.isEmpty {
                    fields[fields.count - 1].value += " " + text(line).trimmingCharacters(in: .whitespaces)
                }
                continue
            }
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[..<colon].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                canContinue = false
                continue
            }
            fields.append((text(line[..<colon]), text(line[(colon + 1)...]).trimmingCharacters(in: .whitespaces)))
            canContinue = true
        }
        return fields
    }

    /// The header block: the bytes up to and including the first empty line, at most `limit`.
    public static func block(_ raw: [UInt8], limit: Int = MailHeaders.limit) -> [UInt8] {
        let end = min(raw.count, limit)
        var index = 0
        while index < end {
            if raw[index] == 0x0A {
                let next = index + 1
                if next < end, raw[next] == 0x0A { return Array(raw[..<(next + 1)]) }
                if next + 1 < end, raw[next] == 0x0D, raw[next + 1] == 0x0A { return Array(raw[..<(next + 2)]) }
            }
            index += 1
        }
        return Array(raw[..<end])
    }

    /// The first e-mail address in a header value (`Name <a@b>`, `<a@b>`, `a@b (Name)`), lower-cased;
    /// nil when there is none (also for the null sender `<>`).
    public static func address(in value: String) -> String? {
        if let open = value.firstIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            let inside = value[value.index(after: open)..<close].trimmingCharacters(in: .whitespaces)
            return IntakeContext.looksLikeEmail(inside) ? inside.lowercased() : nil
        }
        for word in value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," || $0 == ";" }) {
            let candidate = word.trimmingCharacters(in: CharacterSet(charactersIn: "\"'()[]"))
            if IntakeContext.looksLikeEmail(candidate) { return candidate.lowercased() }
        }
        return nil
    }

    static func lines(_ bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            line.last == 0x0D ? line.dropLast() : line
        }
    }

    static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
    }
}

extension MailMessage {
    /// What a lenient reading of the header block finds (``MailHeaders``), for a message GMime
    /// cannot parse: sender (From, else Sender, else Reply-To, else Return-Path), subject,
    /// Message-ID, what threads it to a ticket (recipients, In-Reply-To, References, as text) and
    /// the headers that decide whether it may be answered. No body, no attachments.
    /// nil when no sender address can be read.
    public init?(lenient raw: [UInt8]) {
        let fields = MailHeaders.read(raw)
        func value(_ name: String) -> String {
            fields.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame })?.value ?? ""
        }
        guard let sender = ["From", "Sender", "Reply-To", "Return-Path"].lazy.compactMap({ MailHeaders.address(in: value($0)) }).first else {
            return nil
        }
        let id = value("Message-ID").trimmingCharacters(in: CharacterSet(charactersIn: "<> \t"))
        messageID = id.isEmpty ? "sha256-\(MailFingerprint.hex(raw))@intake.invalid" : id
        fromAddress = sender
        fromName = ""
        recipients = ["To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"].map { value($0).lowercased() }.filter { !$0.isEmpty }
        subject = String(value("Subject").prefix(500))
        inReplyTo = value("In-Reply-To")
        references = value("References")
        text = ""
        html = ""
        attachments = []
        autoSubmitted = value("Auto-Submitted")
        precedence = value("Precedence")
        returnPath = value("Return-Path")
        autoReply = Self.autoReplyHeader(value)
    }
}
