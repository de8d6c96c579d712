import RPCTransport

/// The identity of a message that has no usable Message-ID: a SHA-256 of its bytes with every
/// CRLF read as LF, so the same message fetched over IMAP (CRLF) and handed over by the MTA's pipe
/// (usually LF) is recognised as one and held or answered once.
enum MailFingerprint {
    /// Lower-case hex SHA-256 of `raw` with each "\r\n" counted as "\n".
    static func hex(_ raw: [UInt8]) -> String {
        var hash = Digest.SHA256Stream()
        raw.withUnsafeBytes { bytes in
            var start = 0
            for index in bytes.indices where bytes[index] == UInt8(ascii: "\r") && index + 1 < bytes.count
                && bytes[index + 1] == UInt8(ascii: "\n") {
                hash.update(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
                start = index + 1
            }
            hash.update(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
        return Digest.hex(hash.finish())
    }

    /// Header fields added or rewritten on the way, which differ between two deliveries of the
    /// same message (another hop, another mailbox, another spam check) and so are left out of
    /// ``content(_:)``: trace fields (`Received`, `Return-Path`, `Delivered-To`,
    /// `X-Original-To`), the receiving side's verdicts (`Authentication-Results`,
    /// `Received-SPF`, `ARC-*`) and every `X-*` field (spam scores, filters, mailbox flags).
    static func isTransportHeader(_ name: String) -> Bool {
        let name = name.lowercased()
        return ["received", "return-path", "delivered-to", "authentication-results", "received-spf",
                "status", "x-status", "lines", "content-length"].contains(name)
            || name.hasPrefix("x-") || name.hasPrefix("arc-")
    }

    /// What makes two e-mails under one Message-ID the same message: lower-case hex SHA-256 of
    /// the header fields the sender wrote (From, Subject, Date, To, MIME headers, …: every field
    /// but ``isTransportHeader(_:)``'s), each as `lower-case name: value` with runs of white
    /// space read as one space (unfolded), in order, then the body bytes with CRLF read as LF.
    /// A redelivery (more `Received` lines, another spam score, CRLF over IMAP or LF through the
    /// MTA's pipe) has the same one; a different message reusing the id has another.
    static func content(_ raw: [UInt8]) -> String {
        let block = MailHeaders.block(raw)
        var normalised: [UInt8] = []
        for field in MailHeaders.read(raw) where !isTransportHeader(field.name) {
            let value = field.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            normalised += Array("\(field.name.lowercased()): \(value)\n".utf8)
        }
        normalised.append(UInt8(ascii: "\n"))
        normalised += raw[block.count...]
        return hex(normalised)
    }
}
