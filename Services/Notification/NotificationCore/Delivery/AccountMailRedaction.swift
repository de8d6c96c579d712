import Foundation
import Storage

/// Account e-mails (invitations, password resets: ``kinds``) carry a one-time link that sets the
/// person's password until it expires (an hour for a reset, 7 days for an invitation). Their
/// stored copy keeps it while it may still be needed — retries before delivery send the very
/// same message — and once the relay accepted the e-mail its body is replaced by a note in the
/// same transaction as the outcome (``DeliveryClaims/recordAll``): the headers stay (the
/// delivery log, `Message-ID`, a bounce's match), the link does not. A failed or discarded one
/// keeps it (it is replayed whole when a suppression is lifted, and its link expires anyway).
enum AccountMailRedaction {
    /// The `event_kind`s of account e-mails (``NotificationAPI/sendAccountEmail``).
    static let kinds: Set<String> = ["Invitation", "StaffInvitation", "RepresentativeInvitation", "PasswordReset"]

    /// What stands for the body once sent.
    static let note = "[Conteúdo removido depois do envio: a mensagem continha um link de uso único. / "
        + "Content removed after sending: the message held a one-time link.]\r\n"

    /// Replaces the stored message of `deliveryID` (an account e-mail just sent) by ``redacted(_:)``,
    /// in the caller's transaction.
    static func redact(_ tx: any SQLExecutor, deliveryID: String, payload: [UInt8]) throws {
        var original = payload
        if original.isEmpty {
            for row in try tx.query("SELECT data FROM notification_payload_chunks WHERE delivery_id = ? ORDER BY seq", [.text(deliveryID)]) {
                original += try row.blob("data")
            }
        }
        let replaced = redacted(original)
        try tx.execute("DELETE FROM notification_payload_chunks WHERE delivery_id = ?", [.text(deliveryID)])
        try tx.execute("INSERT INTO notification_payload_chunks (delivery_id, seq, data) VALUES (?, 0, ?)",
                       [.text(deliveryID), .blob(replaced)])
        try tx.execute("UPDATE notification_deliveries SET payload = ?, payload_bytes = ? WHERE id = ?",
                       [.blob([]), .integer(Int64(replaced.count)), .text(deliveryID)])
    }

    /// `message` with its header kept (but its `MIME-Version`, `Content-*` lines) and its body
    /// replaced by ``note`` as plain text.
    static func redacted(_ message: [UInt8]) -> [UInt8] {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        var end = message.count
        if message.count >= separator.count {
            for index in 0...(message.count - separator.count) where message[index..<index + separator.count].elementsEqual(separator) {
                end = index
                break
            }
        }
        let header = String(decoding: message[..<end], as: UTF8.self)
        var kept: [String] = []
        var skipping = false
        for line in header.components(separatedBy: "\r\n") {
            if line.hasPrefix(" ") || line.hasPrefix("\t") {
                if !skipping { kept.append(line) }
                continue
            }
            let name = line.prefix { $0 != ":" }.lowercased()
            skipping = name == "mime-version" || name.hasPrefix("content-")
            if !skipping { kept.append(line) }
        }
        kept += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "Content-Transfer-Encoding: 8bit"]
        return Array((kept.joined(separator: "\r\n") + "\r\n\r\n" + note).utf8)
    }
}
