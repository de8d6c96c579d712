import Foundation

extension MailMessage {
    /// Why this message was sent by a program rather than a person, or `nil` for a person's:
    /// `Auto-Submitted` other than `no` (RFC 3834: out-of-office, vacation, auto-generated),
    /// `Precedence: bulk`, `junk`, `list` or `auto_reply`, an `X-Autoreply` / `X-Autorespond`
    /// header, a null sender (`Return-Path: <>`), a `mailer-daemon@` or `postmaster@` sender, or a
    /// delivery or read report (a `message/delivery-status` or `message/disposition-notification`
    /// part). Such a message opens no ticket, adds no reply and is never answered, so an
    /// out-of-office answering a notification cannot reopen or flood a ticket and two robots
    /// cannot loop; it is held for agents instead (``IntakeContext/receive(raw:source:tokens:settings:bounce:)``).
    public var automaticReason: String? {
        let auto = autoSubmitted.lowercased()
        if !auto.isEmpty && auto != "no" { return "Auto-Submitted: \(autoSubmitted)" }
        if ["bulk", "junk", "list", "auto_reply"].contains(precedence.lowercased()) { return "Precedence: \(precedence)" }
        if !autoReply.isEmpty { return autoReply }
        if returnPath.replacingOccurrences(of: " ", with: "") == "<>" { return "Return-Path: <>" }
        let local = fromAddress.split(separator: "@").first.map { $0.lowercased() } ?? ""
        if ["mailer-daemon", "postmaster"].contains(local) { return "From: \(fromAddress)" }
        if let report = attachments.first(where: { ["message/delivery-status", "message/disposition-notification"].contains($0.contentType) }) {
            return "Content-Type: \(report.contentType)"
        }
        return nil
    }

    /// The headers of vacation programs that predate RFC 3834, as `Name: value` (the first found), or empty.
    static func autoReplyHeader(_ value: (String) -> String) -> String {
        for name in ["X-Autoreply", "X-Autorespond", "X-Autoresponder"] {
            let text = value(name).trimmingCharacters(in: .whitespaces)
            if !text.isEmpty { return "\(name): \(text)" }
        }
        return ""
    }
}
