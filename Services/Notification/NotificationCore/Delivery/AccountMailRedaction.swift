import Foundation
import Storage

/// Account e-mails (invitations, password resets: ``kinds``) carry a one-time link that sets the
/// person's password until it expires (an hour for a reset, 7 days for an invitation). Their
/// stored copy keeps it while it may still be needed — retries before delivery send the very
/// same message — and once its fate is settled its body is replaced by a note in the same
/// transaction as the outcome (``DeliveryClaims/recordAll``): accepted by the relay (`sent`),
/// refused for good (`failed`), or out of attempts (`dead`); one for a suppressed address is
/// stored already without it (``NotificationAPI/sendAccountEmail``). The headers stay (the
/// delivery log, `Message-ID`, a bounce's match), the link does not.
///
/// Such a copy is not sent again: a replay or a dead-letter retry would mail the note. The
/// person gets a new link from the gateway instead (`POST /v1/users/{id}/resend-invitation`
/// makes a new invitation link and ends the earlier ones; "Esqueci minha senha" a reset link),
/// so ``NotificationAPI/replayDelivery`` refuses them (`FAILED_PRECONDITION`) and
/// ``NotificationAPI/retryDeadLetters`` leaves them out.
enum AccountMailRedaction {
    /// The `event_kind`s of account e-mails with a one-time link (``NotificationAPI/sendAccountEmail``;
    /// an `InvitationNotice` carries none).
    static let kinds: Set<String> = ["Invitation", "StaffInvitation", "RepresentativeInvitation", "PasswordReset"]

    /// ``kinds`` as an SQL list of literals (constants: no input reaches it).
    static let kindList = kinds.sorted().map { "'\($0)'" }.joined(separator: ", ")

    /// Whether `delivery` is an account e-mail whose stored copy holds a one-time link.
    static func applies(_ delivery: ClaimedDelivery) -> Bool {
        delivery.channel == DeliveryChannel.email.rawValue && kinds.contains(delivery.eventKind)
    }

    /// `FAILED_PRECONDITION`: an account e-mail is not sent again (its link left the stored copy).
    static let notReplayed = "e-mail de conta: o link de uso único não fica guardado; peça um novo (reenviar convite, \"Esqueci minha senha\") "
        + "/ account e-mail: its one-time link is not kept; ask for a new one (resend the invitation, \"Forgot my password\")"

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
