import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// The knowledge base over one database: every operation the RPC API offers, with permission
/// checks from the caller. Search and suggestions rank in an in-memory index built in the
/// background from `init` and kept current from the database (see ``SearchCache``). The API layer (``KnowledgeService``) only maps calls to it; tests use
/// it directly on both engines.
///
/// ```swift
/// let kb = try KnowledgeBase(database: database)
/// let article = try kb.createArticle(request, caller: Caller(editor))
/// let hits = try kb.suggest(suggestRequest, caller: Caller(customer)).hits
/// ```
public final class KnowledgeBase: Sendable {
    public let database: any Database
    let cache: SearchCache
    let publisher: EventPublisher
    /// Base of the article links sent in events (`<base>/<id>`).
    public let articleURLBase: String
    /// The portal's page of an article on a gateway with the default address (`scripts/start` and
    /// the compose file point it at `GATEWAY_PUBLIC_URL`). It was `/kb/artigos`, a path nothing
    /// serves, so the link in a ticket's solution and in the customer's e-mail led nowhere.
    public static let defaultArticleURLBase = "http://127.0.0.1:8080/portal/#/base/artigo"

    /// - Parameter articleURLBase: where the portal shows an article (`KNOWLEDGE_ARTICLE_URL_BASE`).
    public convenience init(database: any Database, publisher: EventPublisher = EventPublisher(source: "knowledge"),
                articleURLBase: String = KnowledgeBase.defaultArticleURLBase, cacheCheckInterval: TimeInterval = 1) throws {
        try self.init(database: database, publisher: publisher, articleURLBase: articleURLBase, cacheCheckInterval: cacheCheckInterval,
                      inMemoryIndex: true)
    }

    /// - Parameter inMemoryIndex: `false` answers every query with the database's own engine
    ///   (what happens before the index is built; tests of that path).
    init(database: any Database, publisher: EventPublisher = EventPublisher(source: "knowledge"),
         articleURLBase: String = KnowledgeBase.defaultArticleURLBase, cacheCheckInterval: TimeInterval = 1, inMemoryIndex: Bool) throws {
        self.database = database
        self.publisher = publisher
        self.articleURLBase = articleURLBase
        cache = SearchCache(checkInterval: cacheCheckInterval, buildsIndex: inMemoryIndex)
        try database.write { try SynonymStore.seedDefaults($0) }
        cache.start(database)
    }

    /// Waits until the in-memory search index is built (it builds in the background from
    /// `init`; until then queries use the database's full-text engine).
    public func waitForSearchIndex() throws {
        try cache.waitForIndex(database)
    }

    /// Applies changes other instances made, now, instead of at the next background check.
    public func refreshSearchIndex() throws {
        try cache.refreshTerms(database)
        try cache.refreshIndex(database)
    }

    // MARK: Articles

    /// Creates an article (editors). An `idempotency-key` makes a retry answer the first call's
    /// article instead of a second one.
    public func createArticle(_ request: KnowledgeV1.CreateArticleRequest, caller: Caller, idempotencyKey: String? = nil) throws
        -> KnowledgeV1.Article {
        try caller.require(.editor)
        let input = try ArticleInput(kind: request.kind, title: request.title, bodyMarkdown: request.bodyMarkdown, product: request.product,
                                     module: request.module, category: request.category, tags: request.tags,
                                     visibility: request.visibility, state: request.state).validated()
        let article = try Idempotent.write(database, key: idempotencyKey, scope: "knowledge.CreateArticle|\(caller.principal.id)", request) {
            try ArticleStore.create($0, input, author: caller.principal).message()
        }
        cache.refreshAfterWrite(database)
        return article
    }

    /// Runs a change once per idempotency key of `caller` (``Caller/idempotencyKey``; none:
    /// every call), scoped by `operation` and the caller: a retry gets the first answer, the same
    /// key with another request `FAILED_PRECONDITION` (``Idempotent``). The caller's role and a
    /// ticket the request names are checked before (a retry included, see
    /// ``KnowledgeService/register(_:principals:tickets:router:)``); `replayCheck` adds what
    /// only the database knows (``readable(_:by:)``), run again before an answer is replayed.
    func write<Request: ProtoMessage, Response: ProtoMessage>(_ operation: String, _ caller: Caller, _ request: Request,
                                                               replayCheck: Idempotent.ReplayCheck? = nil,
                                                               _ body: (any SQLExecutor) throws -> Response) throws -> Response {
        try Idempotent.write(database, key: caller.idempotencyKey, scope: "knowledge.\(operation)|\(caller.principal.id)", request,
                             replayCheck: replayCheck, body)
    }

    /// A replay's check that `caller` may still read article `articleID` (it may have become
    /// internal or a draft since the first call): `NOT_FOUND` otherwise, as for a missing one.
    func readable(_ articleID: String, by caller: Caller) -> Idempotent.ReplayCheck {
        { tx in _ = try ArticleStore.readable(tx, id: articleID, caller: caller) }
    }

    public func updateArticle(_ request: KnowledgeV1.UpdateArticleRequest, caller: Caller) throws -> KnowledgeV1.Article {
        try caller.require(.editor)
        let input = try ArticleInput(kind: request.kind, title: request.title, bodyMarkdown: request.bodyMarkdown, product: request.product,
                                     module: request.module, category: request.category, tags: request.tags,
                                     visibility: request.visibility, state: request.state).validated()
        // The version the change starts from is not part of the change: the gateway's merge
        // sends the version it read, which a retry reads one higher (the first call's edit).
        var change = request
        change.expectedVersion = 0
        let article = try write("UpdateArticle", caller, change) { tx in
            let record = try ArticleStore.update(tx, id: request.id, expectedVersion: Int(request.expectedVersion), input, editor: caller.principal)
            let votes = try DeflectionStore.votes(tx, articleID: record.id)
            return record.message(helpful: votes.0, unhelpful: votes.1)
        }
        cache.refreshAfterWrite(database)
        return article
    }

    public func getArticle(_ request: KnowledgeV1.GetArticleRequest, caller: Caller) throws -> KnowledgeV1.Article {
        if !request.draftID.isEmpty {
            try DeflectionStore.validDraft(request.draftID)
            return try database.write { tx in
                let record = try ArticleStore.readable(tx, id: request.id, caller: caller)
                try DeflectionStore.recordOpened(tx, draftID: request.draftID, article: record, actor: caller.principal.id)
                let votes = try DeflectionStore.votes(tx, articleID: record.id)
                return record.message(helpful: votes.0, unhelpful: votes.1)
            }
        }
        return try database.read { tx in
            let record = try ArticleStore.readable(tx, id: request.id, caller: caller)
            let votes = try DeflectionStore.votes(tx, articleID: record.id)
            return record.message(helpful: votes.0, unhelpful: votes.1)
        }
    }

    public func listArticleVersions(_ request: KnowledgeV1.ListArticleVersionsRequest, caller: Caller) throws -> KnowledgeV1.ListArticleVersionsResponse {
        try caller.require(.agent)
        return try database.read { tx in
            _ = try ArticleStore.readable(tx, id: request.id, caller: caller)
            var response = KnowledgeV1.ListArticleVersionsResponse()
            response.versions = try ArticleStore.versions(tx, id: request.id)
            return response
        }
    }

    public func listArticles(_ request: KnowledgeV1.ListArticlesRequest, caller: Caller) throws -> KnowledgeV1.ListArticlesResponse {
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 50, maximum: 200)
        var response = KnowledgeV1.ListArticlesResponse()
        response.articles = try database.read { tx in
            try ArticleStore.list(tx, caller: caller, product: request.product, module: request.module, category: request.category,
                                  kind: request.kind, state: request.state, limit: limit, offset: max(0, Int(request.offset)))
        }.map { $0.message() }
        return response
    }

    /// FAQ articles and forum entries of a category/product, shown before the ticket form.
    public func listFaq(_ request: KnowledgeV1.ListFaqRequest, caller: Caller) throws -> KnowledgeV1.ListFaqResponse {
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 20, maximum: 100)
        return try database.read { tx in
            var response = KnowledgeV1.ListFaqResponse()
            response.articles = try ArticleStore.list(tx, caller: caller, product: request.product, module: request.module,
                                                      category: request.category, kind: .faq, state: .published, limit: limit, offset: 0)
                .map { $0.message() }
            response.forum = try Forum.list(tx, product: request.product, module: request.module, category: request.category, limit: limit)
            return response
        }
    }

    // MARK: Search

    public func search(_ request: KnowledgeV1.SearchRequest, caller: Caller) throws -> KnowledgeV1.SearchResponse {
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 10, maximum: 50)
        let text = try Self.validQuery(request.query, field: "query", allowEmpty: false)
        let snapshot = try cache.current(database)
        let plan = QueryPlan.build(text, synonyms: snapshot.synonyms, vocabulary: snapshot.vocabulary, publicOnly: caller.publicOnly,
                                   documents: snapshot.index?.count ?? snapshot.documents)
        let filter = SearchFilter(product: request.product, module: request.module, category: request.category, kind: request.kind,
                                  publicOnly: caller.publicOnly, includeForum: true)
        var response = KnowledgeV1.SearchResponse()
        response.hits = try run(plan, [filter], snapshot: snapshot, limit: limit)
        response.corrections = plan.corrections
        return response
    }

    /// Suggestions for a subject being typed: the last word counts as a prefix. An empty subject
    /// gets no suggestions (not an error: it is the first keystroke).
    public func suggest(_ request: KnowledgeV1.SuggestRequest, caller: Caller) throws -> KnowledgeV1.SuggestResponse {
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 5, maximum: 10)
        let text = try Self.validQuery(request.subject, field: "subject", allowEmpty: true)
        if !request.draftID.isEmpty { try DeflectionStore.validDraft(request.draftID) }
        var response = KnowledgeV1.SuggestResponse()
        guard !text.isEmpty else { return response }
        let snapshot = try cache.current(database)
        let plan = QueryPlan.build(text, synonyms: snapshot.synonyms, vocabulary: snapshot.vocabulary, lastWordIsPartial: true,
                                   publicOnly: caller.publicOnly, documents: snapshot.index?.count ?? snapshot.documents)
        var filters = [SearchFilter(product: request.product, module: request.module, category: request.category, publicOnly: caller.publicOnly,
                                    includeForum: true)]
        if !request.category.isEmpty || !request.module.isEmpty {
            // Nothing in the exact module/category: widen to the product.
            filters.append(SearchFilter(product: request.product, publicOnly: caller.publicOnly, includeForum: true))
        }
        response.hits = try run(plan, filters, snapshot: snapshot, limit: limit)
        let shown = response.hits.filter { !$0.forumEntry }.map(\.id)
        if !request.draftID.isEmpty && !shown.isEmpty {
            try database.write { tx in
                try DeflectionStore.recordShown(tx, draftID: request.draftID, articleIDs: shown, actor: caller.principal.id,
                                                product: request.product, module: request.module)
            }
        }
        return response
    }

    /// Ranks with the in-memory index and reads only the top hits from the database, or (before
    /// the index is built) asks the database's engine. The first filter with hits wins.
    private func run(_ plan: QueryPlan, _ filters: [SearchFilter], snapshot: SearchSnapshot, limit: Int) throws -> [KnowledgeV1.ArticleHit] {
        guard !plan.isEmpty else { return [] }
        guard let index = snapshot.index else {
            return try database.read { tx in
                for filter in filters {
                    let hits = try SearchEngine.run(tx, plan, filter, limit: limit)
                    if !hits.isEmpty { return hits }
                }
                return []
            }
        }
        let (concepts, all) = plan.retrieval
        let phrases = concepts.map(\.phrases)
        for filter in filters {
            // A few extra in case the index is behind a change made elsewhere (rows are checked again).
            let matches = index.search(phrases, all: all, filter: filter.indexFilter, limit: limit + 3)
            guard !matches.isEmpty else { continue }
            let hits = try database.read { try HitLoader.load($0, matches, filter: filter) }
            if !hits.isEmpty { return Array(hits.prefix(limit)) }
        }
        return []
    }

    /// The engine-independent plan of a query as `caller` (operators' diagnostics): each concept
    /// with its stem phrases and estimated frequency, `*` marking the common ones, and whether
    /// every concept is required.
    public func describePlan(_ query: String, caller: Caller, partial: Bool = false) throws -> String {
        let snapshot = try cache.current(database)
        let plan = QueryPlan.build(query, synonyms: snapshot.synonyms, vocabulary: snapshot.vocabulary, lastWordIsPartial: partial,
                                   publicOnly: caller.publicOnly, documents: snapshot.index?.count ?? snapshot.documents)
        let concepts = plan.concepts.indices.map { index in
            plan.concepts[index].phrases.map { $0.joined(separator: " ") }.joined(separator: "|")
                + "(\(plan.concepts[index].frequency)\(plan.common[index] ? "*" : ""))"
        }
        return (plan.retrieval.all ? "AND " : "OR ") + concepts.joined(separator: " ")
    }

    /// The engine's query plan for a search as `caller` (operators' diagnostics): the compiled
    /// engine query, then the plan rows.
    public func explainSearch(_ query: String, caller: Caller, partial: Bool = false) throws -> String {
        let snapshot = try cache.current(database)
        let plan = QueryPlan.build(query, synonyms: snapshot.synonyms, vocabulary: snapshot.vocabulary, lastWordIsPartial: partial,
                                   publicOnly: caller.publicOnly, documents: snapshot.documents)
        let filter = SearchFilter(publicOnly: caller.publicOnly)
        return try database.read { try SearchEngine.run($0, plan, filter, limit: 10, explain: true) }.first?.snippet ?? "(empty plan)"
    }

    // MARK: Synonyms

    public func listSynonyms(caller: Caller) throws -> KnowledgeV1.ListSynonymsResponse {
        try caller.require(.agent)
        var response = KnowledgeV1.ListSynonymsResponse()
        response.groups = try database.read { try SynonymStore.list($0) }
        return response
    }

    public func putSynonymGroup(_ request: KnowledgeV1.PutSynonymGroupRequest, caller: Caller) throws -> KnowledgeV1.SynonymGroup {
        try caller.require(.editor)
        let group = try write("PutSynonymGroup", caller, request) { try SynonymStore.put($0, request.group ?? KnowledgeV1.SynonymGroup()) }
        cache.refreshAfterWrite(database)
        return group
    }

    public func deleteSynonymGroup(_ request: KnowledgeV1.DeleteSynonymGroupRequest, caller: Caller) throws {
        try caller.require(.editor)
        try database.write { try SynonymStore.delete($0, id: request.id) }
        cache.refreshAfterWrite(database)
    }

    // MARK: Deflection

    public func recordArticleOpened(_ request: KnowledgeV1.RecordArticleOpenedRequest, caller: Caller) throws {
        try DeflectionStore.validDraft(request.draftID)
        _ = try write("RecordArticleOpened", caller, request, replayCheck: readable(request.articleID, by: caller)) { tx in
            let record = try ArticleStore.readable(tx, id: request.articleID, caller: caller)
            try DeflectionStore.recordOpened(tx, draftID: request.draftID, article: record, actor: caller.principal.id)
            return KnowledgeV1.RecordArticleOpenedResponse()
        }
    }

    public func recordTicketSubmitted(_ request: KnowledgeV1.RecordTicketSubmittedRequest, caller: Caller) throws {
        try DeflectionStore.validDraft(request.draftID)
        try DeflectionStore.validTicket(request.ticketID)
        _ = try write("RecordTicketSubmitted", caller, request) { tx in
            try DeflectionStore.recordTicket(tx, draftID: request.draftID, ticketID: request.ticketID, actor: caller.principal.id)
            return KnowledgeV1.RecordTicketSubmittedResponse()
        }
    }

    /// One vote per person and article; `draft_id` is optional (a vote outside a ticket draft).
    public func vote(_ request: KnowledgeV1.VoteRequest, caller: Caller) throws -> KnowledgeV1.VoteResponse {
        if !request.draftID.isEmpty { try DeflectionStore.validDraft(request.draftID) }
        return try write("Vote", caller, request, replayCheck: readable(request.articleID, by: caller)) { tx in
            _ = try ArticleStore.readable(tx, id: request.articleID, caller: caller)
            let (up, down) = try DeflectionStore.vote(tx, articleID: request.articleID, voter: caller.principal.id, helpful: request.helpful,
                                                      draftID: request.draftID)
            var response = KnowledgeV1.VoteResponse()
            response.helpfulVotes = Int32(up)
            response.unhelpfulVotes = Int32(down)
            return response
        }
    }

    public func deflectionReport(_ request: KnowledgeV1.DeflectionReportRequest, caller: Caller, now: Int64? = nil) throws -> KnowledgeV1.DeflectionReportResponse {
        let now = now ?? ArticleStore.now()
        try caller.require(.agent)
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 5, maximum: 50)
        return try database.read { tx in
            try DeflectionReport.compute(tx, product: request.product, module: request.module, from: request.fromMs,
                                         to: request.toMs == 0 ? now : request.toMs, limit: limit, now: now)
        }
    }

    // MARK: Helpers

    /// The query text, or `INVALID_ARGUMENT` when empty (unless allowed) or longer than
    /// ``QueryPlan/maxLength``. NUL and query syntax are not errors: the analyser treats them as
    /// separators, so the search is literal.
    static func validQuery(_ text: String, field: String, allowEmpty: Bool) throws -> String {
        if text.count > QueryPlan.maxLength {
            throw RPCError(.invalidArgument, "consulta longa demais / query too long", violations: [
                FieldViolation(field: field, reason: "too_long", pt: "No máximo \(QueryPlan.maxLength) caracteres.",
                               en: "At most \(QueryPlan.maxLength) characters."),
            ])
        }
        let trimmed = text.replacingOccurrences(of: "\u{0}", with: " ")
        if !allowEmpty && trimmed.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RPCError(.invalidArgument, "informe o que procurar / a query is required", violations: [
                FieldViolation(field: field, reason: "required", pt: "Digite ao menos uma palavra.", en: "Type at least one word."),
            ])
        }
        return trimmed
    }
}
