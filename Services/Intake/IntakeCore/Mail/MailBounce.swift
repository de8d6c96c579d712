import CCurl
import Foundation
import RPC
import ServiceKit

/// Answers a rejected e-mail taken from the IMAP mailbox: a short message to its sender, in
/// pt-BR and English, with the reason, sent through the configured SMTP server with libcurl.
/// (The MTA-pipe path needs none: the MTA bounces on the exit status.)
///
/// Never answered, so two automatic systems cannot loop (RFC 3834): automatic messages
/// (``MailMessage/automaticReason``: `Auto-Submitted` other than `no`, `Precedence: bulk/junk/list`,
/// `X-Autoreply`, a null sender, `mailer-daemon@`, a delivery report, ...) and senders like `no-reply@`.
///
/// Nor is our own address (`INTAKE_BOUNCE_FROM`, with or without a `+tag`) ever answered, and
/// one sender gets at most `INTAKE_BOUNCE_LIMIT_PER_HOUR` answers an hour.
///
/// Answers are durable: ``MailBounceQueue`` writes each one in the transaction that records the
/// rejection and sends it with retries (exponential backoff from `INTAKE_BOUNCE_RETRY_SECONDS`,
/// at most `INTAKE_BOUNCE_RETRY_MAX_SECONDS` apart, `INTAKE_BOUNCE_MAX_ATTEMPTS` attempts; an
/// SMTP 5xx answer is final).
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
    /// Attempts before a bounce is given up (recorded as failed).
    public var maxAttempts = 8
    /// Wait after the first failed attempt; doubled after each further one.
    public var retrySeconds = 60.0
    /// The longest wait between two attempts.
    public var retryMaxSeconds = 3600.0
    /// Answers one sender gets per hour at most (0: no limit).
    public var limitPerHour = 5

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
        func number(_ name: String, minimum: Double) throws -> Double? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Double(text), value.isFinite, value >= minimum else { throw ConfigurationError("\(name) inválido / invalid: '\(text)'") }
            return value
        }
        if let value = try number("INTAKE_BOUNCE_MAX_ATTEMPTS", minimum: 1) { bounce.maxAttempts = Int(value) }
        if let value = try number("INTAKE_BOUNCE_RETRY_SECONDS", minimum: 0.001) { bounce.retrySeconds = value }
        if let value = try number("INTAKE_BOUNCE_RETRY_MAX_SECONDS", minimum: 0.001) { bounce.retryMaxSeconds = value }
        if let value = try number("INTAKE_BOUNCE_LIMIT_PER_HOUR", minimum: 0) { bounce.limitPerHour = Int(value) }
        return bounce
    }

    /// Why `mail` must not be answered by this bounce (see the type's rules), or `nil`.
    public func refusal(_ mail: MailMessage) -> String? {
        guard Self.mayAnswer(mail) else { return "automatic message, null sender or daemon" }
        func base(_ address: String) -> String {
            let parts = address.lowercased().split(separator: "@", maxSplits: 1)
            guard parts.count == 2 else { return address.lowercased() }
            return "\(parts[0].split(separator: "+").first ?? parts[0])@\(parts[1])"
        }
        if base(mail.fromAddress) == base(from) { return "our own address" }
        return nil
    }

    /// The wait before attempt `attempts + 1`, after `attempts` failed ones.
    public func backoffSeconds(afterAttempts attempts: Int) -> Double {
        min(retryMaxSeconds, retrySeconds * pow(2, Double(max(0, attempts - 1))))
    }

    /// Whether `mail` may be answered (see the type's rules).
    public static func mayAnswer(_ mail: MailMessage) -> Bool {
        if mail.automaticReason != nil { return false }
        let local = mail.fromAddress.split(separator: "@").first.map { $0.lowercased() } ?? ""
        if local.isEmpty || ["no-reply", "noreply", "do-not-reply"].contains(local) { return false }
        return IntakeContext.looksLikeEmail(mail.fromAddress)
    }

    /// The answer to `mail`, as an RFC 5322 message.
    /// - Parameter senderRegistered: whether the sender's address is an active contact's: the
    ///   answer then does not tell them to write from the registered address (they did; a reply
    ///   to a cancelled ticket, say), only where to go instead.
    public func compose(answering mail: MailMessage, reason: String, senderRegistered: Bool = false,
                        date: Date = Date()) -> [UInt8] {
        let domain = from.split(separator: "@").last.map(String.init) ?? "intake.invalid"
        // One header line whatever the original subject held.
        let cleaned = String(mail.subject.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7f ? " " : Character($0) }.prefix(120))
        let subject = cleaned.isEmpty ? "(sem assunto)" : cleaned
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        let original = "<\(mail.messageID)>"
        // Reasons are "português / English": each language's paragraph gets its own half.
        let (reasonPT, reasonEN) = BilingualText.split(reason)
        let body = """
            Sua mensagem "\(subject)" não foi registrada como ocorrência.
            Motivo: \(reasonPT)

            \(Self.advice(senderRegistered: senderRegistered).pt)

            Your message "\(subject)" was not registered as a ticket.
            Reason: \(reasonEN)

            \(Self.advice(senderRegistered: senderRegistered).en)
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

    /// The answer's last paragraph: where to go instead. Only a sender whose address is no
    /// active contact's is told to write from the registered one.
    static func advice(senderRegistered: Bool) -> (pt: String, en: String) {
        senderRegistered
            ? ("Seu endereço está cadastrado; se precisar, abra uma nova ocorrência pelo portal.",
               "Your address is registered; if you need to, open a new ticket in the portal.")
            : ("Se você é cliente, escreva do e-mail cadastrado na sua empresa ou abra a ocorrência\npelo portal.",
               "If you are a customer, write from the address registered for your company or open\nthe ticket in the portal.")
    }

    /// Sends the answer to `mail`'s sender at once (no queue; ``MailBounceQueue`` is the durable way).
    /// - Throws: ``SMTPFailure`` with curl's reason.
    public func send(answering mail: MailMessage, reason: String) throws {
        try deliver(compose(answering: mail, reason: reason), to: mail.fromAddress)
    }

    /// Why an SMTP delivery failed; `permanent` for a 5xx answer (retrying cannot help).
    public struct SMTPFailure: Error, CustomStringConvertible {
        public var description: String
        public var responseCode: Int
        public var permanent: Bool { (500..<600).contains(responseCode) }
    }

    /// Sends `message` to `recipient` through the SMTP server.
    /// - Throws: ``SMTPFailure``.
    public func deliver(_ message: [UInt8], to recipient: String) throws {
        guard let curl = curl_easy_init() else { throw SMTPFailure(description: "curl_easy_init failed", responseCode: 0) }
        defer { curl_easy_cleanup(curl) }
        let source = Source(message)
        let recipients = curl_slist_append(nil, "<\(recipient)>")
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
            var response = 0
            _ = ccurl_getinfo_long(curl, CURLINFO_RESPONSE_CODE, &response)
            throw SMTPFailure(description: "SMTP \(response): \(String(cString: curl_easy_strerror(code)))", responseCode: response)
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
