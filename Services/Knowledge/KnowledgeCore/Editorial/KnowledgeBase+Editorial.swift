import Foundation
import Messages
import RPC
import Storage

extension KnowledgeBase {
    /// An agent asks editors for a FAQ from a ticket's request and solution.
    public func requestFaq(_ request: KnowledgeV1.RequestFaqRequest, caller: Caller, idempotencyKey: String? = nil) throws -> KnowledgeV1.QueueItem {
        try caller.require(.agent)
        var violations: [FieldViolation] = []
        if request.requestText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            violations.append(FieldViolation(field: "request_text", reason: "required", pt: "Informe a solicitação do cliente.",
                                             en: "The customer's request is required."))
        }
        if request.solutionText.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            violations.append(FieldViolation(field: "solution_text", reason: "required", pt: "Informe a solução.", en: "The solution is required."))
        }
        let texts = [request.requestText, request.solutionText, request.note, request.ticketCode, request.organizationName, request.contactName]
        if texts.contains(where: { $0.contains("\u{0}") || $0.utf8.count > 50_000 }) {
            violations.append(FieldViolation(field: "request_text", reason: "invalid", pt: "Texto inválido ou longo demais.",
                                             en: "Invalid or too long text."))
        }
        // The FAQ article it may become holds them: refused now rather than stuck in the queue.
        violations += ArticleInput.labelViolations(product: request.product, module: request.module, category: request.category)
        guard violations.isEmpty else { throw RPCError(.invalidArgument, "pedido de FAQ inválido / invalid FAQ request", violations: violations) }
        let sourceKey = "faq:" + (idempotencyKey.map { "\(caller.principal.id):\($0)" } ?? UUID().uuidString)
        // The queue's source key makes one item per key; the stored answer makes a retry's
        // answer the first one, and another request with the key `FAILED_PRECONDITION`.
        var keyed = caller
        keyed.idempotencyKey = idempotencyKey
        return try write("RequestFaq", keyed, request) { tx in
            try EditorQueue.add(tx, EditorQueue.NewItem(
                kind: .faqRequest, sourceKey: sourceKey, ticketID: request.ticketID, ticketCode: request.ticketCode,
                organizationName: request.organizationName, contactName: request.contactName, product: request.product,
                module: request.module, category: request.category, question: request.requestText, answer: request.solutionText,
                requestedByID: caller.principal.id, requestedByName: caller.principal.displayName, note: request.note))
            guard let item = try EditorQueue.findBySource(tx, sourceKey: sourceKey) else {
                throw RPCError(.internal, "item da fila não gravado / queue item not stored")
            }
            return item
        }
    }

    /// Adds a discussion answer marked publishable on a ticket to the queue (event handler).
    func enqueuePublishableAnswer(_ event: WorkflowV1.PublishableAnswerMarked, _ tx: any SQLExecutor) throws {
        let ticket = event.ticket ?? WorkflowV1.TicketSummary()
        try EditorQueue.add(tx, EditorQueue.NewItem(
            kind: .publishableAnswer, sourceKey: "answer:\(ticket.ticketID):\(event.entryID)", ticketID: ticket.ticketID,
            ticketCode: ticket.code, organizationID: ticket.organizationID, organizationName: ticket.organizationName,
            contactName: ticket.contact?.name ?? "", contactEmail: ticket.contact?.email ?? "", product: ticket.product,
            module: ticket.module, category: Self.categoryKey(ticket.category),
            question: event.question.isEmpty ? ticket.subject : event.question, answer: event.answer,
            requestedByID: event.agentID, requestedByName: ""))
    }

    /// The knowledge base's category key for a ticket category ("duvida", "exigencia_fiscal", ...).
    static func categoryKey(_ category: CommonV1.Category) -> String {
        switch category {
        case .unspecified: return ""
        case .problema: return "problema"
        case .duvida: return "duvida"
        case .exigenciaFiscal: return "exigencia_fiscal"
        case .necessidade: return "necessidade"
        case .sugestaoMelhoria: return "sugestao_melhoria"
        case .estrategica: return "estrategica"
        }
    }

    public func listEditorQueue(_ request: KnowledgeV1.ListEditorQueueRequest, caller: Caller) throws -> KnowledgeV1.ListEditorQueueResponse {
        try caller.require(.editor)
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 50, maximum: 200)
        var response = KnowledgeV1.ListEditorQueueResponse()
        response.items = try database.read { try EditorQueue.list($0, status: request.status, kind: request.kind, limit: limit) }
        return response
    }

    /// The ticket a queue item came from (`""` for an unknown item or one from no ticket), so
    /// the caller's right to see it can be checked before the item is reviewed.
    public func queueItemTicketID(_ id: String) throws -> String {
        try database.read { tx in try EditorQueue.find(tx, id: id)?.0.ticketID ?? "" }
    }

    /// Approves a queue item: anonymises its question and answer, then creates the FAQ article
    /// (FAQ requests) or the forum entry (publishable answers).
    public func approveQueueItem(_ request: KnowledgeV1.ApproveQueueItemRequest, caller: Caller) throws -> KnowledgeV1.ApproveQueueItemResponse {
        try caller.require(.editor)
        let response = try write("ApproveQueueItem", caller, request) { tx -> KnowledgeV1.ApproveQueueItemResponse in
            guard let (item, contactEmail, organizationID) = try EditorQueue.find(tx, id: request.id) else {
                throw RPCError(.notFound, "item da fila não encontrado / queue item not found")
            }
            guard item.status == .pending else {
                throw RPCError(.failedPrecondition, "este item já foi revisado / this item was already reviewed")
            }
            let names = [item.organizationName, item.contactName, contactEmail].filter { !$0.isEmpty }
            let codes = [item.ticketCode, item.ticketID, organizationID].filter { !$0.isEmpty }
            let question = Anonymizer.anonymize(request.question.isEmpty ? item.question : request.question, names: names, codes: codes)
            let answer = Anonymizer.anonymize(request.answer.isEmpty ? item.answer : request.answer, names: names, codes: codes)
            var violations: [FieldViolation] = []
            if question.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                violations.append(FieldViolation(field: "question", reason: "required", pt: "Informe a pergunta.", en: "A question is required."))
            }
            if answer.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                violations.append(FieldViolation(field: "answer", reason: "required", pt: "Informe a resposta.", en: "An answer is required."))
            }
            guard violations.isEmpty else {
                throw RPCError(.invalidArgument, "pergunta e resposta são obrigatórias / question and answer are required", violations: violations)
            }
            var response = KnowledgeV1.ApproveQueueItemResponse()
            switch item.kind {
            case .faqRequest:
                let input: ArticleInput
                do {
                    input = try ArticleInput(kind: .faq, title: String(question.prefix(ArticleInput.maxTitle)), bodyMarkdown: answer,
                                             product: item.product, module: item.module, category: item.category, tags: [],
                                             visibility: request.visibility == .unspecified ? .customers : request.visibility,
                                             state: request.publish ? .published : .draft).validated()
                } catch var error as RPCError {
                    // Named as this request names them (the article's title is the question, its body the answer).
                    let names = ["title": "question", "body_markdown": "answer"]
                    error.violations = error.violations.map { var violation = $0; violation.field = names[$0.field] ?? $0.field; return violation }
                    throw error
                }
                let article = try ArticleStore.create(tx, input, author: caller.principal)
                try EditorQueue.close(tx, id: item.id, status: .approved, reviewer: caller.principal.displayName, note: nil, articleID: article.id)
                response.article = article.message()
            default:
                let entry = try Forum.add(tx, queueID: item.id, question: question, answer: answer, product: item.product,
                                          module: item.module, category: item.category, approvedBy: caller.principal.displayName)
                try EditorQueue.close(tx, id: item.id, status: .approved, reviewer: caller.principal.displayName, note: nil, forumEntryID: entry.id)
                response.forumEntry = entry
            }
            response.item = try EditorQueue.find(tx, id: item.id)?.0
            return response
        }
        cache.refreshAfterWrite(database)
        return response
    }

    /// Longest rejection reason (the portal's field).
    static let maxRejectionReason = 500

    public func rejectQueueItem(_ request: KnowledgeV1.RejectQueueItemRequest, caller: Caller) throws -> KnowledgeV1.QueueItem {
        try caller.require(.editor)
        if let long = FieldViolation.length(of: request.reason, "reason", limit: Self.maxRejectionReason) {
            throw RPCError(.invalidArgument, "motivo longo demais / reason too long", violations: [long])
        }
        return try write("RejectQueueItem", caller, request) { tx in
            guard try EditorQueue.find(tx, id: request.id) != nil else {
                throw RPCError(.notFound, "item da fila não encontrado / queue item not found")
            }
            try EditorQueue.close(tx, id: request.id, status: .rejected, reviewer: caller.principal.displayName, note: request.reason)
            return try EditorQueue.find(tx, id: request.id)!.0
        }
    }

    /// Reviewed forum entries (customers only ever see these).
    public func listForum(_ request: KnowledgeV1.ListForumRequest, caller: Caller) throws -> KnowledgeV1.ListForumResponse {
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 20, maximum: 100)
        var response = KnowledgeV1.ListForumResponse()
        response.entries = try database.read { try Forum.list($0, product: request.product, module: request.module, category: request.category, limit: limit) }
        return response
    }

    /// One forum entry (every entry is reviewed and anonymised, so customers may read it).
    /// - Throws: `NOT_FOUND`.
    public func getForumEntry(_ request: KnowledgeV1.GetForumEntryRequest, caller: Caller) throws -> KnowledgeV1.ForumEntry {
        guard let entry = try database.read({ try Forum.find($0, id: request.id) }) else {
            throw RPCError(.notFound, "entrada do fórum não encontrada / forum entry not found: \(request.id)")
        }
        return entry
    }

    /// Records that an agent solved a ticket with an article and publishes
    /// `ArticleLinkedToTicket` through the outbox, in the same transaction.
    public func linkArticleToTicket(_ request: KnowledgeV1.LinkArticleToTicketRequest, caller: Caller) throws -> KnowledgeV1.LinkArticleToTicketResponse {
        try caller.require(.agent)
        try DeflectionStore.validTicket(request.ticketID)
        return try write("LinkArticleToTicket", caller, request, replayCheck: readable(request.articleID, by: caller)) { tx in
            let record = try ArticleStore.readable(tx, id: request.articleID, caller: caller)
            // Editors read drafts and archived articles, but the link puts the article's text in
            // the ticket's solution and its page's address in the customer's e-mail.
            guard record.state == .published else {
                throw RPCError(.failedPrecondition, "só um artigo publicado pode ser vinculado a uma ocorrência / "
                               + "only a published article can be linked to a ticket")
            }
            if let existing = try tx.queryOne("SELECT event_id, linked_at FROM kb_ticket_links WHERE ticket_id = ? AND article_id = ?",
                                              [.text(request.ticketID), .text(record.id)]) {
                var response = KnowledgeV1.LinkArticleToTicketResponse()
                response.eventID = try existing.text("event_id")
                response.linkedAtMs = try existing.int("linked_at")
                return response
            }
            let at = ArticleStore.now()
            var event = KnowledgeV1.ArticleLinkedToTicket()
            event.ticketID = request.ticketID
            event.articleID = record.id
            event.articleTitle = record.title
            event.articleText = record.bodyMarkdown
            event.articleURL = "\(articleURLBase)/\(record.id)"
            event.agentID = caller.principal.id
            event.agentName = caller.principal.displayName
            event.linkedAtMs = at
            let eventID = try publisher.publish(tx, event: event, key: request.ticketID, accessLevel: record.visibility == .customers ? 0 : 1)
            try tx.execute("INSERT INTO kb_ticket_links (ticket_id, article_id, agent_id, event_id, linked_at) VALUES (?, ?, ?, ?, ?)",
                           [.text(request.ticketID), .text(record.id), .text(caller.principal.id), .text(eventID), .integer(at)])
            var response = KnowledgeV1.LinkArticleToTicketResponse()
            response.eventID = eventID
            response.linkedAtMs = at
            return response
        }
    }
}
