import Foundation

/// The one check of a webhook's address, for `RegisterWebhook` and `UpdateWebhook` alike: at
/// most 2,048 characters, http(s) with a host, and not a literal address in
/// `NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS` (nor `localhost` while loopback is blocked). Names are
/// not resolved here (they may not resolve yet, and may change); every connection is checked
/// again when sent (``WebhookSender``, `CURLOPT_OPENSOCKETFUNCTION`).
enum WebhookURL {
    /// `url`, checked. - Throws: `INVALID_ARGUMENT` on `field` (reason `too_long`, `invalid`
    /// or `blocked_network`), pt-BR then English.
    static func checked(_ url: String, blocked: BlockedNetworks, field: String = "url") throws -> String {
        // An address of 150,000 characters was registered and called.
        guard url.utf8.count <= 2_048 else {
            throw Access.invalid(field, "No máximo 2048 caracteres.", "At most 2048 characters.", reason: "too_long")
        }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
              let host = components.host, !host.isEmpty else {
            throw Access.invalid(field, "Informe um endereço http(s) válido.", "A valid http(s) URL is required.")
        }
        guard !blocked.refuses(host: host) else {
            throw Access.invalid(field, "Endereço interno bloqueado para webhooks (loopback, link-local; NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS).",
                                 "Internal address blocked for webhooks (loopback, link-local; NOTIFICATION_WEBHOOK_BLOCKED_NETWORKS).",
                                 reason: "blocked_network")
        }
        return url
    }

    /// The send lane of a webhook delivery to `url`: one per host and port, so a slow receiver
    /// holds up only its own deliveries.
    static func lane(_ url: String) -> String {
        "webhook|" + DeliveryPlanner.host(of: url)
    }
}
