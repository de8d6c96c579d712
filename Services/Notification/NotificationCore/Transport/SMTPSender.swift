import CCurl
import Foundation

/// Sends one rendered message over SMTP with libcurl: plain for a local relay, STARTTLS or
/// implicit TLS (`smtps://`) and AUTH when configured. Reuses the handle's connection.
package struct SMTPSender {
    var settings: NotificationSettings

    /// Names the relay options every message shares (``CurlEasy/prepare(_:profile:configure:each:)``):
    /// a handle that sent with them keeps them.
    let profile: String

    package init(settings: NotificationSettings) {
        self.settings = settings
        profile = ["smtp", settings.smtpURL, "\(settings.smtpStartTLS)", settings.smtpCAFile, "\(settings.smtpInsecureTLS)",
                   settings.smtpUser, settings.smtpPassword, "\(settings.connectTimeoutMilliseconds)",
                   "\(settings.sendTimeoutMilliseconds)"].joined(separator: "\n")
    }

    /// Sends on this thread (``prepare(_:from:recipients:message:size:more:)`` and run).
    package func send(_ curl: CurlEasy, from: String, recipients: [String], message: [UInt8], size: Int? = nil,
                      more: (() -> [UInt8]?)? = nil) -> SendOutcome {
        prepare(curl, from: from, recipients: recipients, message: message, size: size, more: more).run()
    }

    /// Sets up the send of one message on `curl`, to be run on this thread or in a ``CurlMulti``.
    /// - Parameters:
    ///   - message: the message, or its first piece when `more` gives the rest;
    ///   - size: the whole message's size when it comes in pieces;
    ///   - more: the next piece each time the previous one was uploaded; nil at the end.
    package func prepare(_ curl: CurlEasy, from: String, recipients: [String], message: [UInt8], size: Int? = nil,
                         more: (() -> [UInt8]?)? = nil) -> CurlTransfer {
        let exchange = CurlExchange()
        exchange.upload = message
        exchange.more = more
        // With several recipients the relay's answer to each RCPT TO is read from the replies.
        exchange.keepsReplies = recipients.count > 1
        let rcpt = CurlEasy.list(recipients.map { "<\($0)>" })
        curl.prepare(exchange, profile: profile, configure: { handle in
            _ = ccurl_setopt_string(handle, CURLOPT_URL, settings.smtpURL)
            _ = ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1)
            _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, settings.connectTimeoutMilliseconds)
            _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, settings.sendTimeoutMilliseconds)
            // A refused recipient does not stop the message to the others (``RecipientReplies``).
            _ = ccurl_setopt_allow_refused_recipients(handle, 1)
            if settings.smtpStartTLS { _ = ccurl_setopt_long(handle, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if !settings.smtpCAFile.isEmpty { _ = ccurl_setopt_string(handle, CURLOPT_CAINFO, settings.smtpCAFile) }
            if settings.smtpInsecureTLS {
                _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
                _ = ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
            }
            if !settings.smtpUser.isEmpty {
                _ = ccurl_setopt_string(handle, CURLOPT_USERNAME, settings.smtpUser)
                _ = ccurl_setopt_string(handle, CURLOPT_PASSWORD, settings.smtpPassword)
            }
        }, each: { handle in
            _ = ccurl_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(from)>")
            _ = ccurl_setopt_slist(handle, CURLOPT_MAIL_RCPT, rcpt)
            _ = ccurl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(size ?? message.count))
        })
        return CurlTransfer(curl: curl) { result in
            // The handle keeps its options for the next message, but not this list.
            _ = ccurl_setopt_slist(curl.handle, CURLOPT_MAIL_RCPT, nil)
            curl_slist_free_all(rcpt)
            // A refusal is the relay's reason, not the `221 Bye` that ended the session after it.
            let line = result.code != CURLE_OK && !exchange.lastRefusal.isEmpty ? exchange.lastRefusal : exchange.lastLine
            // On a new connection the first reply is the server's greeting.
            let greetingRefused = result.code != CURLE_OK && result.connects > 0 && exchange.refusalReply == 0
            let outcome = Self.outcome(result, lastLine: String(decoding: line, as: UTF8.self), greetingRefused: greetingRefused)
            guard exchange.keepsReplies, !greetingRefused,
                  let answers = RecipientReplies.answers(exchange.replyLines, recipients: recipients.count) else { return outcome }
            return RecipientReplies.outcome(outcome, recipients: recipients, answers: answers)
        }
    }

    /// What a transfer's end means for the message: accepted, worth retrying, or refused.
    /// - Parameter greetingRefused: the refusal was the server's greeting (RFC 5321 3.1: a `554`
    ///   there refuses the session, not this message: retried, like a `421`).
    static func outcome(_ result: CurlEasy.Result, lastLine answer: String, greetingRefused: Bool = false) -> SendOutcome {
        if result.code == CURLE_OK { return .accepted(answer.isEmpty ? "\(result.responseCode)" : answer) }
        if greetingRefused {
            return .transient("\(answer) (sessão recusada / session refused: \(result.message))")
        }
        let detail = answer.isEmpty ? result.message : "\(answer) (\(result.message))"
        // Refused credentials or TLS are the relay's configuration, not the message's fault: retry.
        if result.code == CURLE_LOGIN_DENIED || result.code == CURLE_USE_SSL_FAILED { return .transient(detail) }
        switch result.responseCode {
        // So are a relay's demands for them (RFC 4954: 530 authentication required — also
        // Postfix's "Must issue a STARTTLS command first" —, 534 mechanism too weak, 538
        // encryption required): a relay set up without credentials or TLS answered MAIL FROM
        // with 530 and every e-mail failed for good at its first attempt.
        case 530, 534, 538: return .transient(detail)
        case 400..<500: return .transient(detail)
        case 500..<600: return .permanent(detail)
        default: return .transient(detail)
        }
    }
}
