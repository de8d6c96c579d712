import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// The knowledge service: its schema and the RPC methods and background work it registers.
///
/// Configuration (environment): `KNOWLEDGE_ARTICLE_URL_BASE` (default
/// ``KnowledgeBase/defaultArticleURLBase``, the portal's article page), the base of article links
/// sent in `ArticleLinkedToTicket` (they reach the customer in the ticket's solution and its e-mail); the database engine comes from
/// `KNOWLEDGE_DATABASE_URL` (SQLite FTS5 when unset, PostgreSQL text search when set).
public enum KnowledgeService {
    /// Versioned migrations of the knowledge database (appended to, never edited).
    public static let migrations: [Migration] = KnowledgeSchema.migrations

    /// Registers the service's methods, its event consumer and its outbox relay.
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws {
        let knowledge = try KnowledgeBase(
            database: runtime.database,
            articleURLBase: runtime.configuration.environment["KNOWLEDGE_ARTICLE_URL_BASE"].flatMap { $0.isEmpty ? nil : $0 }
                ?? KnowledgeBase.defaultArticleURLBase)
        register(knowledge, principals: runtime.principals, tickets: TicketAccessCheck(runtime: runtime), router: &router)
        var consumer = EventConsumer(consumer: "knowledge", batched: true)
        consumer.on(WorkflowV1.PublishableAnswerMarked.self) { event, _, tx in
            try knowledge.enqueuePublishableAnswer(event, tx)
        }
        consumer.register(in: &router, database: runtime.database, logger: runtime.logger)
        runtime.addBackground(EventPublisher(source: "knowledge").relay(runtime: runtime))
    }

    /// Registers every `Knowledge` method over `knowledge`, verifying each call's principal.
    ///
    /// The methods about one ticket (`RequestFaq` naming a ticket, `LinkArticleToTicket`) first
    /// ask workflow through `tickets` whether the caller may see it (``TicketAccessCheck``:
    /// agents, chefes, customers and integration keys; services and administrators are trusted):
    /// `NOT_FOUND`, as for a missing ticket, and nothing recorded when it is hidden from them.
    /// The editors' queue lists and reviews only items of tickets the caller may see.
    /// `RecordTicketSubmitted` is not checked: it only counts a deflection, right after the
    /// ticket was opened (workflow may not have it yet), and shows nothing of the ticket.
    public static func register(_ knowledge: KnowledgeBase, principals: PrincipalSigner, tickets: TicketAccessCheck,
                                router: inout RPCRouter) {
        typealias K = KnowledgeV1.Knowledge
        @Sendable func caller(_ context: ServerContext) throws -> Caller {
            var caller = Caller(try principals.require(context))
            caller.idempotencyKey = context.idempotencyKey
            return caller
        }
        /// The caller, once workflow said they may see `ticketID`.
        @Sendable func caller(_ context: ServerContext, seeing ticketID: String) throws -> Caller {
            let caller = try caller(context)
            try tickets.require(ticketID, caller: caller.principal, context: context)
            return caller
        }
        router.register(K.createArticle) { request, context in
            try knowledge.createArticle(request, caller: caller(context), idempotencyKey: context.idempotencyKey)
        }
        router.register(K.updateArticle) { request, context in try knowledge.updateArticle(request, caller: caller(context)) }
        router.register(K.getArticle) { request, context in try knowledge.getArticle(request, caller: caller(context)) }
        router.register(K.listArticleVersions) { request, context in try knowledge.listArticleVersions(request, caller: caller(context)) }
        router.register(K.listArticles) { request, context in try knowledge.listArticles(request, caller: caller(context)) }
        router.register(K.listFaq) { request, context in try knowledge.listFaq(request, caller: caller(context)) }
        router.register(K.search) { request, context in try knowledge.search(request, caller: caller(context)) }
        router.register(K.suggest) { request, context in try knowledge.suggest(request, caller: caller(context)) }
        router.register(K.listSynonyms) { _, context in try knowledge.listSynonyms(caller: caller(context)) }
        router.register(K.putSynonymGroup) { request, context in try knowledge.putSynonymGroup(request, caller: caller(context)) }
        router.register(K.deleteSynonymGroup) { request, context in
            try knowledge.deleteSynonymGroup(request, caller: caller(context))
            return KnowledgeV1.DeleteSynonymGroupResponse()
        }
        router.register(K.recordArticleOpened) { request, context in
            try knowledge.recordArticleOpened(request, caller: caller(context))
            return KnowledgeV1.RecordArticleOpenedResponse()
        }
        router.register(K.recordTicketSubmitted) { request, context in
            try knowledge.recordTicketSubmitted(request, caller: caller(context))
            return KnowledgeV1.RecordTicketSubmittedResponse()
        }
        router.register(K.vote) { request, context in try knowledge.vote(request, caller: caller(context)) }
        router.register(K.deflectionReport) { request, context in try knowledge.deflectionReport(request, caller: caller(context)) }
        router.register(K.requestFaq) { request, context in
            try knowledge.requestFaq(request, caller: caller(context, seeing: request.ticketID), idempotencyKey: context.idempotencyKey)
        }
        // The editors' queue holds tickets' texts: an editor lists and reviews only the items of
        // tickets they may see (an FAQ asked from a confidential ticket stays with editors at
        // its level).
        router.register(K.listEditorQueue) { request, context in
            let caller = try caller(context)
            var response = try knowledge.listEditorQueue(request, caller: caller)
            response.items = try tickets.visible(response.items, ticketID: \.ticketID, caller: caller.principal, context: context)
            return response
        }
        router.register(K.approveQueueItem) { request, context in
            try knowledge.approveQueueItem(request, caller: caller(context, seeing: try knowledge.queueItemTicketID(request.id)))
        }
        router.register(K.rejectQueueItem) { request, context in
            try knowledge.rejectQueueItem(request, caller: caller(context, seeing: try knowledge.queueItemTicketID(request.id)))
        }
        router.register(K.listForum) { request, context in try knowledge.listForum(request, caller: caller(context)) }
        router.register(K.getForumEntry) { request, context in try knowledge.getForumEntry(request, caller: caller(context)) }
        router.register(K.linkArticleToTicket) { request, context in
            try knowledge.linkArticleToTicket(request, caller: caller(context, seeing: request.ticketID))
        }
    }
}
