import CSodium
import Foundation
import Messages
import RPC
import RPCTransport

/// The services' capabilities over HTTP. Most routes are one RPC each (``RPCBinding``); the
/// ticket view and list compose intake's and workflow's parts; attachments stream.
enum DomainRoutes {
    typealias B = RPCBinding
    /// Puts and updates change only the fields the body names.
    typealias M = MergedUpdate
    /// The permission of the routes that change tickets (every agent role; not customers, not a
    /// read-only integration key): checked here before the call and again by the service.
    static let work = "tickets.work"

    static func register(in router: inout Router) {
        time(&router)
        tickets(&router)
        ticketActions(&router)
        attachments(&router)
        knowledge(&router)
        notification(&router)
        directory(&router)
        administration(&router)
    }

    // MARK: workflow's time: calendars, SLA, inactivity, survey, metrics; development backlog

    static func time(_ router: inout Router) {
        typealias T = WorkflowV1.WorkflowTime
        router.add(B.route("GET", "/v1/calendars", "workflow", T.listCalendars))
        router.add(M.merging(B.route("POST", "/v1/calendars", "workflow", T.putCalendar), record: "calendar", key: ["id"],
                              read: .get("workflow", T.getCalendar, ["id": "id"], record: "calendar")))
        router.add(B.route("GET", "/v1/calendars/{id}", "workflow", T.getCalendar, path: ["id": "id"], query: ["holidays_year": "holidays_year"]))
        router.add(B.route("DELETE", "/v1/calendars/{id}", "workflow", T.deleteCalendar, path: ["id": "id"]))
        router.add(B.route("GET", "/v1/sla-policies", "workflow", T.listSLAPolicies))
        router.add(M.merging(B.route("POST", "/v1/sla-policies", "workflow", T.putSLAPolicy), record: "policy", key: ["plan", "priority"],
                              read: .list("workflow", T.listSLAPolicies, items: "policies")))
        router.add(B.route("POST", "/v1/sla-policies/delete", "workflow", T.deleteSLAPolicy))
        router.add(B.route("GET", "/v1/tickets/{id}/sla", "workflow", T.getTicketSLA, path: ["id": "ticket_id"]))
        router.add(B.route("GET", "/v1/inactivity-policies", "workflow", T.listInactivityPolicies))
        router.add(M.merging(B.route("POST", "/v1/inactivity-policies", "workflow", T.putInactivityPolicy), record: "policy", key: ["id"],
                              read: .list("workflow", T.listInactivityPolicies, items: "policies")))
        router.add(B.route("DELETE", "/v1/inactivity-policies/{id}", "workflow", T.deleteInactivityPolicy, path: ["id": "id"]))
        router.add(B.route("POST", "/v1/inactivity-policies/presets", "workflow", T.installInactivityPreset))
        // The survey link's signed token is the authorization: no sign-in needed.
        router.add(B.route("POST", "/v1/surveys/answer", "workflow", T.answerSurvey, access: .anonymous))
        // What the survey page shows about its ticket (code, subject, finished at), by the same token.
        router.add(B.route("GET", "/v1/surveys/about", "workflow", T.getSurveyByToken, query: ["token": "token"], access: .anonymous))
        // The survey of a finished ticket: its customers get the token to answer it on the ticket page.
        router.add(B.route("GET", "/v1/tickets/{id}/survey", "workflow", T.getTicketSurvey, path: ["id": "ticket_id"]))
        router.add(B.route("GET", "/v1/surveys/results", "workflow", T.getSurveyResults,
                           query: ["group_by": "group_by", "from_ms": "from_ms", "to_ms": "to_ms"]))
        router.add(metricsReport())
        router.add("GET", "/v1/reports/metrics.csv") { request, context in
            var ask = WorkflowV1.ExportMetricsRequest()
            ask.fromMs = try queryMilliseconds(request, "from_ms")
            ask.toMs = try queryMilliseconds(request, "to_ms")
            (ask.groupID, ask.product, ask.agentID) = try metricsFilters(request)
            let stream = try context.gateway.runtime.client(for: "workflow").serverStream(T.exportMetrics, ask, options: context.callOptions(timeoutMilliseconds: 120_000))
            return try csv(stream, name: "metricas.csv")
        }
        router.add("GET", "/v1/tickets/export.csv") { request, context in
            var ask = WorkflowV1.ExportQueueRequest()
            var filter = WorkflowV1.TicketFilter()
            if let stages = request.query["stage"] { filter.stages = stages.split(separator: ",").map(String.init) }
            filter.groupID = request.query["group_id"] ?? ""
            filter.agentID = request.query["agent_id"] ?? ""
            ask.filter = filter
            // Workflow's violations name `filter.stages`…: the caller sent `stage`.
            return try QueryArgumentNames(["stage": "filter.stages", "group_id": "filter.group_id", "agent_id": "filter.agent_id"]).naming(request) {
                let stream = try context.gateway.runtime.client(for: "workflow").serverStream(WorkflowV1.Workflow.exportQueue, ask,
                                                                                              options: context.callOptions(timeoutMilliseconds: 120_000))
                return try csv(stream, name: "ocorrencias.csv")
            }
        }
        typealias W = WorkflowV1.Workflow
        router.add(B.route("GET", "/v1/versions", "workflow", W.listVersions, query: ["include_delivered": "include_delivered"]))
        router.add(M.merging(B.route("POST", "/v1/versions", "workflow", W.putVersion), record: "version", key: ["id"],
                              read: .list("workflow", W.listVersions, ["include_delivered": true], items: "versions")))
        router.add(B.route("POST", "/v1/tickets/{id}/plan", "workflow", W.planTicket, path: ["id": "ticket_id"]).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/development-plan", "workflow", W.setDevelopmentPlan, path: ["id": "ticket_id"]).requiring(work))
        router.add(B.route("POST", "/v1/versions/{id}/deliver", "workflow", W.deliverVersion, path: ["id": "version_id"]))
        router.add(B.route("DELETE", "/v1/versions/{id}", "workflow", W.deleteVersion, path: ["id": "version_id"]))
        router.add(B.route("GET", "/v1/backlog", "workflow", W.listBacklog,
                           query: ["page_size": "page_size", "page": "page", "stage": "stages", "version": "version_id", "product": "product"]))
        router.add(B.route("GET", "/v1/step-sequences", "workflow", W.listStepSequences))
        router.add(B.route("POST", "/v1/step-sequences", "workflow", W.putStepSequence))
        router.add(B.route("POST", "/v1/tickets/{id}/fields", "workflow", W.setTicketFields, path: ["id": "ticket_id"]).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/steps", "workflow", W.startSteps, path: ["id": "ticket_id"]).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/steps/advance", "workflow", W.advanceStep, path: ["id": "ticket_id"]).requiring(work))
    }

    /// `GET /v1/reports/metrics`: workflow's `GetMetrics`, with the dashboard's filters `group`,
    /// `product` and `agent` (a group id, a product name, an agent id; empty or absent: no filter)
    /// checked here first (``metricsFilters(_:)``).
    static func metricsReport() -> Route {
        var route = B.route("GET", "/v1/reports/metrics", "workflow", WorkflowV1.WorkflowTime.getMetrics,
                            query: ["from_day": "from_day", "to_day": "to_day", "group": "group_id", "product": "product", "agent": "agent_id"])
        let call = route.handler
        route.handler = { request, context in
            _ = try metricsFilters(request)
            return try call(request, context)
        }
        return route
    }

    /// The metrics filters of `request` (`group`, `product`, `agent`; absent: empty), each up to
    /// 200 bytes (UTF-8) and without control characters, else 400 naming the parameter.
    static func metricsFilters(_ request: HTTPRequest) throws -> (group: String, product: String, agent: String) {
        var values: [String] = []
        for parameter in ["group", "product", "agent"] {
            let value = request.query[parameter] ?? ""
            if value.utf8.count > 200 || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw APIError.invalid(parameter, "invalid",
                                       pt: "Filtro \(parameter) inválido: até 200 bytes (UTF-8), sem caracteres de controle.",
                                       en: "Invalid \(parameter) filter: up to 200 bytes (UTF-8), no control characters.")
            }
            values.append(value)
        }
        return (values[0], values[1], values[2])
    }

    /// The milliseconds since 1970 in the query argument `name` (absent or empty: 0).
    /// - Throws: 400 naming the argument when it is not one (`from_ms=ontem` used to be taken as 0: no bound).
    static func queryMilliseconds(_ request: HTTPRequest, _ name: String) throws -> Int64 {
        let text = request.query[name] ?? ""
        if text.isEmpty { return 0 }
        guard let value = Int64(text) else {
            throw APIError.invalid(name, "invalid_number", pt: "\(name) deve ser um número inteiro (milissegundos desde 1970).",
                                   en: "\(name) must be a whole number (milliseconds since 1970).")
        }
        return value
    }

    /// A CSV file from a stream of `CsvChunk`s (bounded by the call's deadline).
    static func csv(_ stream: ResponseStream<WorkflowV1.CsvChunk>, name: String) throws -> HTTPResponse {
        // Relayed as workflow sends it (the gateway holds one chunk, not the export: an export
        // has no row cap); the first chunk is awaited, so a refusal is still a JSON error.
        let first: WorkflowV1.CsvChunk?
        do { first = try stream.receive() } catch {
            stream.cancel()
            throw error
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/csv; charset=utf-8"),
                                                   ("Content-Disposition", "attachment; filename=\"\(name)\"")],
                            source: StreamedChunks(stream: stream, first: Array((first?.text ?? "").utf8), ended: first == nil) { Array($0.text.utf8) },
                            length: first == nil ? 0 : nil)
    }

    // MARK: tickets

    static func tickets(_ router: inout Router) {
        let open = B.route("POST", "/v1/tickets", "intake", IntakeV1.Intake.openTicket, status: 201).requiringOfKeys(work)
        // The JSON body, or the same as a multipart form with the files, streamed (TicketForm).
        router.add(open.streamingBodies(when: Gateway.isForm, asForm: true) { request, context in
            TicketForm(request, context, field: "ticket", send: open.handler)
        })
        // The list: a customer's organization's tickets, or an agent's queue (cached per caller and page).
        router.add("GET", "/v1/tickets", TicketListRoute.handle)
        router.add(B.route("GET", "/v1/tickets/search", "workflow", WorkflowV1.Workflow.searchTickets,
                           query: ["q": "query", "field": "field", "mode": "mode", "same_subject_as": "same_subject_as", "limit": "limit",
                                   "stage": "filter.stages"]))
        router.add(B.route("GET", "/v1/tickets/counts", "workflow", WorkflowV1.Workflow.countByStage,
                           query: ["group_id": "filter.group_id", "agent_id": "filter.agent_id", "product": "filter.product"]))
        router.add(B.route("POST", "/v1/tickets/bulk", "workflow", WorkflowV1.Workflow.bulkAction).requiring(work))
        // The view: intake's part and workflow's part, each as the caller may see it (cached per caller).
        router.add("GET", "/v1/tickets/{id}", TicketViewRoute.handle)
        router.add("GET", "/v1/tickets/{id}/conversation", TicketConversationRoute.handle)
        router.add(B.route("GET", "/v1/tickets/{id}/history", "workflow", WorkflowV1.Workflow.getHistory, path: ["id": "ticket_id"],
                           query: ["limit": "limit", "before": "before"]))
        router.add(B.route("GET", "/v1/tickets/{id}/moves", "workflow", WorkflowV1.Workflow.listAllowedMoves, path: ["id": "ticket_id"]))
        router.add(B.route("GET", "/v1/tickets/{id}/related", "workflow", WorkflowV1.Workflow.listRelated, path: ["id": "ticket_id"]))
        router.add(B.route("GET", "/v1/tickets/{id}/versions", "workflow", WorkflowV1.Workflow.listTextVersions,
                           path: ["id": "ticket_id"], query: ["field": "field"]))
        // Notification asks workflow itself (TicketAccessCheck): the gate asks only for the callers it trusts.
        router.add(TicketVisibility.gate(B.route("GET", "/v1/tickets/{id}/deliveries", "notification", NotificationV1.Notification.listDeliveries,
                                                 path: ["id": "ticket_id"], query: ["state": "state", "limit": "limit"]), serviceAsks: true))
    }

    static func ticketActions(_ router: inout Router) {
        let id = ["id": "ticket"]
        let wid = ["id": "ticket_id"]
        // The JSON body, or a multipart form (`reply` JSON and files) as for the open (TicketForm).
        // Answered once workflow's view shows the reply (ReplySettling), at most GATEWAY_REPLY_SETTLE_MS.
        let reply = ReplySettling.waiting(B.route("POST", "/v1/tickets/{id}/replies", "intake", IntakeV1.Intake.reply, path: id, status: 201)
            .requiringOfKeys(work))
        router.add(reply.streamingBodies(when: Gateway.isForm, asForm: true) { request, context in
            TicketForm(request, context, field: "reply", send: reply.handler)
        })
        router.add(B.route("POST", "/v1/tickets/{id}/cancel", "intake", IntakeV1.Intake.cancelTicket, path: id).requiringOfKeys(work))
        router.add(B.route("POST", "/v1/tickets/{id}/contact", "intake", IntakeV1.Intake.changeTicketContact, path: id).requiringOfKeys(work))
        router.add(B.route("POST", "/v1/tickets/{id}/move", "workflow", WorkflowV1.Workflow.moveTicket, path: wid))
        router.add(B.route("POST", "/v1/tickets/{id}/status", "workflow", WorkflowV1.Workflow.setStageStatus, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/reclassify", "workflow", WorkflowV1.Workflow.reclassify, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/access-level", "workflow", WorkflowV1.Workflow.setAccessLevel, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/take", "workflow", WorkflowV1.Workflow.takeTicket, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/transfer", "workflow", WorkflowV1.Workflow.transferTicket, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/send-back", "workflow", WorkflowV1.Workflow.sendBack, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/read", "workflow", WorkflowV1.Workflow.markMessagesRead, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/customer-messages", "workflow", WorkflowV1.Workflow.logCustomerMessage, path: wid, status: 201).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/schedule", "workflow", WorkflowV1.Workflow.scheduleTicket, path: wid).requiring(work))
        // Workflow's entry with its files put on the ticket by intake first (DiscussionRoute); JSON or multipart like replies.
        router.add(DiscussionRoute.route.requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/discussion/{entry}/publishable", "workflow", WorkflowV1.Workflow.markPublishable,
                           path: ["id": "ticket_id", "entry": "entry_id"]).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/solution", "workflow", WorkflowV1.Workflow.setSolution, path: wid).requiring(work))
        // Customers accept or reject the proposed solution of a ticket that awaits it (any flow).
        router.add(B.route("POST", "/v1/tickets/{id}/solution/answer", "workflow", WorkflowV1.Workflow.answerSolution, path: wid))
        router.add(B.route("POST", "/v1/tickets/{id}/request", "workflow", WorkflowV1.Workflow.amendRequest, path: wid).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/links", "workflow", WorkflowV1.Workflow.linkTickets, path: wid, status: 201).requiring(work))
        router.add(B.route("POST", "/v1/tickets/{id}/time-entries", "workflow", WorkflowV1.Workflow.addTimeEntry, path: wid, status: 201).requiring(work))
        // Knowledge and notification do not own the ticket: workflow is asked first, once per
        // request (by the service for the callers it does not trust, else by the gate).
        router.add(TicketVisibility.gate(B.route("POST", "/v1/tickets/{id}/articles", "knowledge", KnowledgeV1.Knowledge.linkArticleToTicket,
                                                 path: wid, status: 201).requiring(work), serviceAsks: true))
        router.add(TicketVisibility.gate(B.route("POST", "/v1/tickets/{id}/email", "notification", NotificationV1.Notification.sendTicketEmail,
                                                 path: wid, status: 201).requiring(work), serviceAsks: true))
        router.add(TicketVisibility.gate(B.route("POST", "/v1/tickets/{id}/faq-request", "knowledge", KnowledgeV1.Knowledge.requestFaq,
                                                 path: wid, status: 201).requiring(work), serviceAsks: true))
        router.add(B.route("GET", "/v1/time-totals", "workflow", WorkflowV1.Workflow.timeTotals,
                           query: ["group_by": "group_by", "from_ms": "from_ms", "to_ms": "to_ms", "organization_id": "organization_id",
                                   "agent_id": "agent_id"]))
    }

    // MARK: attachments

    static func attachments(_ router: inout Router) {
        // The raw body is the file; its name comes in `?file_name=`, its type in Content-Type.
        // Streamed to intake as it arrives (AttachmentUpload).
        router.addStreaming("POST", "/v1/attachments") { request, context in try AttachmentUpload(request, context) }
        router.add("GET", "/v1/attachments/{id}") { request, context in try AttachmentDownload.response(request, context) }
        // Which files of an open or reply travel inside the call (`files`) and which are uploaded
        // first: the portal and `ocorre` read the limits here (the gateway's lowered to intake's)
        // instead of keeping their own.
        router.add("GET", "/v1/file-limits") { _, context in
            _ = try context.requirePrincipal()
            return .json(context.gateway.fileLimits.json)
        }
    }

    // MARK: knowledge

    static func knowledge(_ router: inout Router) {
        router.add(B.route("GET", "/v1/knowledge/search", "knowledge", KnowledgeV1.Knowledge.search,
                           query: ["q": "query", "product": "product", "module": "module", "category": "category", "limit": "limit"]))
        router.add(B.route("GET", "/v1/knowledge/suggest", "knowledge", KnowledgeV1.Knowledge.suggest,
                           query: ["subject": "subject", "category": "category", "product": "product", "module": "module",
                                   "limit": "limit", "draft_id": "draft_id"]))
        router.add(B.route("GET", "/v1/knowledge/faq", "knowledge", KnowledgeV1.Knowledge.listFaq,
                           query: ["category": "category", "product": "product", "module": "module", "limit": "limit"]))
        router.add(B.route("GET", "/v1/knowledge/forum", "knowledge", KnowledgeV1.Knowledge.listForum,
                           query: ["category": "category", "product": "product", "module": "module", "limit": "limit"]))
        router.add(B.route("GET", "/v1/knowledge/forum/{id}", "knowledge", KnowledgeV1.Knowledge.getForumEntry, path: ["id": "id"]))
        router.add(B.route("GET", "/v1/knowledge/articles", "knowledge", KnowledgeV1.Knowledge.listArticles,
                           query: ["product": "product", "module": "module", "category": "category", "kind": "kind", "state": "state",
                                   "limit": "limit", "offset": "offset"]))
        router.add(B.route("POST", "/v1/knowledge/articles", "knowledge", KnowledgeV1.Knowledge.createArticle, status: 201))
        router.add(B.route("GET", "/v1/knowledge/articles/{id}", "knowledge", KnowledgeV1.Knowledge.getArticle,
                           path: ["id": "id"], query: ["draft_id": "draft_id"]))
        // The version read is the one the merge starts from: an edit in between is refused, not overwritten.
        router.add(M.merging(B.route("POST", "/v1/knowledge/articles/{id}", "knowledge", KnowledgeV1.Knowledge.updateArticle, path: ["id": "id"]),
                             key: ["id"], path: ["id": "id"], carry: ["version": "expected_version"],
                             read: .get("knowledge", KnowledgeV1.Knowledge.getArticle, ["id": "id"])))
        router.add(B.route("GET", "/v1/knowledge/articles/{id}/versions", "knowledge", KnowledgeV1.Knowledge.listArticleVersions, path: ["id": "id"]))
        router.add(B.route("POST", "/v1/knowledge/articles/{id}/votes", "knowledge", KnowledgeV1.Knowledge.vote, path: ["id": "article_id"]))
        router.add(B.route("POST", "/v1/knowledge/drafts/{draft}/opened", "knowledge", KnowledgeV1.Knowledge.recordArticleOpened,
                           path: ["draft": "draft_id"]))
        router.add(B.route("POST", "/v1/knowledge/drafts/{draft}/submitted", "knowledge", KnowledgeV1.Knowledge.recordTicketSubmitted,
                           path: ["draft": "draft_id"]))
        router.add(B.route("GET", "/v1/knowledge/deflection", "knowledge", KnowledgeV1.Knowledge.deflectionReport,
                           query: ["product": "product", "module": "module", "from_ms": "from_ms", "to_ms": "to_ms", "limit": "limit"]))
        router.add(B.route("GET", "/v1/knowledge/queue", "knowledge", KnowledgeV1.Knowledge.listEditorQueue,
                           query: ["status": "status", "kind": "kind", "limit": "limit"]))
        router.add(B.route("POST", "/v1/knowledge/queue/{id}/approve", "knowledge", KnowledgeV1.Knowledge.approveQueueItem, path: ["id": "id"]))
        router.add(B.route("POST", "/v1/knowledge/queue/{id}/reject", "knowledge", KnowledgeV1.Knowledge.rejectQueueItem, path: ["id": "id"]))
        router.add(B.route("GET", "/v1/knowledge/synonyms", "knowledge", KnowledgeV1.Knowledge.listSynonyms))
        router.add(B.route("POST", "/v1/knowledge/synonyms", "knowledge", KnowledgeV1.Knowledge.putSynonymGroup))
        router.add(B.route("DELETE", "/v1/knowledge/synonyms/{id}", "knowledge", KnowledgeV1.Knowledge.deleteSynonymGroup, path: ["id": "id"]))
    }

    // MARK: notification

    static func notification(_ router: inout Router) {
        // A ticket named is asked of workflow first; by recipient, the rows of hidden tickets are left out.
        let deliveries = B.route("GET", "/v1/deliveries", "notification", NotificationV1.Notification.listDeliveries,
                                 query: ["ticket_id": "ticket_id", "recipient": "recipient", "state": "state", "limit": "limit",
                                         "newest_first": "newest_first"])
        router.add(TicketVisibility.gate(TicketVisibility.filterDeliveries(deliveries), query: "ticket_id", serviceAsks: true))
        router.add(B.route("GET", "/v1/deliveries/stats", "notification", NotificationV1.Notification.getStats))
        router.add(B.route("POST", "/v1/deliveries/retry", "notification", NotificationV1.Notification.retryDeadLetters))
        router.add(B.route("POST", "/v1/deliveries/{id}/replay", "notification", NotificationV1.Notification.replayDelivery, path: ["id": "delivery_id"]))
        router.add(B.route("GET", "/v1/subscriptions", "notification", NotificationV1.Notification.listSubscriptions, query: ["person": "person"]))
        router.add(B.route("POST", "/v1/subscriptions", "notification", NotificationV1.Notification.setSubscription))
        router.add(B.route("DELETE", "/v1/subscriptions", "notification", NotificationV1.Notification.removeSubscription,
                           query: ["person": "person", "event_kind": "event_kind"]))
        router.add(B.route("GET", "/v1/notification-rules", "notification", NotificationV1.Notification.listRules))
        router.add(B.route("POST", "/v1/notification-rules/{kind}", "notification", NotificationV1.Notification.putAudienceRule,
                           path: ["kind": "event_kind"]))
        router.add(B.route("DELETE", "/v1/notification-rules/{kind}", "notification", NotificationV1.Notification.resetAudienceRule,
                           path: ["kind": "event_kind"]))
        router.add(B.route("POST", "/v1/notification-rules/{kind}/entries", "notification", NotificationV1.Notification.addRuleEntry,
                           path: ["kind": "event_kind"], status: 201))
        router.add(B.route("POST", "/v1/notification-rules/{kind}/entries/{id}", "notification", NotificationV1.Notification.updateRuleEntry,
                           path: ["kind": "event_kind", "id": "entry.id"]))
        router.add(B.route("DELETE", "/v1/notification-rules/{kind}/entries/{id}", "notification", NotificationV1.Notification.removeRuleEntry,
                           path: ["kind": "event_kind", "id": "id"]))
        router.add(B.route("POST", "/v1/group-mailboxes/{id}", "notification", NotificationV1.Notification.putGroupMailbox,
                           path: ["id": "group_id"]))
        router.add(B.route("DELETE", "/v1/group-mailboxes/{id}", "notification", NotificationV1.Notification.removeGroupMailbox,
                           path: ["id": "group_id"]))
        router.add(B.route("GET", "/v1/webhooks", "notification", NotificationV1.Notification.listWebhooks))
        router.add(B.route("POST", "/v1/webhooks", "notification", NotificationV1.Notification.registerWebhook, status: 201))
        router.add(B.route("POST", "/v1/webhooks/{id}", "notification", NotificationV1.Notification.updateWebhook, path: ["id": "id"]))
        router.add(B.route("DELETE", "/v1/webhooks/{id}", "notification", NotificationV1.Notification.removeWebhook, path: ["id": "id"]))
        router.add(B.route("POST", "/v1/webhooks/{id}/secret", "notification", NotificationV1.Notification.rotateWebhookSecret,
                           path: ["id": "id"]))
        router.add(B.route("GET", "/v1/templates/{kind}", "notification", NotificationV1.Notification.getTemplate,
                           path: ["kind": "event_kind"], query: ["locale": "locale"]))
        router.add(M.merging(B.route("POST", "/v1/templates", "notification", NotificationV1.Notification.setTemplate), record: "message_template",
                             key: ["event_kind", "locale"],
                             read: .get("notification", NotificationV1.Notification.getTemplate, ["event_kind": "event_kind", "locale": "locale"],
                                        record: "message_template")))
        router.add(B.route("GET", "/v1/email-suppressions", "notification", NotificationV1.Notification.listSuppressions,
                           query: ["address": "address", "limit": "limit", "after": "after"]))
        router.add(B.route("POST", "/v1/email-suppressions", "notification", NotificationV1.Notification.addSuppression, status: 201))
        router.add(B.route("DELETE", "/v1/email-suppressions/{address}", "notification", NotificationV1.Notification.removeSuppression,
                           path: ["address": "address"]))
    }

    // MARK: customers (intake's directory) and intake's configuration

    static func directory(_ router: inout Router) {
        router.add(B.route("POST", "/v1/organizations", "intake", IntakeV1.Intake.createOrganization, status: 201).requiringOfKeys(work))
        router.add(B.route("GET", "/v1/organizations", "intake", IntakeV1.Intake.listOrganizations,
                           query: ["name_prefix": "name_prefix", "kind": "kind", "include_inactive": "include_inactive",
                                   "page_size": "page_size", "page_token": "page_token"]))
        router.add(B.route("GET", "/v1/organizations/{id}", "intake", IntakeV1.Intake.getOrganization, path: ["id": "organization_id"]))
        router.add(MergedUpdate.route("/v1/organizations/{id}", "intake", read: IntakeV1.Intake.getOrganization, readField: "organization_id",
                                      update: IntakeV1.Intake.updateOrganization).requiringOfKeys(work))
        // The company's contacts: staff's, and a company's administrator's while their contact has
        // intake's `admin` flag; one whose flag was taken is told so (``CompanyAdministratorAccess``).
        let administrators = CompanyAdministratorAccess.only
        router.add(administrators(B.route("POST", "/v1/organizations/{id}/contacts", "intake", IntakeV1.Intake.addContact,
                                          path: ["id": "organization_id"], status: 201)).requiringOfKeys(work))
        router.add(administrators(B.route("GET", "/v1/organizations/{id}/contacts", "intake", IntakeV1.Intake.listContacts, path: ["id": "organization_id"],
                                          query: ["include_inactive": "include_inactive", "authorized_only": "authorized_only"])))
        router.add(administrators(B.route("GET", "/v1/contacts/{id}", "intake", IntakeV1.Intake.getContact, path: ["id": "contact_id"])))
        // A company's administrator neither deactivates nor deletes their own contact or another
        // administrator's (``CompanyAdministrators``; intake refuses it too).
        router.add(administrators(CompanyAdministrators.guarding(MergedUpdate.route("/v1/contacts/{id}", "intake", read: IntakeV1.Intake.getContact,
                                                                                    readField: "contact_id", update: IntakeV1.Intake.updateContact),
                                                                 removes: CompanyAdministrators.updateDeactivates)).requiringOfKeys(work))
        router.add(administrators(CompanyAdministrators.guarding(ContactSignIns.following(B.route("POST", "/v1/contacts/{id}/active", "intake",
                                                                                                  IntakeV1.Intake.setContactActive, path: ["id": "contact_id"])),
                                                                 removes: CompanyAdministrators.setsInactive)).requiringOfKeys(work))
        router.add(administrators(CompanyAdministrators.guarding(B.route("DELETE", "/v1/contacts/{id}", "intake", IntakeV1.Intake.deleteContact,
                                                                         path: ["id": "contact_id"]), removes: { _ in true })).requiringOfKeys(work))
        router.add(B.route("POST", "/v1/representatives", "intake", IntakeV1.Intake.createRepresentative, status: 201).requiringOfKeys(work))
        router.add(B.route("GET", "/v1/representatives/{id}", "intake", IntakeV1.Intake.getRepresentative, path: ["id": "representative_id"]))
        router.add(MergedUpdate.route("/v1/representatives/{id}", "intake", read: IntakeV1.Intake.getRepresentative, readField: "representative_id",
                                      update: IntakeV1.Intake.updateRepresentative).requiringOfKeys(work))
        router.add(B.route("GET", "/v1/representatives/{id}/organizations", "intake", IntakeV1.Intake.listRepresentativeOrganizations,
                           path: ["id": "representative_id"], query: ["include_inactive": "include_inactive"]))
        router.add(B.route("GET", "/v1/representatives/{id}/contacts", "intake", IntakeV1.Intake.listRepresentativeContacts,
                           path: ["id": "representative_id"], query: ["include_inactive": "include_inactive"]))
        router.add(B.route("POST", "/v1/representatives/{id}/contacts", "intake", IntakeV1.Intake.addRepresentativeContact,
                           path: ["id": "representative_id"], status: 201).requiringOfKeys(work))
        router.add(B.route("GET", "/v1/representative-contacts/{id}", "intake", IntakeV1.Intake.getRepresentativeContact,
                           path: ["id": "contact_id"]))
        router.add(MergedUpdate.route("/v1/representative-contacts/{id}", "intake", read: IntakeV1.Intake.getRepresentativeContact,
                                      readField: "contact_id", update: IntakeV1.Intake.updateRepresentativeContact).requiringOfKeys(work))
        router.add(B.route("GET", "/v1/organizations/{id}/representatives", "intake", IntakeV1.Intake.listOrganizationRepresentatives,
                           path: ["id": "organization_id"], query: ["include_inactive": "include_inactive"]))
        router.add(B.route("GET", "/v1/customers", "intake", IntakeV1.Intake.lookupCustomers, query: ["q": "query", "limit": "limit"]))
        router.add(B.route("GET", "/v1/channels", "intake", IntakeV1.Intake.listChannels, query: ["include_inactive": "include_inactive"]))
        router.add(M.merging(B.route("POST", "/v1/channels", "intake", IntakeV1.Intake.putChannel), key: ["key"],
                             read: .list("intake", IntakeV1.Intake.listChannels, ["include_inactive": true], items: "entries")))
        router.add(B.route("GET", "/v1/origins", "intake", IntakeV1.Intake.listOrigins, query: ["include_inactive": "include_inactive"]))
        router.add(M.merging(B.route("POST", "/v1/origins", "intake", IntakeV1.Intake.putOrigin), key: ["key"],
                             read: .list("intake", IntakeV1.Intake.listOrigins, ["include_inactive": true], items: "entries")))
        router.add(B.route("GET", "/v1/custom-fields", "intake", IntakeV1.Intake.listCustomFields,
                           query: ["product": "product", "category": "category", "include_inactive": "include_inactive"]))
        router.add(M.merging(B.route("POST", "/v1/custom-fields", "intake", IntakeV1.Intake.putCustomField), key: ["key"],
                             read: .list("intake", IntakeV1.Intake.listCustomFields, ["include_inactive": true], items: "fields")))
        router.add(B.route("GET", "/v1/support-policy", "intake", IntakeV1.Intake.getSupportPolicy))
        router.add(M.merging(B.route("POST", "/v1/support-policy", "intake", IntakeV1.Intake.putSupportPolicy), key: [],
                             read: .get("intake", IntakeV1.Intake.getSupportPolicy)))
    }

    // MARK: workflow's configuration

    static func administration(_ router: inout Router) {
        router.add(B.route("GET", "/v1/agents", "workflow", WorkflowV1.Workflow.listAgents,
                           query: ["group_id": "group_id", "include_inactive": "include_inactive", "chefe_agent_id": "chefe_agent_id"]))
        // The team's sign-ins follow their agent's state (``AgentSignIns``).
        router.add(AgentSignIns.following(M.merging(B.route("POST", "/v1/agents", "workflow", WorkflowV1.Workflow.putAgent), record: "agent",
                                                    key: ["id"], read: .get("workflow", WorkflowV1.Workflow.getAgent, ["id": "agent_id"]))))
        router.add(B.route("GET", "/v1/agents/{id}", "workflow", WorkflowV1.Workflow.getAgent, path: ["id": "agent_id"]))
        router.add(B.route("GET", "/v1/agents/{id}/transfer-destinations", "workflow", WorkflowV1.Workflow.listTransferDestinations,
                           path: ["id": "agent_id"], query: ["ticket_id": "ticket_id"]))
        router.add(B.route("POST", "/v1/agents/{id}/transfer-destinations", "workflow", WorkflowV1.Workflow.setTransferDestinations,
                           path: ["id": "agent_id"]))
        router.add(B.route("GET", "/v1/groups", "workflow", WorkflowV1.Workflow.listGroups, query: ["include_inactive": "include_inactive"]))
        router.add(M.merging(B.route("POST", "/v1/groups", "workflow", WorkflowV1.Workflow.putGroup), record: "group", key: ["id"],
                             read: .list("workflow", WorkflowV1.Workflow.listGroups, ["include_inactive": true], items: "groups")))
        router.add(B.route("POST", "/v1/groups/{id}/members", "workflow", WorkflowV1.Workflow.setMembership, path: ["id": "group_id"]))
        router.add(B.route("GET", "/v1/roles", "workflow", WorkflowV1.Workflow.listRoles))
        router.add(B.route("POST", "/v1/roles", "workflow", WorkflowV1.Workflow.putRole))
        router.add(B.route("DELETE", "/v1/roles/{name}", "workflow", WorkflowV1.Workflow.deleteRole, path: ["name": "name"]))
        router.add(B.route("GET", "/v1/routing-rules", "workflow", WorkflowV1.Workflow.listRoutingRules))
        router.add(M.merging(B.route("POST", "/v1/routing-rules", "workflow", WorkflowV1.Workflow.putRoutingRule), record: "rule", key: ["id"],
                             read: .list("workflow", WorkflowV1.Workflow.listRoutingRules, items: "rules")))
        router.add(B.route("DELETE", "/v1/routing-rules/{id}", "workflow", WorkflowV1.Workflow.deleteRoutingRule, path: ["id": "rule_id"]))
        router.add(B.route("GET", "/v1/category-access-levels", "workflow", WorkflowV1.Workflow.listCategoryAccessLevels))
        router.add(B.route("POST", "/v1/category-access-levels", "workflow", WorkflowV1.Workflow.setCategoryAccessLevel))
    }
}
