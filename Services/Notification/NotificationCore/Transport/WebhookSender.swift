import CCurl
import CSodium
import Foundation

/// Signs webhook bodies: `X-Ocorrencias-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`
/// with the subscriber's secret (libsodium), the timestamp in `X-Ocorrencias-Timestamp` (seconds).
/// During a secret rotation's overlap the header lists two, comma-separated (new secret first):
/// a receiver accepts the request when any of them matches its secret.
enum WebhookSignature {
    /// The header's value for `secrets` (the current one first).
    static func header(secrets: [String], timestamp: Int64, body: [UInt8]) -> String {
        secrets.map { sign(secret: $0, timestamp: timestamp, body: body) }.joined(separator: ",")
    }

    static func sign(secret: String, timestamp: Int64, body: [UInt8]) -> String {
        var state = crypto_auth_hmacsha256_state()
        let key = Array(secret.utf8)
        _ = crypto_auth_hmacsha256_init(&state, key, key.count)
        let prefix = Array("\(timestamp).".utf8)
        _ = crypto_auth_hmacsha256_update(&state, prefix, UInt64(prefix.count))
        _ = crypto_auth_hmacsha256_update(&state, body, UInt64(body.count))
        var mac = [UInt8](repeating: 0, count: 32)
        _ = crypto_auth_hmacsha256_final(&state, &mac)
        let digits = Array("0123456789abcdef".utf8)
        var hex = [UInt8]()
        hex.reserveCapacity(64)
        for byte in mac { hex.append(digits[Int(byte >> 4)]); hex.append(digits[Int(byte & 0x0f)]) }
        return "sha256=" + String(decoding: hex, as: UTF8.self)
    }
}

/// POSTs a signed JSON body to a subscriber.
package struct WebhookSender {
    var settings: NotificationSettings

    package init(settings: NotificationSettings) { self.settings = settings }

    /// The delivery's answer when every address of its webhook was in a blocked network.
    static func blockedReason(_ address: String) -> String {
        "não enviado: \(address) está numa rede bloqueada para webhooks (NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS)"
            + " / not sent: \(address) is in a network blocked for webhooks (NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS)"
    }

    /// Sends on this thread (``prepare(_:url:secrets:deliveryID:eventKind:body:now:)`` and run).
    package func send(_ curl: CurlEasy, url: String, secrets: [String], deliveryID: String, eventKind: String, body: [UInt8],
              now: Date = Date()) -> SendOutcome {
        prepare(curl, url: url, secrets: secrets, deliveryID: deliveryID, eventKind: eventKind, body: body, now: now).run()
    }

    /// Sets up one signed POST on `curl`, to be run on this thread or in a ``CurlMulti``.
    package func prepare(_ curl: CurlEasy, url: String, secrets: [String], deliveryID: String, eventKind: String, body: [UInt8],
                         now: Date = Date()) -> CurlTransfer {
        let timestamp = Int64(now.timeIntervalSince1970)
        let exchange = CurlExchange()
        exchange.upload = body
        let headers = CurlEasy.list([
            "Content-Type: application/json",
            "User-Agent: ocorrencias-notification/1",
            "X-Ocorrencias-Delivery: \(deliveryID)",
            "X-Ocorrencias-Event: \(eventKind)",
            "X-Ocorrencias-Timestamp: \(timestamp)",
            "X-Ocorrencias-Signature: \(WebhookSignature.header(secrets: secrets, timestamp: timestamp, body: body))",
            "Expect:",
        ])
        curl.prepare(exchange, configure: { handle in
            _ = ccurl_setopt_string(handle, CURLOPT_URL, url)
            _ = ccurl_setopt_long(handle, CURLOPT_POST, 1)
            _ = ccurl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            _ = ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            _ = ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(settings.connectTimeoutMilliseconds, settings.webhookTimeoutMilliseconds))
            _ = ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, settings.webhookTimeoutMilliseconds)
            _ = ccurl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
            // Redirects are answers (a 3xx fails the delivery), never followed: a receiver
            // cannot send the request on to an address it could not be registered with.
            _ = ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
            if !settings.webhookBlockedNetworks.networks.isEmpty {
                exchange.blocked = settings.webhookBlockedNetworks
                _ = ccurl_setopt_opensocket_function(handle) { CurlCallbacks.openSocket($0, $1, $2) }
                _ = ccurl_setopt_pointer(handle, CURLOPT_OPENSOCKETDATA, Unmanaged.passUnretained(exchange).toOpaque())
            }
        })
        return CurlTransfer(curl: curl) { result in
            curl_slist_free_all(headers)
            return Self.outcome(result, exchange: exchange)
        }
    }

    /// What a POST's end means for the delivery. The receiver's status line is its answer: once
    /// one arrived, a body cut at ``CurlExchange/responseLimit``, or one that stalled until the
    /// timeout or broke off, does not change it (a 2xx followed by an endless body was retried
    /// until dead, the receiver called again each time).
    static func outcome(_ result: CurlEasy.Result, exchange: CurlExchange) -> SendOutcome {
        let bodyText = String(decoding: exchange.response.prefix(200), as: UTF8.self)
        guard result.code == CURLE_OK || result.responseCode >= 200 else {
            // An address in a blocked network stays blocked: failed at once, not retried.
            if let address = exchange.refusedAddress, !exchange.allowedAddress {
                return .permanent(Self.blockedReason(address))
            }
            return .transient(result.message)
        }
        var answer = "HTTP \(result.responseCode)" + (bodyText.isEmpty ? "" : " \(bodyText)")
        if exchange.responseCut {
            answer += " (resposta cortada em \(CurlExchange.responseLimit) bytes / answer cut at \(CurlExchange.responseLimit) bytes)"
        } else if result.code != CURLE_OK {
            answer += " (\(result.message))"
        }
        switch result.responseCode {
        case 200..<300: return .accepted(answer)
        case 408, 425, 429, 500..<600: return .transient(answer)
        default: return .permanent(answer)
        }
    }
}
