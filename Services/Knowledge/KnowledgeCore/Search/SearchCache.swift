import Foundation
import Storage
import Synchronization

/// The vocabulary and synonyms a query needs, kept in memory and reloaded when another writer
/// (this process or another instance) changed them: `kb_meta` holds a version for each, checked
/// at most every `checkInterval`.
final class SearchCache: Sendable {
    private struct State {
        var vocabulary = Vocabulary()
        var vocabularyVersion: Int64 = -1
        var documents = 0
        var synonyms = SynonymSet(groups: [])
        var synonymsVersion: Int64 = -1
        var checkedAt: Date = .distantPast
    }

    private let state = Mutex(State())
    /// Serialises reloads so concurrent queries do not all rebuild.
    private let reloading = Mutex(())
    let checkInterval: TimeInterval

    init(checkInterval: TimeInterval = 1) {
        self.checkInterval = checkInterval
    }

    /// Forces a version check on the next query (after a write in this process).
    func invalidate() {
        state.withLock { $0.checkedAt = .distantPast }
    }

    /// The current vocabulary and synonyms.
    func current(_ database: any Database) throws -> (Vocabulary, SynonymSet, Int) {
        let snapshot = state.withLock { ($0.vocabulary, $0.synonyms, $0.checkedAt, $0.documents) }
        if Date().timeIntervalSince(snapshot.2) < checkInterval { return (snapshot.0, snapshot.1, snapshot.3) }
        return try reloading.withLock { _ in
            let (vocabularyVersion, synonymsVersion, checkedAt) = state.withLock { ($0.vocabularyVersion, $0.synonymsVersion, $0.checkedAt) }
            if Date().timeIntervalSince(checkedAt) < checkInterval {
                return state.withLock { ($0.vocabulary, $0.synonyms, $0.documents) }
            }
            let versions = try database.read { tx in
                try tx.query("SELECT key, value FROM kb_meta", []).reduce(into: [String: Int64]()) {
                    $0[try $1.text("key")] = try $1.int("value")
                }
            }
            var vocabulary: Vocabulary?
            var synonyms: SynonymSet?
            var documents: Int?
            if versions["vocabulary"] != vocabularyVersion {
                documents = Int(try database.read { try $0.scalar("SELECT COUNT(*) FROM kb_articles", []) }.integerValue ?? 0)
                vocabulary = Vocabulary(try database.read { tx in
                    try tx.query("SELECT term, df_all, df_public FROM kb_terms WHERE df_all > 0", []).map {
                        Vocabulary.Entry(word: try $0.text("term"), documents: Int(try $0.int("df_all")),
                                         publicDocuments: Int(try $0.int("df_public")))
                    }
                })
            }
            if versions["synonyms"] != synonymsVersion {
                synonyms = SynonymSet(groups: try database.read { try SynonymStore.list($0) }.map(\.terms))
            }
            return state.withLock { state in
                if let vocabulary { state.vocabulary = vocabulary; state.vocabularyVersion = versions["vocabulary"] ?? 0 }
                if let documents { state.documents = documents }
                if let synonyms { state.synonyms = synonyms; state.synonymsVersion = versions["synonyms"] ?? 0 }
                state.checkedAt = Date()
                return (state.vocabulary, state.synonyms, state.documents)
            }
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
