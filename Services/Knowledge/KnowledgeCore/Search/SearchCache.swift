import Dispatch
import Foundation
import Messages
import Storage
import Synchronization

/// What a query reads: the vocabulary, the synonyms and the in-memory index, replaced as a whole
/// so a query always sees one consistent state without waiting for a reload.
struct SearchSnapshot: Sendable {
    var vocabulary = Vocabulary()
    var synonyms = SynonymSet(groups: [])
    /// `nil` until the first build finishes (queries then use the database's own engine).
    var index: InvertedIndex?
    /// Articles in the base (for the "common concept" threshold).
    var documents = 0
    var termsLoaded = false
}

/// Keeps the ``SearchSnapshot`` current with the database, for this instance and others
/// writing to the same database.
///
/// - At start, the stored stems are brought to the current analysis (``Reanalysis``), then a
///   background build reads every published article and forum entry.
/// - After a write in this process, the writer applies its change at once (``refreshAfterWrite(_:)``),
///   so its next query sees it.
/// - Changes made by other instances are found through version counters in `kb_meta`
///   (`index`, `vocabulary`, `synonyms`): a query older than `checkInterval` since the last check
///   schedules a background refresh and is answered from the current snapshot meanwhile. The index
///   reads only rows whose `index_version` is newer than the last one applied (see ``IndexVersion``).
///
/// Queries never rebuild anything; the only wait is the very first vocabulary load of a process.
final class SearchCache: Sendable {
    private struct TermsState {
        var vocabularyVersion: Int64 = -1
        var synonymsVersion: Int64 = -1
    }

    private struct IndexState {
        var index = InvertedIndex()
        var version: Int64 = -1
    }

    private struct Schedule {
        var checkedAt: Date = .distantPast
        var pending = false
    }

    private let snapshot = Mutex(SearchSnapshot())
    /// Held while the vocabulary and synonyms reload.
    private let terms = Mutex(TermsState())
    /// Held while the index is built or updated; owns the mutable copy of the index.
    private let indexState = Mutex(IndexState())
    private let schedule = Mutex(Schedule())
    /// Whether this process brought the stored stems to the current analysis (``Reanalysis``);
    /// held while it does.
    private let reanalysed = Mutex(false)
    private let queue = DispatchQueue(label: "knowledge.search-index", qos: .utility)
    /// Longest time between two checks for other instances' changes (while queries arrive).
    let checkInterval: TimeInterval
    /// `false` keeps every query on the database engines (tests of that path).
    let buildsIndex: Bool

    init(checkInterval: TimeInterval = 1, buildsIndex: Bool = true) {
        self.checkInterval = checkInterval
        self.buildsIndex = buildsIndex
    }

    /// Starts the first load in the background.
    func start(_ database: any Database) {
        schedule.withLock { $0.pending = true }
        queue.async { [self] in backgroundRefresh(database) }
    }

    /// The current snapshot; schedules a background check when the last one is older than
    /// `checkInterval`.
    func current(_ database: any Database) throws -> SearchSnapshot {
        var current = snapshot.withLock { $0 }
        if !current.termsLoaded {
            try refreshTerms(database)
            current = snapshot.withLock { $0 }
        }
        let due = schedule.withLock { schedule in
            guard !schedule.pending, Date().timeIntervalSince(schedule.checkedAt) >= checkInterval else { return false }
            schedule.pending = true
            return true
        }
        if due { queue.async { [self] in backgroundRefresh(database) } }
        return current
    }

    /// Applies the changes just committed by this process before the writer returns. Failures are
    /// left to the next background refresh (the write itself succeeded).
    func refreshAfterWrite(_ database: any Database) {
        try? refreshTerms(database)
        try? refreshIndex(database)
    }

    /// Waits until the stored stems are current and the index is built (benchmarks, tests).
    func waitForIndex(_ database: any Database) throws {
        try reanalyse(database)
        if buildsIndex, snapshot.withLock({ $0.index == nil }) { try refreshIndex(database) }
    }

    /// Runs ``Reanalysis`` once per process (later calls wait for the first, then return).
    func reanalyse(_ database: any Database) throws {
        try reanalysed.withLock { done in
            guard !done else { return }
            try Reanalysis.run(database)
            done = true
        }
    }

    private func backgroundRefresh(_ database: any Database) {
        // Before the first build, so it reads current stems (a failure is tried again at the next check).
        try? reanalyse(database)
        try? refreshTerms(database)
        try? refreshIndex(database)
        schedule.withLock { $0.pending = false; $0.checkedAt = Date() }
    }

    /// Reloads the vocabulary and synonyms when their versions changed.
    func refreshTerms(_ database: any Database) throws {
        try terms.withLock { state in
            let versions = try database.read { tx in
                try tx.query("SELECT key, value FROM kb_meta", []).reduce(into: [String: Int64]()) {
                    $0[try $1.text("key")] = try $1.int("value")
                }
            }
            var vocabulary: Vocabulary?
            var documents: Int?
            var synonyms: SynonymSet?
            if versions["vocabulary"] != state.vocabularyVersion {
                let (count, entries) = try database.read { tx in
                    (Int(try tx.scalar("SELECT COUNT(*) FROM kb_articles", []).integerValue ?? 0),
                     try tx.query("SELECT term, df_all, df_public FROM kb_terms WHERE df_all > 0", []).map {
                         Vocabulary.Entry(word: try $0.text("term"), documents: Int(try $0.int("df_all")),
                                          publicDocuments: Int(try $0.int("df_public")))
                     })
                }
                vocabulary = Vocabulary(entries)
                documents = count
            }
            if versions["synonyms"] != state.synonymsVersion {
                synonyms = SynonymSet(groups: try database.read { try SynonymStore.list($0) }.map(\.terms))
            }
            snapshot.withLock { snapshot in
                if let vocabulary { snapshot.vocabulary = vocabulary }
                if let documents { snapshot.documents = documents }
                if let synonyms { snapshot.synonyms = synonyms }
                snapshot.termsLoaded = true
            }
            if vocabulary != nil { state.vocabularyVersion = versions["vocabulary"] ?? 0 }
            if synonyms != nil { state.synonymsVersion = versions["synonyms"] ?? 0 }
        }
    }

    /// Builds the index (first call) or applies the rows changed since the last version seen.
    func refreshIndex(_ database: any Database) throws {
        guard buildsIndex else { return }
        try indexState.withLock { state in
            let since = state.version
            // One read transaction: the counter and the rows come from the same snapshot.
            let changes = try database.read { tx -> (version: Int64, articles: [Row], forum: [Row])? in
                let version = try tx.scalar("SELECT value FROM kb_meta WHERE key = 'index'", []).integerValue ?? 0
                guard version != since else { return nil }
                let articles = try tx.query("""
                    SELECT id, kind, product, module, category, visibility, state, index_title, index_body
                    FROM kb_articles WHERE index_version > ?
                    """, [.integer(since)])
                let forum = try tx.query("SELECT id, question, answer, product, module, category FROM kb_forum WHERE index_version > ?",
                                         [.integer(since)])
                return (version, articles, forum)
            }
            guard let changes else {
                if snapshot.withLock({ $0.index == nil }) { snapshot.withLock { $0.index = state.index } }
                return
            }
            for row in changes.articles {
                let id = try row.text("id")
                guard try row.int("state") == Int64(KnowledgeV1.ArticleState.published.rawValue) else {
                    state.index.remove(.article, id)
                    continue
                }
                state.index.upsert(InvertedIndex.Entry(
                    id: id, source: .article, kind: Int32(try row.int("kind")),
                    isPublic: try row.int("visibility") == Int64(KnowledgeV1.Visibility.customers.rawValue),
                    product: try row.text("product"), module: try row.text("module"), category: try row.text("category"),
                    title: try row.text("index_title"), body: try row.text("index_body")))
            }
            for row in changes.forum {
                state.index.upsert(InvertedIndex.Entry(
                    id: try row.text("id"), source: .forum, kind: 0, isPublic: true,
                    product: try row.text("product"), module: try row.text("module"), category: try row.text("category"),
                    title: TextAnalyzer.indexText(try row.text("question")), body: TextAnalyzer.indexText(try row.text("answer"))))
            }
            state.version = changes.version
            let published = state.index
            snapshot.withLock { $0.index = published }
        }
    }
}

extension SQLValue {
    var integerValue: Int64? {
        switch self {
        case .integer(let value): return value
        case .text(let text): return Int64(text)
        case .real(let value): return Int64(value)
        default: return nil
        }
    }
}
