import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// The `Notification` RPC service (Proto/ocorrencias/notification/v1/notification.proto).
struct NotificationAPI: Sendable {
    let runtime: ServiceRuntime
    let planner: DeliveryPlanner
    let dispatcher: DeliveryDispatcher
    let secrets: SecretBox
    /// Asks workflow whether a caller may see the ticket a call is about (``TicketAccessCheck``):
    /// `SendTicketEmail` and `ListDeliveries` by ticket answer `NOT_FOUND` when it is hidden.
    let tickets: TicketAccessCheck

    var database: any Database { runtime.database }
    /// Runs a change once per idempotency key of the verified caller (``Idempotent``); answers
    /// holding a secret are stored sealed (`sealed`).
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ context: ServerContext, _ request: Request, sealed: Bool = false,
                                                               _ body: (any SQLExecutor) throws -> Response) throws -> Response {
        try Idempotent.write(database, context, caller: try runtime.principals.require(context).id, request,
                             sealing: sealed ? runtime.responseSeal : nil, body)
    }

    func register(in router: inout RPCRouter) {
        let api = self
        router.register(NotificationV1.Notification.setSubscription) { try api.setSubscription($0, $1) }
        router.register(NotificationV1.Notification.listSubscriptions) { try api.listSubscriptions($0, $1) }
        router.register(NotificationV1.Notification.removeSubscription) { try api.removeSubscription($0, $1) }
        router.register(NotificationV1.Notification.listRules) { try api.listRules($0, $1) }
        router.register(NotificationV1.Notification.putAudienceRule) { try api.putAudienceRule($0, $1) }
        router.register(NotificationV1.Notification.resetAudienceRule) { try api.resetAudienceRule($0, $1) }
        router.register(NotificationV1.Notification.addRuleEntry) { try api.addRuleEntry($0, $1) }
        router.register(NotificationV1.Notification.updateRuleEntry) { try api.updateRuleEntry($0, $1) }
        router.register(NotificationV1.Notification.removeRuleEntry) { try api.removeRuleEntry($0, $1) }
        router.register(NotificationV1.Notification.putGroupMailbox) { try api.putGroupMailbox($0, $1) }
        router.register(NotificationV1.Notification.removeGroupMailbox) { try api.removeGroupMailbox($0, $1) }
        router.register(NotificationV1.Notification.registerWebhook) { try api.registerWebhook($0, $1) }
        router.register(NotificationV1.Notification.updateWebhook) { try api.updateWebhook($0, $1) }
        router.register(NotificationV1.Notification.listWebhooks) { try api.listWebhooks($0, $1) }
        router.register(NotificationV1.Notification.removeWebhook) { try api.removeWebhook($0, $1) }
        router.register(NotificationV1.Notification.rotateWebhookSecret) { try api.rotateWebhookSecret($0, $1) }
        router.register(NotificationV1.Notification.resealSecrets) { try api.resealSecrets($0, $1) }
        router.register(NotificationV1.Notification.getTemplate) { try api.getTemplate($0, $1) }
        router.register(NotificationV1.Notification.setTemplate) { try api.setTemplate($0, $1) }
        router.register(NotificationV1.Notification.sendTicketEmail) { try api.sendTicketEmail($0, $1) }
        router.register(NotificationV1.Notification.sendAccountEmail) { try api.sendAccountEmail($0, $1) }
        router.register(NotificationV1.Notification.listDeliveries) { try api.listDeliveries($0, $1) }
        router.register(NotificationV1.Notification.retryDeadLetters) { try api.retryDeadLetters($0, $1) }
        router.register(NotificationV1.Notification.listDeadLetters) { try api.listDeadLetters($0, $1) }
        router.register(NotificationV1.Notification.discardDeadLetters) { try api.discardDeadLetters($0, $1) }
        router.register(NotificationV1.Notification.reportBounce) { try api.reportBounce($0, $1) }
        router.register(NotificationV1.Notification.replayDelivery) { try api.replayDelivery($0, $1) }
        router.register(NotificationV1.Notification.getStats) { try api.getStats($0, $1) }
        router.register(NotificationV1.Notification.listSuppressions) { try api.listSuppressions($0, $1) }
        router.register(NotificationV1.Notification.addSuppression) { try api.addSuppression($0, $1) }
        router.register(NotificationV1.Notification.removeSuppression) { try api.removeSuppression($0, $1) }
    }

    // MARK: subscriptions

    func setSubscription(_ request: NotificationV1.SetSubscriptionRequest, _ context: ServerContext) throws -> NotificationV1.SetSubscriptionResponse {
        let caller = try runtime.principals.require(context)
        guard var subscription = request.subscription else { throw Access.required("subscription", "Informe a assinatura.", "Subscription is required.") }
        if subscription.person.isEmpty { subscription.person = caller.email.isEmpty ? caller.id : caller.email }
        try Self.requireOwnOrAdministrator(caller, person: subscription.person)
        // A misspelt kind would be stored and never apply: the person would still be mailed.
        _ = try Self.knownKind(subscription.eventKind, field: "subscription.event_kind", wildcard: true)
        let criteria = try TicketCriteria(checking: subscription.filter, field: "subscription.filter")
        let stored = NotificationV1Subscription(person: subscription.person, kind: subscription.eventKind,
                                                setting: SubscriptionSwitch(enabled: subscription.enabled, criteria: criteria))
        return try write(context, request) { tx in
            try SubscriptionStore().set(tx, person: stored.person, kind: stored.kind, enabled: stored.enabled, criteria: criteria)
            var response = NotificationV1.SetSubscriptionResponse()
            response.subscription = stored.message
            return response
        }
    }

    /// Anyone may change their own switches (by id or e-mail); administrators anyone's.
    static func requireOwnOrAdministrator(_ caller: AuthV1.Principal, person: String) throws {
        let own = [caller.id, EmailAddress.normalized(caller.email)].filter { !$0.isEmpty }
        if !own.contains(person.contains("@") ? EmailAddress.normalized(person) : person) {
            try Access.requireAdministrator(caller)
        }
    }

    func removeSubscription(_ request: NotificationV1.RemoveSubscriptionRequest,
                            _ context: ServerContext) throws -> NotificationV1.RemoveSubscriptionResponse {
        let caller = try runtime.principals.require(context)
        guard !request.person.isEmpty else { throw Access.required("person", "Informe a pessoa.", "Person is required.") }
        guard !request.eventKind.isEmpty else { throw Access.required("event_kind", "Informe o tipo de evento.", "Event kind is required.") }
        try Self.requireOwnOrAdministrator(caller, person: request.person)
        guard let removed = try database.write({ try SubscriptionStore().remove($0, person: request.person, kind: request.eventKind) }) else {
            throw RPCError(.notFound, "registro não encontrado / subscription not found")
        }
        var response = NotificationV1.RemoveSubscriptionResponse()
        response.subscription = removed.message
        return response
    }

    func listSubscriptions(_ request: NotificationV1.ListSubscriptionsRequest, _ context: ServerContext) throws -> NotificationV1.ListSubscriptionsResponse {
        let caller = try runtime.principals.require(context)
        let persons: [String]
        if request.person.isEmpty {
            persons = [caller.id, caller.email]
        } else {
            if request.person != caller.id && EmailAddress.normalized(request.person) != EmailAddress.normalized(caller.email) {
                try Access.requireAdministrator(caller)
            }
            persons = [request.person]
        }
        var response = NotificationV1.ListSubscriptionsResponse()
        response.subscriptions = try database.read { tx in
            try SubscriptionStore().list(tx, persons: persons).map(\.message)
        }
        return response
    }

    // MARK: webhooks

    func registerWebhook(_ request: NotificationV1.RegisterWebhookRequest, _ context: ServerContext) throws -> NotificationV1.RegisterWebhookResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        _ = try WebhookURL.checked(request.url, blocked: planner.settings.webhookBlockedNetworks)
        guard request.secret.isEmpty || request.secret.utf8.count >= 16 else {
            throw Access.invalid("secret", "O segredo precisa de ao menos 16 caracteres.", "The secret needs at least 16 characters.")
        }
        let kinds = try Self.webhookKinds(request.eventKinds)
        let criteria = try TicketCriteria(checking: request.filter)
        // No secret given: one is generated and returned once (as RotateWebhookSecret does).
        let secret = request.secret.isEmpty ? SecretBox.randomSecret() : request.secret
        let record = WebhookRecord(id: UUID().uuidString.lowercased(), url: request.url, sealedSecret: secrets.seal(secret), eventKinds: kinds,
                                   accessLevel: max(0, request.accessLevel), internalEntries: request.internalEntries, active: true,
                                   createdAtMs: Int64(Date().timeIntervalSince1970 * 1000), criteria: criteria)
        // A generated secret is in the answer: a retry gets it back from a sealed copy.
        return try write(context, request, sealed: true) { tx in
            try WebhookStore.insert(tx, record)
            var response = NotificationV1.RegisterWebhookResponse()
            response.webhook = record.message
            if request.secret.isEmpty { response.secret = secret }
            return response
        }
    }

    /// A webhook's event kinds as given: at least one, each known (or `*`), trimmed.
    static func webhookKinds(_ given: [String]) throws -> [String] {
        let kinds = given.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !kinds.isEmpty, kinds.allSatisfy({ !$0.contains(",") }) else {
            throw Access.required("event_kinds", "Informe os tipos de evento.", "Event kinds are required.")
        }
        // A misspelt kind would be stored and never match an event: the receiver would wait for nothing.
        for (index, kind) in given.enumerated() where !kind.trimmingCharacters(in: .whitespaces).isEmpty {
            _ = try knownKind(kind.trimmingCharacters(in: .whitespaces), field: "event_kinds[\(index)]", wildcard: true)
        }
        return kinds
    }

    /// Changes what an active webhook receives (kinds, filter, level, internal entries) and,
    /// when given, its URL, checked as registration checks them; the secret stays. Its
    /// deliveries not yet delivered (queued, retrying, dead) go to the new URL; those delivered
    /// keep the one they went to (a claim taken before the edit is put back, not sent to the old
    /// one: ``DeliveryDispatcher``).
    func updateWebhook(_ request: NotificationV1.UpdateWebhookRequest, _ context: ServerContext) throws -> NotificationV1.UpdateWebhookResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        guard !request.id.isEmpty else { throw Access.required("id", "Informe o webhook.", "Webhook is required.") }
        let url: String? = try request.url.isEmpty ? nil : WebhookURL.checked(request.url, blocked: planner.settings.webhookBlockedNetworks)
        let kinds = try Self.webhookKinds(request.eventKinds)
        let criteria = try TicketCriteria(checking: request.filter)
        let response = try write(context, request) { tx in
            guard try WebhookStore.update(tx, id: request.id, eventKinds: kinds, accessLevel: max(0, request.accessLevel),
                                          internalEntries: request.internalEntries, criteria: criteria, url: url),
                  let webhook = try WebhookStore.find(tx, id: request.id) else {
                throw RPCError(.notFound, "webhook não encontrado / webhook not found")
            }
            var response = NotificationV1.UpdateWebhookResponse()
            response.webhook = webhook.message
            return response
        }
        dispatcher.forgetWebhooks()
        return response
    }

    func listWebhooks(_ request: NotificationV1.ListWebhooksRequest, _ context: ServerContext) throws -> NotificationV1.ListWebhooksResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        var response = NotificationV1.ListWebhooksResponse()
        response.webhooks = try database.read { try WebhookStore.active($0).map(\.message) }
        return response
    }

    func removeWebhook(_ request: NotificationV1.RemoveWebhookRequest, _ context: ServerContext) throws -> NotificationV1.RemoveWebhookResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        guard try database.write({ try WebhookStore.deactivate($0, id: request.id) }) else {
            throw RPCError(.notFound, "webhook não encontrado / webhook not found")
        }
        dispatcher.forgetWebhooks()
        return NotificationV1.RemoveWebhookResponse()
    }

    /// How long a rotated-out webhook secret keeps signing by default (24 h), and at most (7 days).
    static let defaultSecretOverlapSeconds: Int64 = 86_400
    static let maxSecretOverlapSeconds: Int64 = 604_800

    /// Gives a webhook a new signing secret (given, or generated and shown once). Unless
    /// `immediately`, deliveries keep a second signature with the previous secret for the
    /// overlap, so the receiver switches without refusing one.
    func rotateWebhookSecret(_ request: NotificationV1.RotateWebhookSecretRequest,
                             _ context: ServerContext) throws -> NotificationV1.RotateWebhookSecretResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        guard !request.id.isEmpty else { throw Access.required("id", "Informe o webhook.", "Webhook is required.") }
        guard request.secret.isEmpty || request.secret.utf8.count >= 16 else {
            throw Access.invalid("secret", "O segredo precisa de ao menos 16 caracteres.", "The secret needs at least 16 characters.")
        }
        guard request.overlapSeconds >= 0 && request.overlapSeconds <= Self.maxSecretOverlapSeconds else {
            throw Access.invalid("overlap_seconds", "De 0 (24 horas) a 604800 segundos (7 dias).", "From 0 (24 hours) to 604800 seconds (7 days).")
        }
        let secret = request.secret.isEmpty ? SecretBox.randomSecret() : request.secret
        let sealed = secrets.seal(secret)
        let overlap = request.overlapSeconds > 0 ? request.overlapSeconds : Self.defaultSecretOverlapSeconds
        let previousUntil = request.immediately ? 0 : Int64(Date().timeIntervalSince1970 * 1000) + overlap * 1000
        // The new secret is in the answer: a retry gets it back from a sealed copy (no second rotation).
        let response = try write(context, request, sealed: true) { tx in
            guard try WebhookStore.setSecret(tx, id: request.id, sealed: sealed, previousUntil: previousUntil),
                  let webhook = try WebhookStore.find(tx, id: request.id) else {
                throw RPCError(.notFound, "webhook não encontrado / webhook not found")
            }
            var response = NotificationV1.RotateWebhookSecretResponse()
            response.webhook = webhook.message
            response.secret = secret
            return response
        }
        dispatcher.forgetWebhooks()
        return response
    }

    /// Seals every webhook secret under the current key (after the key was rotated).
    func resealSecrets(_ request: NotificationV1.ResealSecretsRequest,
                       _ context: ServerContext) throws -> NotificationV1.ResealSecretsResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        let result = try database.write { tx in try WebhookStore.resealAll(tx, box: secrets) }
        dispatcher.forgetWebhooks()
        if !result.unreadable.isEmpty {
            runtime.logger.error("webhook secrets left sealed under an unknown key",
                                 ["notification.webhooks": result.unreadable.joined(separator: ",")])
        }
        var response = NotificationV1.ResealSecretsResponse()
        response.keyID = secrets.currentKeyID
        response.resealed = Int32(result.resealed)
        response.alreadyCurrent = Int32(result.current)
        response.unreadableWebhookIDs = result.unreadable
        return response
    }

    // MARK: templates

    func getTemplate(_ request: NotificationV1.GetTemplateRequest, _ context: ServerContext) throws -> NotificationV1.GetTemplateResponse {
        try Access.requireAgent(try runtime.principals.require(context))
        let locale = TemplateCatalog.locale(request.locale)
        guard let (entry, customized) = try database.read({ try TemplateStore().template($0, kind: request.eventKind, locale: locale) }) else {
            throw RPCError(.notFound, "modelo não encontrado / template not found")
        }
        var response = NotificationV1.GetTemplateResponse()
        response.messageTemplate = Self.message(kind: request.eventKind, locale: locale, entry, customized: customized)
        return response
    }

    func setTemplate(_ request: NotificationV1.SetTemplateRequest, _ context: ServerContext) throws -> NotificationV1.SetTemplateResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        guard let template = request.messageTemplate else { throw Access.required("template", "Informe o modelo.", "Template is required.") }
        guard TemplateCatalog.kinds.contains(template.eventKind) else {
            throw Access.invalid("message_template.event_kind", "Tipo de evento desconhecido.", "Unknown event kind.")
        }
        guard template.locale.isEmpty || TemplateCatalog.locales.contains(template.locale) else {
            throw Access.invalid("message_template.locale", "Idioma não suportado (pt-BR, en).", "Unsupported locale (pt-BR, en).")
        }
        guard !template.subject.isEmpty else { throw Access.required("message_template.subject", "Informe o assunto.", "Subject is required.") }
        guard !template.text.isEmpty else { throw Access.required("message_template.text", "Informe o texto.", "Text is required.") }
        // A subject is one header line (150,000 characters were stored); a body, an e-mail's text.
        for (field, part, limit) in [("message_template.subject", template.subject, 998), ("message_template.text", template.text, 100_000),
                                     ("message_template.html", template.html, 200_000)] {
            if let long = FieldViolation.length(of: part, field, limit: limit) {
                throw RPCError(.invalidArgument, "\(long.descriptionPT) / \(long.descriptionEN)", violations: [long])
            }
        }
        // A template that would not render (a name the kind never fills, a `{{` left open) is
        // refused before anything is stored.
        for (field, part) in [("message_template.subject", template.subject), ("message_template.text", template.text), ("message_template.html", template.html)] {
            if let problem = TemplatePlaceholders.problem(in: part, kind: template.eventKind) {
                throw Access.invalid(field, problem.pt, problem.en)
            }
        }
        let entry = TemplateCatalog.Entry(subject: template.subject, text: template.text, html: template.html)
        return try write(context, request) { tx in
            try TemplateStore().set(tx, kind: template.eventKind, locale: template.locale, entry: entry)
            var response = NotificationV1.SetTemplateResponse()
            response.messageTemplate = Self.message(kind: template.eventKind, locale: TemplateCatalog.locale(template.locale), entry, customized: true)
            return response
        }
    }

    static func message(kind: String, locale: String, _ entry: TemplateCatalog.Entry, customized: Bool) -> NotificationV1.Template {
        var template = NotificationV1.Template()
        template.eventKind = kind
        template.locale = locale
        template.subject = entry.subject
        template.text = entry.text
        template.html = entry.html
        template.customized = customized
        template.placeholders = TemplatePlaceholders.names(of: kind)
        return template
    }

    // MARK: e-mail on demand

    func sendTicketEmail(_ request: NotificationV1.SendTicketEmailRequest, _ context: ServerContext) throws -> NotificationV1.SendTicketEmailResponse {
        let caller = try runtime.principals.require(context)
        // A ticket hidden from the caller is NOT_FOUND before anything else (as the gateway's
        // route answers); workflow's current level of it counts below (it may have been raised
        // since the last event notification saw).
        let holder = try tickets.require(request.ticketID, caller: caller, context: context)
        let current = holder?.accessLevel ?? 0
        try Access.requireAgent(caller)
        guard !request.ticketID.isEmpty else { throw Access.required("ticket_id", "Informe a ocorrência.", "Ticket is required.") }
        // Writing to anyone about the ticket is acting on it: workflow's rule (`caller_may_act`:
        // the holder, the holding group's members while nobody holds it, the holder's chefe;
        // services and administrators are not asked). Before 2026-12 any agent who could see
        // the ticket could e-mail any address about it. A former holder (who held it and lost it)
        // is answered as workflow answers their own changes: FAILED_PRECONDITION,
        // `no_longer_holder`, saying how and when, and who holds it now (HTTP 422).
        if let holder, let refusal = TicketAccessCheck.refusalToAct(holder, otherwise: Self.mayNotSend) { throw refusal }
        guard !request.to.isEmpty else { throw Access.required("to", "Informe os destinatários.", "Recipients are required.") }
        for (field, list) in [("to", request.to), ("copies", request.copies)] {
            if let bad = list.first(where: { !EmailAddress.isValid($0) }) {
                throw Access.invalid(field, "Endereço inválido: \(bad)", "Invalid address: \(bad)")
            }
        }
        guard !request.body.isEmpty else { throw Access.required("body", "Informe o texto.", "Body is required.") }
        try database.read { tx in
            for (field, list) in [("to", request.to), ("copies", request.copies)] {
                for address in list {
                    if let suppression = try SuppressionStore.find(tx, address: address) { throw Access.suppressed(field, suppression) }
                }
            }
        }
        let inlineBytes = request.attachments.reduce(0) { $0 + $1.content.count }
        guard inlineBytes <= planner.settings.attachmentMaxBytes else {
            throw IntakeAttachments.tooLarge("attachments", budget: planner.settings.attachmentMaxBytes)
        }
        let spool = AttachmentSpool(dataDirectory: runtime.configuration.dataDirectory)
        // Attachments in the request are base64-encoded into spool files, a slice at a time,
        // before the transaction (so the message is never rendered whole next to the request).
        var files: [SpooledAttachment] = []
        defer { AttachmentSpool.remove(files) }
        for attachment in request.attachments {
            files.append(try spool.spool(fileName: attachment.fileName, contentType: attachment.contentType, content: attachment.content))
        }
        // Referenced files come from intake, read with the caller's identity, before the transaction.
        // Each is base64-encoded into a spool file as it arrives.
        if !request.attachmentRefs.isEmpty {
            // As the caller, within what is left of the caller's deadline, with its request and trace ids.
            let metadata = context.outgoingMetadata.merging(runtime.principals.metadata(for: caller)) { $1 }
            files += try IntakeAttachments(client: runtime.client(for: "intake"), metadata: metadata, spool: spool, deadline: context.deadline)
                .fetch(request.attachmentRefs, budget: planner.settings.attachmentMaxBytes - inlineBytes)
        }
        // The stored message is written to the database in pieces from those files (never whole
        // in memory) and streamed from there while sent.
        let spooled = files
        let eventID = "manual:" + (context.idempotencyKey.map { "\(caller.id):\($0)" } ?? UUID().uuidString.lowercased())
        // The e-mail's level (the request's, the ticket's as last seen and as workflow has it now):
        // above the caller's, refused; checked again before a retry is answered from the stored
        // answer (the caller's level may have been lowered since).
        let allowed: (any SQLExecutor) throws -> (WorkflowV1.TicketSummary?, Int32) = { tx in
            let summary = try TicketCache.load(tx, ticketID: request.ticketID)
            let level = max(request.accessLevel, summary?.accessLevel ?? 0, current)
            guard Access.level(caller) >= level else {
                throw RPCError(.permissionDenied, "nível de acesso insuficiente / access level too low")
            }
            return (summary, level)
        }
        let response = try Idempotent.write(database, context, caller: caller.id, request,
                                            replayCheck: { tx in _ = try allowed(tx) }) { tx -> NotificationV1.SendTicketEmailResponse in
            let (summary, level) = try allowed(tx)
            let code = request.ticketCode.isEmpty ? (summary?.code ?? "") : request.ticketCode
            let locale = request.locale.isEmpty ? (summary?.locale ?? "") : request.locale
            guard let (template, _) = try TemplateStore().template(tx, kind: "TicketEmail", locale: locale) else {
                throw RPCError(.internal, "modelo ausente / template missing")
            }
            let rendered = TemplateRenderer.render(template, variables: [
                "code": code, "subject": request.subject.isEmpty ? (summary?.subject ?? "") : request.subject, "text": request.body,
                "sender_name": caller.displayName,
            ], code: code)
            let recipient = EmailAddress.normalized(request.to[0])
            let id = MessageIdentity.deliveryID(eventID: eventID, recipient: recipient, channel: DeliveryChannel.email.rawValue)
            let messageID = planner.identity.messageID(deliveryID: id, ticketID: request.ticketID)
            let mime = MIMEMessage(from: MailAddress(name: planner.settings.fromName, email: planner.settings.fromAddress),
                                   to: request.to.map { MailAddress(name: "", email: $0) },
                                   cc: request.copies.map { MailAddress(name: "", email: $0) },
                                   replyTo: planner.identity.replyTo(ticketID: request.ticketID),
                                   subject: rendered.subject, text: rendered.text, html: rendered.html,
                                   spooled: spooled,
                                   messageID: messageID, date: Date(),
                                   extraHeaders: DeliveryPlanner.headers(kind: "TicketEmail", ticketID: request.ticketID, code: code))
            try DeliveryStore.insert(tx, NewDelivery(
                id: id, eventID: eventID, recipient: recipient, channel: .email, eventKind: "TicketEmail", ticketID: request.ticketID,
                lane: planner.emailLane, envelopeTo: request.to + request.copies, copies: request.copies, messageID: messageID,
                subject: rendered.subject, payload: spooled.isEmpty ? mime.render() : [],
                segments: spooled.isEmpty ? [] : mime.segments(), accessLevel: level))
            var response = NotificationV1.SendTicketEmailResponse()
            response.delivery = try DeliveryStore.find(tx, id: id)
            return response
        }
        dispatcher.wake()
        return response
    }

    /// A caller who may see the ticket but not act on it, and never held it.
    static let mayNotSend = RPCError(.permissionDenied, """
        apenas quem atende a ocorrência (ou seu chefe) envia e-mails sobre ela / \
        only who works the ticket (or their chefe) sends e-mails about it
        """, violations: [FieldViolation(field: "ticket_id", reason: "may_not_act",
                                         pt: "A ocorrência está com outro responsável.", en: "The ticket is held by someone else.")])

    func sendAccountEmail(_ request: NotificationV1.SendAccountEmailRequest, _ context: ServerContext) throws -> NotificationV1.SendAccountEmailResponse {
        let caller = try runtime.principals.require(context)
        try Access.requireAdministrator(caller)
        let kind: String
        switch request.kind {
        case "invitation": kind = "Invitation"
        case "staff_invitation": kind = "StaffInvitation"
        case "representative_invitation": kind = "RepresentativeInvitation"
        case "password_reset": kind = "PasswordReset"
        case "invitation_notice": kind = "InvitationNotice"
        default: throw Access.invalid("kind", "Tipo deve ser invitation, staff_invitation, representative_invitation, password_reset ou invitation_notice.",
                                      "Kind must be invitation, staff_invitation, representative_invitation, password_reset or invitation_notice.")
        }
        guard EmailAddress.isValid(request.to) else { throw Access.invalid("to", "Endereço inválido.", "Invalid address.") }
        guard let link = URLComponents(string: request.link), ["http", "https"].contains(link.scheme ?? ""), link.host != nil else {
            throw Access.invalid("link", "Informe o link de uso único.", "The one-time link is required.")
        }
        let eventID = "account:" + (context.idempotencyKey.map { "\(caller.id):\($0)" } ?? UUID().uuidString.lowercased())
        let response = try Idempotent.write(database, context, caller: caller.id, request) { tx -> NotificationV1.SendAccountEmailResponse in
            guard let (template, _) = try TemplateStore().template(tx, kind: kind, locale: request.locale) else {
                throw RPCError(.internal, "modelo ausente / template missing")
            }
            let rendered = TemplateRenderer.render(template, variables: [
                "name": request.name, "organization_name": request.organizationName, "team_name": planner.settings.fromName, "link": request.link,
                "expires_at": EventInterpreter.localDate(request.expiresAtMs, zone: planner.settings.timeZone, locale: request.locale),
            ], code: "")
            let recipient = EmailAddress.normalized(request.to)
            let id = MessageIdentity.deliveryID(eventID: eventID, recipient: recipient, channel: DeliveryChannel.email.rawValue)
            let messageID = planner.identity.messageID(deliveryID: id, ticketID: "")
            let mime = MIMEMessage(from: MailAddress(name: planner.settings.fromName, email: planner.settings.fromAddress),
                                   to: [MailAddress(name: request.name, email: request.to)],
                                   replyTo: planner.identity.replyTo(token: nil),
                                   subject: rendered.subject, text: rendered.text, html: rendered.html,
                                   messageID: messageID, date: Date(),
                                   extraHeaders: [("Auto-Submitted", "auto-generated"), ("X-Ocorrencias-Event", kind)])
            // A suppressed address gets a failed row instead of the e-mail, stored without its
            // one-time link (``AccountMailRedaction``; the person asks the gateway for a new one
            // once the suppression is lifted). A notice, which has no link, is kept whole.
            let suppression = try SuppressionStore.explanation(tx, address: recipient)
            let message = mime.render()
            let stored = suppression != nil && AccountMailRedaction.kinds.contains(kind) ? AccountMailRedaction.redacted(message) : message
            try DeliveryStore.insert(tx, NewDelivery(
                id: id, eventID: eventID, recipient: recipient, channel: .email, eventKind: kind, ticketID: "",
                lane: planner.emailLane, envelopeTo: [request.to], messageID: messageID, subject: rendered.subject, payload: stored,
                state: suppression == nil ? .queued : .failed, lastAnswer: suppression ?? ""))
            var response = NotificationV1.SendAccountEmailResponse()
            response.delivery = try DeliveryStore.find(tx, id: id)
            return response
        }
        dispatcher.wake()
        return response
    }

    // MARK: delivery log

    func listDeliveries(_ request: NotificationV1.ListDeliveriesRequest, _ context: ServerContext) throws -> NotificationV1.ListDeliveriesResponse {
        let caller = try runtime.principals.require(context)
        try tickets.require(request.ticketID, caller: caller, context: context)
        try Access.requireAgent(caller)
        guard !request.ticketID.isEmpty || !request.recipient.isEmpty || Access.isAdministrator(caller) else {
            throw Access.required("ticket_id", "Informe a ocorrência ou o destinatário.", "Ticket or recipient is required.")
        }
        // Below the caller's level both when planned and now (a ticket raised since).
        var conditions = ["access_level <= ?"]
        var params: [SQLValue] = [.integer(Int64(Access.level(caller)))]
        if !Access.isAdministrator(caller) {
            conditions.append(TicketCache.currentLevelFilter)
            params.append(.integer(Int64(Access.level(caller))))
        }
        if !request.ticketID.isEmpty { conditions.append("ticket_id = ?"); params.append(.text(request.ticketID)) }
        if !request.recipient.isEmpty {
            conditions.append("recipient = ?")
            params.append(.text(request.recipient.contains("@") ? EmailAddress.normalized(request.recipient) : request.recipient))
        }
        if !request.state.isEmpty { conditions.append("state = ?"); params.append(.text(request.state)) }
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 200, maximum: 1_000)
        params.append(.integer(Int64(limit)))
        var response = NotificationV1.ListDeliveriesResponse()
        response.deliveries = try database.read { tx in
            try tx.query("""
                SELECT \(DeliveryStore.columns) FROM notification_deliveries WHERE \(conditions.joined(separator: " AND "))
                ORDER BY \(request.newestFirst ? "created_at DESC, id DESC" : "created_at, id") LIMIT ?
                """, params).map(DeliveryStore.delivery)
        }
        return response
    }

    func retryDeadLetters(_ request: NotificationV1.RetryDeadLettersRequest, _ context: ServerContext) throws -> NotificationV1.RetryDeadLettersResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        let states = request.includeFailed ? ["dead", "failed"] : ["dead"]
        let stateMarks = states.map { _ in "?" }.joined(separator: ", ")
        var sql = """
            UPDATE notification_deliveries SET state = 'queued', attempts = 0, next_attempt_at = ?
            WHERE state IN (\(stateMarks)) AND (channel = 'webhook' OR (envelope_to <> '' AND (length(payload) > 0 OR payload_bytes > 0)))
              AND event_kind NOT IN (\(AccountMailRedaction.kindList))
            """
        var params: [SQLValue] = [.timestamp(Date())] + states.map(SQLValue.text)
        if !request.deliveryIDs.isEmpty {
            sql += " AND id IN (\(request.deliveryIDs.map { _ in "?" }.joined(separator: ", ")))"
            params += request.deliveryIDs.map(SQLValue.text)
        }
        let finalSQL = sql, finalParams = params
        let response = try write(context, request) { tx in
            var response = NotificationV1.RetryDeadLettersResponse()
            response.requeued = Int32(try tx.execute(finalSQL, finalParams))
            return response
        }
        dispatcher.wake()
        return response
    }

    func listDeadLetters(_ request: NotificationV1.ListDeadLettersRequest, _ context: ServerContext) throws -> NotificationV1.ListDeadLettersResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 100, maximum: 1_000)
        var after: (Int64, String) = (Int64.min, "")
        if !request.pageToken.isEmpty {
            let parts = request.pageToken.split(separator: "|", maxSplits: 1).map(String.init)
            guard parts.count == 2, let at = Int64(parts[0]) else {
                throw Access.invalid("page_token", "Marcador de página inválido.", "Invalid page token.")
            }
            after = (at, parts[1])
        }
        let (rows, total) = try database.read { tx in
            (try tx.query("""
                SELECT \(DeliveryStore.columns) FROM notification_deliveries
                WHERE state = 'dead' AND (created_at > ? OR (created_at = ? AND id > ?))
                ORDER BY created_at, id LIMIT ?
                """, [.integer(after.0), .integer(after.0), .text(after.1), .integer(Int64(limit + 1))]).map(DeliveryStore.delivery),
             try tx.scalar("SELECT COUNT(*) FROM notification_deliveries WHERE state = 'dead'"))
        }
        var response = NotificationV1.ListDeadLettersResponse()
        response.deliveries = Array(rows.prefix(limit))
        if rows.count > limit, let last = response.deliveries.last { response.nextPageToken = "\(last.createdAtMs)|\(last.id)" }
        if case .integer(let n) = total { response.total = n }
        return response
    }

    func discardDeadLetters(_ request: NotificationV1.DiscardDeadLettersRequest,
                            _ context: ServerContext) throws -> NotificationV1.DiscardDeadLettersResponse {
        let caller = try runtime.principals.require(context)
        try Access.requireAdministrator(caller)
        guard !request.deliveryIDs.isEmpty || request.all else {
            throw Access.required("delivery_ids", "Informe as entregas (ou all).", "Delivery ids (or all) are required.")
        }
        let who = caller.displayName.isEmpty ? caller.id : caller.displayName
        let note = "descartada por / discarded by \(who)" + (request.reason.isEmpty ? "" : ": \(request.reason)")
        var sql = """
            UPDATE notification_deliveries SET state = 'discarded', next_attempt_at = ?,
                last_answer = CASE WHEN last_answer = '' THEN ? ELSE ? || ' | ' || last_answer END
            WHERE state = 'dead'
            """
        var params: [SQLValue] = [.timestamp(Date()), .text(note), .text(note)]
        if !request.deliveryIDs.isEmpty {
            sql += " AND id IN (\(request.deliveryIDs.map { _ in "?" }.joined(separator: ", ")))"
            params += request.deliveryIDs.map(SQLValue.text)
        }
        let finalSQL = sql, finalParams = params
        var response = NotificationV1.DiscardDeadLettersResponse()
        response.discarded = Int32(try database.write { try $0.execute(finalSQL, finalParams) })
        return response
    }

    func reportBounce(_ request: NotificationV1.ReportBounceRequest, _ context: ServerContext) throws -> NotificationV1.ReportBounceResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        return try BounceProcessor(database: database, publisher: planner.publisher).apply(request.message)
    }

    func replayDelivery(_ request: NotificationV1.ReplayDeliveryRequest, _ context: ServerContext) throws -> NotificationV1.ReplayDeliveryResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        let response = try write(context, request) { tx in
            // An account e-mail's stored copy lost its link: the gateway makes a new one instead.
            if let kind = try tx.queryOne("SELECT event_kind FROM notification_deliveries WHERE id = ?", [.text(request.deliveryID)]),
               AccountMailRedaction.kinds.contains(try kind.text("event_kind")) {
                throw RPCError(.failedPrecondition, AccountMailRedaction.notReplayed)
            }
            guard try tx.execute("""
                UPDATE notification_deliveries SET state = 'queued', attempts = 0, next_attempt_at = ?
                WHERE id = ? AND state <> 'sending' AND (channel = 'webhook' OR length(payload) > 0 OR payload_bytes > 0)
                """, [.timestamp(Date()), .text(request.deliveryID)]) == 1, let delivery = try DeliveryStore.find(tx, id: request.deliveryID) else {
                throw RPCError(.notFound, "entrega não encontrada ou em envio / delivery not found or being sent")
            }
            var response = NotificationV1.ReplayDeliveryResponse()
            response.delivery = delivery
            return response
        }
        dispatcher.wake()
        return response
    }

    func getStats(_ request: NotificationV1.GetStatsRequest, _ context: ServerContext) throws -> NotificationV1.GetStatsResponse {
        try Access.requireAgent(try runtime.principals.require(context))
        return try database.read { try DeliveryStore.stats($0) }
    }

    // MARK: suppressed addresses

    func listSuppressions(_ request: NotificationV1.ListSuppressionsRequest, _ context: ServerContext) throws -> NotificationV1.ListSuppressionsResponse {
        try Access.requireAgent(try runtime.principals.require(context))
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 100, maximum: 1_000)
        var response = NotificationV1.ListSuppressionsResponse()
        try database.read { tx in
            if !request.address.isEmpty {
                response.suppressions = try SuppressionStore.find(tx, address: request.address).map { [$0] } ?? []
                return
            }
            response.suppressions = try SuppressionStore.list(tx, after: EmailAddress.normalized(request.after), limit: limit)
            if response.suppressions.count == limit { response.nextAfter = response.suppressions[limit - 1].address }
        }
        return response
    }

    func addSuppression(_ request: NotificationV1.AddSuppressionRequest, _ context: ServerContext) throws -> NotificationV1.AddSuppressionResponse {
        let caller = try runtime.principals.require(context)
        try Access.requireAdministrator(caller)
        guard !request.address.isEmpty else { throw Access.required("address", "Informe o endereço.", "Address is required.") }
        guard EmailAddress.isValid(request.address) else { throw Access.invalid("address", "Endereço inválido.", "Invalid address.") }
        guard request.note.count <= 500 else { throw Access.invalid("note", "Nota longa demais (máx. 500).", "Note too long (max 500).") }
        return try write(context, request) { tx in
            var response = NotificationV1.AddSuppressionResponse()
            response.suppression = try SuppressionStore.add(tx, address: request.address, by: caller.email.isEmpty ? caller.id : caller.email,
                                                            note: request.note)
            return response
        }
    }

    func removeSuppression(_ request: NotificationV1.RemoveSuppressionRequest, _ context: ServerContext) throws -> NotificationV1.RemoveSuppressionResponse {
        try Access.requireAdministrator(try runtime.principals.require(context))
        guard !request.address.isEmpty else { throw Access.required("address", "Informe o endereço.", "Address is required.") }
        guard let removed = try database.write({ try SuppressionStore.remove($0, address: request.address) }) else {
            throw RPCError(.notFound, "endereço não suprimido / address not suppressed")
        }
        var response = NotificationV1.RemoveSuppressionResponse()
        response.suppression = removed
        return response
    }
}
