import Foundation
import Messages
import ServiceKit
import Storage

extension IntakeContext {
    /// The answer's reason for a message over `INTAKE_MAX_MAIL_BYTES`, in pt-BR and English.
    func oversizedReason(sizeBytes: Int64) -> String {
        let size = Self.mebibytes(sizeBytes), limit = Self.mebibytes(settings.maxMailBytes)
        return "mensagem de \(size) MiB acima do limite de \(limit) MiB; envie os arquivos em mensagens menores ou pelo portal"
            + " / message of \(size) MiB over the limit of \(limit) MiB; send the files in smaller messages or through the portal"
    }

    /// The reason recorded (and answered) for a message GMime cannot parse whose sender could be read.
    static let unreadableReason = "a mensagem não pôde ser lida (não é uma mensagem RFC 5322 válida); envie-a novamente ou use o portal"
        + " / the message could not be read (not a valid RFC 5322 message); send it again or use the portal"

    /// One decimal, comma-free: 35.0, 40.2.
    static func mebibytes(_ bytes: Int64) -> String {
        let tenths = (bytes * 10 + (1 << 19)) >> 20
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// A message larger than `INTAKE_MAX_MAIL_BYTES`: only its `header` block is kept (kind
    /// oversized, held, `size_bytes` the whole size), and its sender is told the limit through
    /// the bounce queue (same rules as any rejection: never an automatic message, a daemon, our
    /// own address, over the hourly limit). Once per Message-ID (else per SHA-256 of the header).
    /// `tokens` find the tickets its header names (``quarantineTickets(_:_:tokens:)``).
    /// - Throws: storage errors.
    public func receiveOversized(header: [UInt8], sizeBytes: Int64, source: String, tokens: ReplyToken,
                                 bounce: MailBounce? = nil) throws -> MailReceipt {
        let block = MailHeaders.block(header)
        let mail = (try? MailMessage(raw: block)).flatMap { $0.fromAddress.isEmpty ? nil : $0 } ?? MailMessage(lenient: block)
        let reason = oversizedReason(sizeBytes: sizeBytes)
        let (id, decision) = try database.write { tx in
            try hold(tx, raw: block, mail: mail, sizeBytes: sizeBytes, kind: .quarantineOversized, source: source,
                     reason: reason, bounce: bounce, tokens: tokens)
        }
        var receipt = MailReceipt(outcome: .rejected(reason: reason), quarantineID: id, bounce: decision)
        receipt.readableSender = MailReceipt.answerableSender(mail)
        return receipt
    }
}
