import Foundation
import Messages
import RPCTransport
import ServiceKit
import Storage

/// Turns an event into delivery rows, in the transaction that claims the event in the inbox: one
/// e-mail row per recipient (rendered now, so a resend is byte-identical) and one webhook row per
/// entitled subscriber. A recipient without a valid address, or whose address is suppressed
/// (``SuppressionStore``), becomes a `failed` row at once, so the log shows it.
struct DeliveryPlanner: Sendable {
    /// The rules of `NOTIFICATION_RULES_FILE` (or the defaults); events are planned with the
    /// snapshot's, which carry the administrators' edits over these.
    let fileRules: NotificationRules
    let settings: NotificationSettings
    let identity: MessageIdentity
    let publisher: EventPublisher
    /// Rules, templates, webhooks and subscriptions, checked with one statement per event.
    let cache: PlanningCache

    /// The lane of every e-mail (the SMTP relay's host), computed once.
    let emailLane: String
    /// The sender of every e-mail and its `From` header (encoded once: the name is not ASCII).
    let sender: MailAddress
    let senderHeader: String

    init(rules: NotificationRules, settings: NotificationSettings, identity: MessageIdentity, publisher: EventPublisher) {
        fileRules = rules
        cache = PlanningCache(fileRules: rules)
        self.settings = settings
        self.identity = identity
        self.publisher = publisher
        emailLane = "email|" + Self.host(of: settings.smtpURL)
        sender = MailAddress(name: settings.fromName, email: settings.fromAddress)
        senderHeader = sender.header
    }

    static func host(of url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host else { return url }
        return components.port.map { "\(host):\($0)" } ?? host
    }

    /// Plans every delivery of `facts`. - Returns: rows inserted (in an event consumer's
    /// transaction on PostgreSQL, with the rows kept for its end: ``insert(_:_:now:)``).
    @discardableResult
    func plan(_ facts: EventFacts, _ tx: any SQLExecutor, now: Date = Date()) throws -> Int {
        var inserted = 0
        let snapshot = try cache.snapshot(tx)
        let recipients = try RecipientResolver(rules: snapshot.rules).recipients(for: facts, tx) { keys, kind in
            try snapshot.isEnabled(tx, person: keys, kind: kind, ticket: facts.traits)
        }
        let token = recipients.isEmpty ? nil : identity.token(facts.ticketID)
        for recipient in recipients {
            let id = MessageIdentity.deliveryID(eventID: facts.eventID, recipient: recipient.key, channel: DeliveryChannel.email.rawValue,
                                                occurredAtMs: facts.occurredAtMs)
            let messageID = identity.messageID(deliveryID: id, token: token)
            if let failure = try recipient.failure ?? snapshot.suppression(tx, address: recipient.email) {
                let row = NewDelivery(id: id, eventID: facts.eventID, recipient: recipient.key, channel: .email, eventKind: facts.kind,
                                      ticketID: facts.ticketID, lane: emailLane, envelopeTo: recipient.email.isEmpty ? [] : [recipient.email],
                                      messageID: messageID, accessLevel: facts.accessLevel, state: .failed, lastAnswer: failure)
                if try DeliveryStore.insert(tx, row, now: now) {
                    inserted += 1
                    if let event = try DeliveryStore.emailSent(tx, id: id) {
                        try publisher.publish(tx, event: event, key: facts.ticketID, accessLevel: facts.accessLevel)
                    }
                }
                continue
            }
            guard let template = snapshot.template(kind: TemplateCatalog.kind(facts.kind, for: recipient.audience),
                                                   locale: facts.locale) else { continue }
            var variables = facts.variables(forLevel: recipient.level, readsInternal: recipient.readsInternal)
            variables["recipient_name"] = recipient.name
            variables["portal_url"] = settings.portalURL
            for (key, ms) in facts.instants where variables[key] != nil {
                variables[key] = EventInterpreter.localDate(ms, zone: settings.timeZone, locale: facts.locale)
            }
            let rendered = TemplateRenderer.render(template, variables: variables, code: facts.code)
            let mime = MIMEMessage(from: sender, fromHeader: senderHeader,
                                   to: [MailAddress(name: recipient.name, email: recipient.email)],
                                   replyTo: identity.replyTo(token: token),
                                   subject: rendered.subject, text: rendered.text, html: rendered.html,
                                   messageID: messageID, date: now,
                                   extraHeaders: Self.headers(kind: facts.kind, ticketID: facts.ticketID, code: facts.code))
            let row = NewDelivery(id: id, eventID: facts.eventID, recipient: recipient.key, channel: .email, eventKind: facts.kind,
                                  ticketID: facts.ticketID, lane: emailLane, envelopeTo: [recipient.email], messageID: messageID,
                                  subject: rendered.subject, payload: mime.render(), accessLevel: facts.accessLevel)
            if try insert(row, tx, now: now) { inserted += 1 }
        }
        inserted += try planWebhooks(facts, webhooks: snapshot.webhooks, tx, now: now)
        return inserted
    }

    static func headers(kind: String, ticketID: String, code: String) -> [(String, String)] {
        var headers: [(String, String)] = [("Auto-Submitted", "auto-generated"), ("X-Ocorrencias-Event", kind)]
        if !code.isEmpty { headers.append(("X-Ocorrencias-Ticket", code)) }
        return headers
    }

    /// One row per active webhook subscribed to the kind (and the ticket, when it filters) and
    /// entitled to its content.
    func planWebhooks(_ facts: EventFacts, webhooks: [WebhookRecord], _ tx: any SQLExecutor, now: Date) throws -> Int {
        var inserted = 0
        for webhook in webhooks where webhook.matches(kind: facts.kind, ticket: facts.traits) {
            // Confidentiality: content above the subscriber's level, or an internal entry it is
            // not entitled to, is not delivered at all.
            guard webhook.accessLevel >= facts.accessLevel, !facts.isInternal || webhook.internalEntries else { continue }
            let id = MessageIdentity.deliveryID(eventID: facts.eventID, recipient: "webhook:\(webhook.id)", channel: DeliveryChannel.webhook.rawValue,
                                                occurredAtMs: facts.occurredAtMs)
            let json = JSONWriter.object([
                "delivery_id": .string(id), "event_id": .string(facts.eventID), "event": .string(facts.kind),
                "occurred_at_ms": .integer(facts.occurredAtMs), "ticket_id": .string(facts.ticketID), "code": .string(facts.code),
                "access_level": .integer(Int64(facts.accessLevel)), "internal": .bool(facts.isInternal),
                "data": .object(facts.variables(forLevel: webhook.accessLevel, readsInternal: webhook.internalEntries)),
            ])
            let row = NewDelivery(id: id, eventID: facts.eventID, recipient: "webhook:\(webhook.id)", channel: .webhook, eventKind: facts.kind,
                                  ticketID: facts.ticketID, lane: WebhookURL.lane(webhook.url), target: webhook.url,
                                  messageID: id, subject: facts.kind, payload: Array(json), accessLevel: facts.accessLevel,
                                  webhookID: webhook.id)
            if try insert(row, tx, now: now) { inserted += 1 }
        }
        return inserted
    }

    /// Inserts a `queued` row, claimed at once when the event's transaction allows it
    /// (``InsertClaims``: its lane has room, the message is in memory and small enough to be
    /// kept with the claim). In an event consumer's transaction on PostgreSQL a row whose message
    /// is one piece is kept for the end of the transaction (``InsertClaims/keep(_:claim:now:)``),
    /// where the rows of all its events are inserted in one round trip; it counts as inserted
    /// here, and is not sent if it turns out it was not (a row of the same event, recipient and
    /// channel existed).
    func insert(_ row: NewDelivery, _ tx: any SQLExecutor, now: Date) throws -> Bool {
        guard row.state == .queued, let claims = (tx as? ClaimingExecutor)?.claims else {
            return try DeliveryStore.insert(tx, row, now: now)
        }
        let keptForTheEnd = tx.engine == .postgres && row.segments.isEmpty && !row.payload.isEmpty
            && row.payload.count <= PayloadChunks.chunkBytes
        guard row.segments.isEmpty, !row.payload.isEmpty, row.payload.count <= DeliveryClaims.claimLoadBytes,
              claims.wants(lane: row.lane) else {
            if keptForTheEnd {
                claims.keep(row, claim: nil, now: now)
                return true
            }
            let inserted = try DeliveryStore.insert(tx, row, now: now)
            if inserted { claims.leftQueued = true }
            return inserted
        }
        var claimed = row
        claimed.state = .sending
        claimed.attempts = 1
        claimed.claimedBy = claims.instance
        claimed.claimedUntil = claims.leaseEnd
        let delivery = ClaimedDelivery(
            id: row.id, channel: row.channel.rawValue, payload: row.payload, envelopeTo: row.envelopeTo, copies: row.copies,
            target: row.target, eventKind: row.eventKind, ticketID: row.ticketID, messageID: row.messageID, subject: row.subject,
            attempts: 1, webhookID: row.webhookID, leaseEnd: claims.leaseEnd)
        if keptForTheEnd {
            claims.keep(claimed, claim: delivery, now: now)
            return true
        }
        guard try DeliveryStore.insert(tx, claimed, now: now) else { return false }
        claims.add(lane: row.lane, delivery)
        return true
    }
}
