import Foundation
import Synchronization

/// Zeroed score arrays reused across queries, so a query neither allocates nor clears one per
/// document of the base (only the entries it touched are cleared when it gives it back).
final class ScoreBuffers: Sendable {
    private let free = Mutex<[[Double]]>([])

    /// An all-zero buffer of at least `count` entries.
    func take(_ count: Int) -> [Double] {
        var buffer = free.withLock { $0.popLast() } ?? []
        if buffer.count < count { buffer.append(contentsOf: repeatElement(0, count: count - buffer.count)) }
        return buffer
    }

    /// Returns a buffer whose entries are all zero again.
    func give(_ buffer: [Double]) {
        free.withLock { if $0.count < 8 { $0.append(buffer) } }
    }
}

/// The search index in memory: for every published article and forum entry, its stems (title and
/// tags, then body) and the filter attributes, with a posting list per stem. Queries rank here
/// with BM25 over two fields (title and body each saturating on its own, the title weighted
/// ``titleWeight``×; a word and its synonyms counted as one term) and only the top hits are then
/// read from the database by key.
///
/// A plain value: ``SearchCache`` builds it at start, applies changes to its own copy and
/// publishes the copy (copy-on-write keeps readers of the old snapshot undisturbed).
///
/// ```swift
/// var index = InvertedIndex()
/// index.upsert(InvertedIndex.Entry(id: "a1", source: .article, kind: 1, isPublic: true, product: "erp",
///                                  module: "fiscal", category: "duvida", title: "emit not", body: "sefaz"))
/// index.search([Concept(phrases: [["emit"]])], all: false, filter: IndexFilter(publicOnly: true), limit: 5)
/// ```
struct InvertedIndex: Sendable {
    /// What a document is.
    enum Source: UInt8, Sendable { case article = 0, forum = 1 }

    /// A document to index: its key, attributes and pre-analysed stems (space-separated).
    struct Entry: Sendable {
        var id: String
        var source: Source
        /// `ArticleKind` raw value (0 for forum entries).
        var kind: Int32
        /// Readable by customers.
        var isPublic: Bool
        var product: String
        var module: String
        var category: String
        /// Stems of the title (and tags), space-separated.
        var title: String
        /// Stems of the body, space-separated.
        var body: String
    }

    /// Plain data (no references), so the query loops copy it without reference counting.
    struct Document: Sendable {
        var source: Source
        var kind: Int32
        var isPublic: Bool
        var product: Int32
        var module: Int32
        var category: Int32
        var titleLength: Int32
        /// Stems in title and body.
        var length: Int32
        var alive: Bool
    }

    struct Posting: Sendable {
        var doc: UInt32
        var title: UInt16
        var body: UInt16
    }

    /// A ranked document.
    struct Match: Sendable, Equatable {
        var id: String
        var source: Source
        var score: Double
    }

    static let buffers = ScoreBuffers()
    /// When every concept is common, candidates are the documents of the rarest concept among
    /// the newest ones: at most this many per phrase (a bound on the work of a query made only of
    /// frequent words, such as the first three letters typed).
    static let commonCandidates = 2_000
    /// A title hit in a title of average length scores about this much, more than any number of
    /// body hits (below `k1 + 1` = 2.2): 2.5 ranked best on the evaluation set (4: MRR 0.976, 2.5: 0.980).
    static let titleWeight = 2.5
    static let k1 = 1.2
    static let b = 0.75

    private(set) var documents: [Document] = []
    /// Per document slot, its id.
    private var ids: [String] = []
    /// Per document: title stems then body stems (term ids), for phrases and lengths.
    private var tokens: [[UInt32]] = []
    /// Per term id, the documents holding it, in document order.
    private var postings: [[Posting]] = []
    private var termIDs: [String: UInt32] = [:]
    /// "a:<id>" / "f:<id>" → document slot.
    private var slots: [String: UInt32] = [:]
    /// Interned product/module/category values.
    private var labels: [String: Int32] = [:]
    /// Live documents.
    private(set) var count = 0
    private var totalLength = 0
    private var totalTitleLength = 0

    init() {}

    static func key(_ source: Source, _ id: String) -> String { (source == .article ? "a:" : "f:") + id }

    /// Whether the document is indexed.
    func contains(_ source: Source, _ id: String) -> Bool { slots[Self.key(source, id)] != nil }

    // MARK: Changes

    /// Indexes `entry`, replacing an earlier version of the same document.
    mutating func upsert(_ entry: Entry) {
        remove(entry.source, entry.id)
        let slot = UInt32(documents.count)
        var stems: [UInt32] = []
        var titleLength = 0
        for (part, text) in [(0, entry.title), (1, entry.body)] {
            for stem in text.split(separator: " ", omittingEmptySubsequences: true) {
                stems.append(termID(String(stem)))
            }
            if part == 0 { titleLength = stems.count }
        }
        var counts: [UInt32: (UInt16, UInt16)] = [:]
        for (position, term) in stems.enumerated() {
            var count = counts[term] ?? (0, 0)
            if position < titleLength { count.0 &+= count.0 < .max ? 1 : 0 } else { count.1 &+= count.1 < .max ? 1 : 0 }
            counts[term] = count
        }
        for (term, count) in counts { postings[Int(term)].append(Posting(doc: slot, title: count.0, body: count.1)) }
        documents.append(Document(source: entry.source, kind: entry.kind, isPublic: entry.isPublic,
                                  product: label(entry.product), module: label(entry.module), category: label(entry.category),
                                  titleLength: Int32(titleLength), length: Int32(stems.count), alive: true))
        ids.append(entry.id)
        tokens.append(stems)
        slots[Self.key(entry.source, entry.id)] = slot
        count += 1
        totalLength += stems.count
        totalTitleLength += titleLength
    }

    /// Drops a document (no-op when it is not indexed).
    mutating func remove(_ source: Source, _ id: String) {
        guard let slot = slots.removeValue(forKey: Self.key(source, id)) else { return }
        for term in Set(tokens[Int(slot)]) {
            var list = postings[Int(term)]
            postings[Int(term)] = []
            if let position = Self.position(of: slot, in: list) { list.remove(at: position) }
            postings[Int(term)] = list
        }
        totalLength -= tokens[Int(slot)].count
        totalTitleLength -= Int(documents[Int(slot)].titleLength)
        tokens[Int(slot)] = []
        ids[Int(slot)] = ""
        documents[Int(slot)].alive = false
        documents[Int(slot)].length = 0
        count -= 1
    }

    private static func position(of slot: UInt32, in list: [Posting]) -> Int? {
        var low = 0, high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle].doc < slot { low = middle + 1 } else { high = middle }
        }
        return low < list.count && list[low].doc == slot ? low : nil
    }

    private mutating func termID(_ stem: String) -> UInt32 {
        if let id = termIDs[stem] { return id }
        let id = UInt32(postings.count)
        termIDs[stem] = id
        postings.append([])
        return id
    }

    private mutating func label(_ value: String) -> Int32 {
        if let id = labels[value] { return id }
        let id = Int32(labels.count)
        labels[value] = id
        return id
    }

    // MARK: Queries

    /// Which documents a query may return.
    struct Filter: Sendable {
        var publicOnly = true
        var product = ""
        var module = ""
        var category = ""
        /// `ArticleKind` raw value; 0 = any (forum entries only then).
        var kind: Int32 = 0
        var includeForum = true
    }

    /// The best `limit` documents passing `filter` for `concepts` (each a list of alternative
    /// stem phrases): OR between concepts, or AND when `all`. Ties go to the smaller id.
    func search(_ concepts: [[[String]]], all: Bool, filter: Filter, limit: Int) -> [Match] {
        guard !concepts.isEmpty, count > 0, limit > 0 else { return [] }
        // Resolve filter labels; an unknown value matches nothing.
        func resolve(_ value: String) -> Int32?? {
            if value.isEmpty { return .some(nil) }
            guard let id = labels[value] else { return nil }
            return .some(id)
        }
        guard let product = resolve(filter.product), let module = resolve(filter.module), let category = resolve(filter.category) else { return [] }
        func passes(_ document: Document) -> Bool {
            if filter.publicOnly && !document.isPublic { return false }
            if document.source == .forum {
                if !filter.includeForum || filter.kind != 0 { return false }
            } else if filter.kind != 0 && document.kind != filter.kind {
                return false
            }
            if let product, document.product != product { return false }
            if let module, document.module != module { return false }
            if let category, document.category != category { return false }
            return true
        }
        let documentCount = Double(count)
        let averages = Averages(title: max(1, Double(totalTitleLength) / documentCount),
                                body: max(1, Double(totalLength - totalTitleLength) / documentCount))
        if all { return searchAll(concepts, passes: passes, documentCount: documentCount, averages: averages, limit: limit) }
        // Every score added is positive, so a non-zero score marks a document already touched.
        var scores = Self.buffers.take(documents.count)
        // A concept's hits per document, over all its phrases (a word and its synonyms count as one term).
        var titleHits = Self.buffers.take(documents.count)
        var bodyHits = Self.buffers.take(documents.count)
        var touched: [UInt32] = []
        var conceptDocs: [UInt32] = []
        var hits: [Hit] = []
        for phrases in concepts {
            conceptDocs.removeAll(keepingCapacity: true)
            for phrase in phrases {
                hits.removeAll(keepingCapacity: true)
                collect(phrase, into: &hits)
                for hit in hits {
                    if titleHits[Int(hit.doc)] == 0 && bodyHits[Int(hit.doc)] == 0 { conceptDocs.append(hit.doc) }
                    titleHits[Int(hit.doc)] += hit.title
                    bodyHits[Int(hit.doc)] += hit.body
                }
            }
            guard !conceptDocs.isEmpty else { continue }
            let idf = Self.idf(matching: Double(conceptDocs.count), of: documentCount)
            for doc in conceptDocs {
                let (title, body) = (titleHits[Int(doc)], bodyHits[Int(doc)])
                titleHits[Int(doc)] = 0
                bodyHits[Int(doc)] = 0
                guard passes(documents[Int(doc)]) else { continue }
                if scores[Int(doc)] == 0 { touched.append(doc) }
                scores[Int(doc)] += score(title: title, body: body, doc, idf: idf, averages)
            }
        }
        let result = top(touched.lazy.map { (score: scores[Int($0)], doc: $0) }, limit: limit)
        for doc in touched { scores[Int(doc)] = 0 }
        Self.buffers.give(scores)
        Self.buffers.give(titleHits)
        Self.buffers.give(bodyHits)
        return result
    }

    /// Average title and body lengths (stems) of the live documents.
    struct Averages {
        var title: Double
        var body: Double
    }

    /// A document holding a phrase: its hits in the title and in the body.
    typealias Hit = (doc: UInt32, title: Double, body: Double)

    /// BM25 over two fields (BM25F-like): the title's and the body's hits each saturate with their
    /// own length normalisation, the title's weighted ``titleWeight``×. One title hit (about
    /// `titleWeight`) so outweighs any number of body hits (below `k1 + 1`): an article titled
    /// with the word ranks above one that only repeats it in its text. (Title hits used to be
    /// added ×4 to body hits before one saturation, and each synonym scored on its own: an article
    /// mentioning "título", "cobrança" and "boleto" in its text outranked the one titled "Boleto".)
    private func score(title: Double, body: Double, _ doc: UInt32, idf: Double, _ averages: Averages) -> Double {
        let document = documents[Int(doc)]
        var total = 0.0
        if title > 0 { total += Self.titleWeight * Self.saturation(title, length: Double(document.titleLength), average: averages.title) }
        if body > 0 {
            total += Self.saturation(body, length: Double(document.length - document.titleLength), average: averages.body)
        }
        return idf * total
    }

    /// The best `limit` of `candidates` by score, then id.
    private func top(_ candidates: some Sequence<(score: Double, doc: UInt32)>, limit: Int) -> [Match] {
        var best: [(score: Double, doc: UInt32)] = []
        func better(_ a: (score: Double, doc: UInt32), _ b: (score: Double, doc: UInt32)) -> Bool {
            a.score != b.score ? a.score > b.score : ids[Int(a.doc)] < ids[Int(b.doc)]
        }
        for candidate in candidates {
            if best.count == limit {
                guard better(candidate, best[limit - 1]) else { continue }
                best.removeLast()
            }
            let at = best.firstIndex { better(candidate, $0) } ?? best.count
            best.insert(candidate, at: at)
        }
        return best.map { Match(id: ids[Int($0.doc)], source: documents[Int($0.doc)].source, score: $0.score) }
    }

    /// Every concept required: starts from the rarest concept's documents and looks each of them
    /// up in the other concepts' posting lists (galloping search), so frequent words cost a
    /// lookup per candidate rather than a walk over their whole lists.
    private func searchAll(_ concepts: [[[String]]], passes: (Document) -> Bool, documentCount: Double, averages: Averages,
                           limit: Int) -> [Match] {
        func ids(_ phrase: [String]) -> [UInt32]? {
            var result: [UInt32] = []
            for stem in phrase {
                guard let id = termIDs[stem] else { return nil }
                result.append(id)
            }
            return result.isEmpty ? nil : result
        }
        let resolved = concepts.map { $0.compactMap(ids) }
        guard !resolved.contains(where: \.isEmpty) else { return [] }
        func size(_ phrase: [UInt32]) -> Int { phrase.map { postings[Int($0)].count }.min() ?? 0 }
        let order = resolved.sorted { $0.reduce(0) { $0 + size($1) } < $1.reduce(0) { $0 + size($1) } }
        // The rarest concept: its documents are the candidates, from the newest
        // `commonCandidates` of each phrase's driving list on.
        var cutoff: UInt32 = 0
        for phrase in order[0] {
            let list = postings[Int(phrase.min { postings[Int($0)].count < postings[Int($1)].count }!)]
            if list.count > Self.commonCandidates { cutoff = max(cutoff, list[list.count - Self.commonCandidates].doc) }
        }
        // The rarest concept's documents from the cutoff on, with their hits over all its phrases.
        var titleHits = Self.buffers.take(documents.count)
        var bodyHits = Self.buffers.take(documents.count)
        var hits: [Hit] = []
        var matching = 0
        for phrase in order[0] {
            hits.removeAll(keepingCapacity: true)
            collect(ids: phrase, into: &hits, from: cutoff)
            matching += phrase.count == 1 ? postings[Int(phrase[0])].count : cutoff == 0 ? hits.count : size(phrase)
            for hit in hits {
                titleHits[Int(hit.doc)] += hit.title
                bodyHits[Int(hit.doc)] += hit.body
            }
        }
        let firstIDF = Self.idf(matching: Double(min(matching, count)), of: documentCount)
        var candidates: [UInt32] = []
        var totals: [Double] = []
        for doc in Int(cutoff)..<documents.count where titleHits[doc] != 0 || bodyHits[doc] != 0 {
            if passes(documents[doc]) {
                candidates.append(UInt32(doc))
                totals.append(score(title: titleHits[doc], body: bodyHits[doc], UInt32(doc), idf: firstIDF, averages))
            }
            titleHits[doc] = 0
            bodyHits[doc] = 0
        }
        Self.buffers.give(titleHits)
        Self.buffers.give(bodyHits)
        for concept in order.dropFirst() {
            guard !candidates.isEmpty else { return [] }
            // Every phrase's hits per candidate, then one score for the concept.
            var title = [Double](repeating: 0, count: candidates.count)
            var body = [Double](repeating: 0, count: candidates.count)
            var matching = 0
            for phrase in concept {
                matching += size(phrase)
                if phrase.count == 1 {
                    let list = postings[Int(phrase[0])]
                    var position = 0
                    for (index, doc) in candidates.enumerated() {
                        position = Self.lowerBound(list, doc, from: position)
                        guard position < list.count else { break }
                        guard list[position].doc == doc else { continue }
                        title[index] += Double(list[position].title)
                        body[index] += Double(list[position].body)
                    }
                } else {
                    // Phrase: documents with its rarest stem, approximately (not counted exactly here).
                    for (index, doc) in candidates.enumerated() {
                        let found = occurrences(phrase, in: doc)
                        title[index] += Double(found.title)
                        body[index] += Double(found.body)
                    }
                }
            }
            let idf = Self.idf(matching: Double(min(matching, count)), of: documentCount)
            var kept = 0
            for index in candidates.indices where title[index] + body[index] > 0 {
                candidates[kept] = candidates[index]
                totals[kept] = totals[index] + score(title: title[index], body: body[index], candidates[index], idf: idf, averages)
                kept += 1
            }
            candidates.removeLast(candidates.count - kept)
            totals.removeLast(totals.count - kept)
        }
        return top(zip(totals, candidates).lazy.map { (score: $0.0, doc: $0.1) }, limit: limit)
    }

    /// BM25's inverse document frequency of a term found in `matching` of `documentCount`
    /// documents, in Lucene's form `log(1 + (N − n + 0.5) / (n + 0.5))`: always positive, so a
    /// word most articles share still weighs its title hits over body hits. (The plain form is
    /// negative past half the base; clamped to ~0 there, a query of such a word — "boleto" in a
    /// small base, "nota" in a fiscal one — scored every article ~0 and ranked them by id.)
    static func idf(matching: Double, of documentCount: Double) -> Double {
        log(1 + (documentCount - matching + 0.5) / (matching + 0.5))
    }

    /// BM25's saturation of `frequency` hits in a field of `length` stems (fields of `average`).
    private static func saturation(_ frequency: Double, length: Double, average: Double) -> Double {
        frequency * (k1 + 1) / (frequency + k1 * (1 - b + b * length / average))
    }

    /// First position in `list` at or after `start` whose document is not below `doc`.
    private static func lowerBound(_ list: [Posting], _ doc: UInt32, from start: Int) -> Int {
        var low = start, high = start, step = 1
        while high < list.count && list[high].doc < doc {
            low = high + 1
            high = low + step
            step <<= 1
        }
        high = min(high, list.count)
        while low < high {
            let middle = (low + high) / 2
            if list[middle].doc < doc { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Occurrences of a stem phrase (term ids) in a document's title and body.
    private func occurrences(_ ids: [UInt32], in doc: UInt32) -> (title: Int, body: Int) {
        let stems = tokens[Int(doc)]
        let titleLength = Int(documents[Int(doc)].titleLength)
        var title = 0, body = 0
        var start = 0
        while start + ids.count <= stems.count {
            if stems[start] == ids[0] {
                var matched = true
                for offset in 1..<ids.count where stems[start + offset] != ids[offset] { matched = false; break }
                if matched {
                    if start + ids.count <= titleLength { title += 1 } else if start >= titleLength { body += 1 }
                }
            }
            start += 1
        }
        return (title, body)
    }

    /// Documents containing `phrase` with their hits in the title and in the body. A phrase never
    /// spans the title and the body.
    private func collect(_ phrase: [String], into hits: inout [Hit]) {
        var ids: [UInt32] = []
        for stem in phrase {
            guard let id = termIDs[stem] else { return }
            ids.append(id)
        }
        collect(ids: ids, into: &hits)
    }

    private func collect(ids: [UInt32], into hits: inout [Hit], from cutoff: UInt32 = 0) {
        guard let first = ids.first else { return }
        if ids.count == 1 {
            let list = postings[Int(first)]
            for posting in list[(cutoff == 0 ? 0 : Self.lowerBound(list, cutoff, from: 0))...] {
                hits.append((posting.doc, Double(posting.title), Double(posting.body)))
            }
            return
        }
        // Drive by the rarest stem, then find the phrase in each candidate's tokens.
        let list = postings[Int(ids.min { postings[Int($0)].count < postings[Int($1)].count }!)]
        for posting in list[(cutoff == 0 ? 0 : Self.lowerBound(list, cutoff, from: 0))...] {
            let (title, body) = occurrences(ids, in: posting.doc)
            if title + body > 0 { hits.append((posting.doc, Double(title), Double(body))) }
        }
    }
}
