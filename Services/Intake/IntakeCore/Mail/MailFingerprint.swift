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
}
