import Foundation
import Messages
import Storage

/// Computes deflection from the recorded events.
///
/// A draft that opened at least one article is **deflected** when no ticket came from it between
/// its first opening and 30 minutes after its last opening; it **became a ticket** when one did;
/// it is **pending** while that window is still open. The rate is deflected / (deflected +
/// tickets). Each article collects the outcomes of the drafts that opened it and its votes; its
/// score is (deflected + helpful) − (tickets + unhelpful).
enum DeflectionReport {
    static let window: Int64 = 30 * 60 * 1000

    struct Counts {
        var drafts = 0, opened = 0, deflected = 0, tickets = 0, pending = 0
    }

    struct ArticleCounts {
        var shown = Set<String>(), opened = Set<String>(), deflected = 0, tickets = 0, helpful = 0, unhelpful = 0
    }

    static func compute(_ tx: any SQLExecutor, product: String, module: String, from: Int64, to: Int64, limit: Int,
                        now: Int64 = ArticleStore.now()) throws -> KnowledgeV1.DeflectionReportResponse {
        let events = try tx.query("""
            SELECT draft_id, kind, article_id, product, module, at FROM kb_events
            WHERE at >= ? AND at <= ? ORDER BY draft_id, at
            """, [.integer(from), .integer(to + window)])
        struct Draft { var product = "", module = "", shown: [String] = [], opens: [(String, Int64)] = [], tickets: [Int64] = [], firstAt: Int64 = .max }
        var drafts: [String: Draft] = [:]
        for row in events {
            let id = try row.text("draft_id")
            let at = try row.int("at")
            var draft = drafts[id] ?? Draft()
            let kind = try row.text("kind")
            if kind != "ticket" && at <= to { draft.firstAt = min(draft.firstAt, at) }
            if draft.product.isEmpty, kind != "ticket" {
                draft.product = try row.text("product")
                draft.module = try row.text("module")
            }
            switch kind {
            case "shown": draft.shown.append(try row.text("article_id"))
            case "opened": draft.opens.append((try row.text("article_id"), at))
            default: draft.tickets.append(at)
            }
            drafts[id] = draft
        }
        let articleInfo = try Dictionary(tx.query("SELECT id, title, product, module FROM kb_articles", []).map {
            (try $0.text("id"), (try $0.text("title"), try $0.text("product"), try $0.text("module")))
        }, uniquingKeysWith: { a, _ in a })

        var groups: [String: Counts] = [:]
        var articles: [String: ArticleCounts] = [:]
        for (draftID, draft) in drafts where draft.firstAt != .max {
            guard product.isEmpty || draft.product == product, module.isEmpty || draft.module == module else { continue }
            let key = draft.product + "\u{1}" + draft.module
            var counts = groups[key] ?? Counts()
            counts.drafts += 1
            for id in draft.shown { articles[id, default: ArticleCounts()].shown.insert(draftID) }
            if let firstOpen = draft.opens.map(\.1).min(), let lastOpen = draft.opens.map(\.1).max() {
                counts.opened += 1
                for (id, _) in draft.opens { articles[id, default: ArticleCounts()].opened.insert(draftID) }
                let opened = Set(draft.opens.map(\.0))
                if draft.tickets.contains(where: { $0 >= firstOpen && $0 <= lastOpen + window }) {
                    counts.tickets += 1
                    for id in opened { articles[id]!.tickets += 1 }
                } else if now < lastOpen + window {
                    counts.pending += 1
                } else {
                    counts.deflected += 1
                    for id in opened { articles[id]!.deflected += 1 }
                }
            }
            groups[key] = counts
        }
        let total = groups.values.reduce(into: Counts()) {
            $0.drafts += $1.drafts; $0.opened += $1.opened; $0.deflected += $1.deflected; $0.tickets += $1.tickets; $0.pending += $1.pending
        }
        for row in try tx.query("SELECT article_id, helpful FROM kb_votes WHERE voted_at >= ? AND voted_at <= ?", [.integer(from), .integer(to)]) {
            let id = try row.text("article_id")
            if try row.bool("helpful") { articles[id, default: ArticleCounts()].helpful += 1 } else { articles[id, default: ArticleCounts()].unhelpful += 1 }
        }
        var stats: [KnowledgeV1.ArticleStats] = []
        for (id, counts) in articles {
            guard let info = articleInfo[id] else { continue }
            guard product.isEmpty || info.1 == product, module.isEmpty || info.2 == module else { continue }
            var stat = KnowledgeV1.ArticleStats()
            stat.articleID = id
            stat.title = info.0
            stat.product = info.1
            stat.module = info.2
            stat.shown = Int32(counts.shown.count)
            stat.opened = Int32(counts.opened.count)
            stat.deflected = Int32(counts.deflected)
            stat.tickets = Int32(counts.tickets)
            stat.helpfulVotes = Int32(counts.helpful)
            stat.unhelpfulVotes = Int32(counts.unhelpful)
            stat.score = Int32(counts.deflected + counts.helpful - counts.tickets - counts.unhelpful)
            stats.append(stat)
        }

        var response = KnowledgeV1.DeflectionReportResponse()
        response.total = group(product: product, module: module, counts: total, stats: stats, limit: limit)
        let keys = Set(groups.keys).union(stats.map { $0.product + "\u{1}" + $0.module })
        for key in keys.sorted() {
            let parts = key.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
            response.groups.append(group(product: parts[0], module: parts[1], counts: groups[key] ?? Counts(),
                                         stats: stats.filter { $0.product == parts[0] && $0.module == parts[1] }, limit: limit))
        }
        return response
    }

    private static func group(product: String, module: String, counts: Counts, stats: [KnowledgeV1.ArticleStats], limit: Int) -> KnowledgeV1.DeflectionGroup {
        var group = KnowledgeV1.DeflectionGroup()
        group.product = product
        group.module = module
        group.drafts = Int32(counts.drafts)
        group.draftsWithOpenedArticle = Int32(counts.opened)
        group.deflected = Int32(counts.deflected)
        group.tickets = Int32(counts.tickets)
        group.pending = Int32(counts.pending)
        let decided = counts.deflected + counts.tickets
        group.deflectionRate = decided == 0 ? 0 : Double(counts.deflected) / Double(decided)
        let engaged = stats.filter { $0.opened > 0 || $0.helpfulVotes + $0.unhelpfulVotes > 0 }
        group.best = Array(engaged.sorted { ($0.score, $0.opened, $1.articleID) > ($1.score, $1.opened, $0.articleID) }.prefix(limit))
        group.worst = Array(engaged.sorted { ($0.score, -$0.opened, $0.articleID) < ($1.score, -$1.opened, $1.articleID) }.prefix(limit))
        return group
    }
}
