import CCurl
import Foundation
import ServiceKit

/// Answers a rejected e-mail taken from the IMAP mailbox: a short message to its sender, in
/// pt-BR and English, with the reason, sent through the configured SMTP server with libcurl.
/// (The MTA-pipe path needs none: the MTA bounces on the exit status.)
///
/// Never answered, so two automatic systems cannot loop (RFC 3834): messages with
/// `Auto-Submitted` other than `no`, `Precedence: bulk/junk/list`, a null sender
/// (`Return-Path: <>`), or a sender like `mailer-daemon@`, `postmaster@`, `no-reply@`.
///
/// Configuration: `INTAKE_SMTP_URL` (`smtp://host:port`, `smtps://…`; empty: no bounces),
/// `INTAKE_SMTP_USER`, `INTAKE_SMTP_PASSWORD`, `INTAKE_BOUNCE_FROM` (the support address the
/// answer comes from; required with `INTAKE_SMTP_URL`).
public struct MailBounce: Sendable {
    public var smtpURL: String
    public var user = ""
    public var password = ""
    /// The answer's `From` and envelope sender.
    public var from: String
    public var timeoutMilliseconds = 30_000

    public init(smtpURL: String, from: String) {
        self.smtpURL = smtpURL
        self.from = from
    }

    /// The bounce configured in `environment`, or `nil` when `INTAKE_SMTP_URL` is unset.
    /// - Throws: ``ConfigurationError`` when `INTAKE_BOUNCE_FROM` is missing or not an address.
    public static func fromEnvironment(_ environment: [String: String]) throws -> MailBounce? {
        guard let url = environment["INTAKE_SMTP_URL"], !url.isEmpty else { return nil }
        let from = environment["INTAKE_BOUNCE_FROM"] ?? ""
        guard IntakeContext.looksLikeEmail(from) else {
            throw ConfigurationError("INTAKE_BOUNCE_FROM must be the support address when INTAKE_SMTP_URL is set (got '\(from)')")
        }
        var bounce = MailBounce(smtpURL: url, from: from)
        bounce.user = environment["INTAKE_SMTP_USER"] ?? ""
        bounce.password = environment["INTAKE_SMTP_PASSWORD"] ?? ""
        return bounce
    }

    /// Whether `mail` may be answered (see the type's rules).
    public static func mayAnswer(_ mail: MailMessage) -> Bool {
        let auto = mail.autoSubmitted.lowercased()
        if !auto.isEmpty && auto != "no" { return false }
        if ["bulk", "junk", "list"].contains(mail.precedence.lowercased()) { return false }
        if mail.returnPath.replacingOccurrences(of: " ", with: "") == "<>" { return false }
        let local = mail.fromAddress.split(separator: "@").first.map { $0.lowercased() } ?? ""
        if local.isEmpty || ["mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply"].contains(local) { return false }
        return IntakeContext.looksLikeEmail(mail.fromAddress)
    }

    /// The answer to `mail`, as an RFC 5322 message.
    public func compose(answering mail: MailMessage, reason: String, date: Date = Date()) -> [UInt8] {
        let domain = from.split(separator: "@").last.map(String.init) ?? "intake.invalid"
        // One header line whatever the original subject held.
        let cleaned = String(mail.subject.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) }.prefix(120))
        let subject = cleaned.isEmpty ? "(sem assunto)" : cleaned
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let original = "<\(mail.messageID)>"
        let body = """
            Sua mensagem "\(subject)" não foi registrada como ocorrência.
            Motivo: \(reason)

            Se você é cliente, escreva do e-mail cadastrado na sua empresa ou abra a ocorrência
            pelo portal.

            Your message "\(subject)" was not registered as a ticket.
            Reason: \(reason)

            If you are a customer, write from the address registered for your company or open
            the ticket in the portal.
            """
        let lines = [
            "From: \(from)",
            "To: \(mail.fromAddress)",
            "Subject: \(Self.encodedWord("Não registrada / Not registered: \(subject)"))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@\(domain)>",
            "In-Reply-To: \(original)",
            "References: \(original)",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            body.replacingOccurrences(of: "\n", with: "\r\n"),
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// Sends the answer to `mail`'s sender.
    /// - Throws: ``ImapError`` (an SMTP failure, with curl's reason).
    public func send(answering mail: MailMessage, reason: String) throws {
        let message = compose(answering: mail, reason: reason)
        guard let curl = curl_easy_init() else { throw ImapError("curl_easy_init failed") }
        defer { curl_easy_cleanup(curl) }
        let source = Source(message)
        let recipients = curl_slist_append(nil, "<\(mail.fromAddress)>")
        defer { curl_slist_free_all(recipients) }
        _ = ccurl_setopt_string(curl, CURLOPT_URL, smtpURL)
        if !user.isEmpty {
            _ = ccurl_setopt_string(curl, CURLOPT_USERNAME, user)
            _ = ccurl_setopt_string(curl, CURLOPT_PASSWORD, password)
        }
        _ = ccurl_setopt_string(curl, CURLOPT_MAIL_FROM, "<\(from)>")
        _ = ccurl_setopt_slist(curl, CURLOPT_MAIL_RCPT, recipients)
        _ = ccurl_setopt_long(curl, CURLOPT_UPLOAD, 1)
        _ = ccurl_setopt_long(curl, CURLOPT_NOSIGNAL, 1)
        _ = ccurl_setopt_long(curl, CURLOPT_TIMEOUT_MS, timeoutMilliseconds)
        _ = ccurl_setopt_long(curl, CURLOPT_CONNECTTIMEOUT_MS, 5_000)
        _ = ccurl_setopt_pointer(curl, CURLOPT_READDATA, Unmanaged.passUnretained(source).toOpaque())
        _ = ccurl_setopt_read_function(curl, MailBounce.read)
        let code = curl_easy_perform(curl)
        withExtendedLifetime(source) {}
        guard code == CURLE_OK else {
            throw ImapError("SMTP: resposta ao remetente falhou / bounce failed: \(String(cString: curl_easy_strerror(code)))")
        }
    }

    /// RFC 2047 `=?UTF-8?B?…?=` when `text` is not plain ASCII.
    static func encodedWord(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 >= 0x80 }) else { return text }
        return "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    private final class Source {
        let bytes: [UInt8]
        var offset = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }
    }

    private static let read: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { buffer, size, count, user in
        guard let buffer, let user else { return 0 }
        let source = Unmanaged<Source>.fromOpaque(user).takeUnretainedValue()
        let length = min(size * count, source.bytes.count - source.offset)
        guard length > 0 else { return 0 }
        source.bytes.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + source.offset, byteCount: length)
        }
        source.offset += length
        return length
    }
}
