import Foundation
import Messages
import Storage

/// Measures search relevance on an evaluation set: articles and the queries customers type,
/// each with the ids of the articles that answer it.
///
/// - recall@5: for each query, the share of its relevant articles found in the first 5 results,
///   averaged over queries;
/// - MRR: the mean of 1/rank of the first relevant result (0 when none is in the first 10).
///
/// File formats (see `Tests/KnowledgeTests/Evaluation/`): articles as `## id | kind | product |
/// module | category | tags` then title line then body; queries as `query => id, id`.
public struct RelevanceEvaluation: Sendable {
    public struct Query: Sendable {
        public var text: String
        public var relevant: [String]
    }

    public struct Result: Sendable {
        public var recallAt5: Double
        public var mrr: Double
        public var queries: Int
        /// Queries whose first relevant article is not in the top 5: (query, ids returned).
        public var misses: [(String, [String])]
    }

    public var articles: [ArticleImport]
    public var queries: [Query]

    /// Reads `articles.txt` and `queries.txt` from `directory`.
    public init(directory: String) throws {
        let articleText = try String(contentsOfFile: directory + "/articles.txt", encoding: .utf8)
        let queryText = try String(contentsOfFile: directory + "/queries.txt", encoding: .utf8)
        var articles: [ArticleImport] = []
        var header: [String]?
        var lines: [String] = []
        func flush() {
            guard let header, header.count >= 5, let title = lines.first else { return }
            let kind: KnowledgeV1.ArticleKind = header[1] == "faq" ? .faq : header[1] == "tip" ? .tip : .article
            let tags = header.count > 5 ? header[5].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } : []
            articles.append(ArticleImport(id: header[0], kind: kind, title: title,
                                          bodyMarkdown: lines.dropFirst().joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines),
                                          product: header[2], module: header[3], category: header[4], tags: tags))
        }
        for line in articleText.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("## ") {
                flush()
                header = line.dropFirst(3).split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                lines = []
            } else if header != nil, !(lines.isEmpty && line.trimmingCharacters(in: .whitespaces).isEmpty) {
                lines.append(String(line))
            }
        }
        flush()
        self.articles = articles
        queries = queryText.split(separator: "\n").compactMap { line in
            guard !line.hasPrefix("#"), let arrow = line.range(of: "=>") else { return nil }
            return Query(text: line[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces),
                         relevant: line[arrow.upperBound...].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
    }

    /// Loads the articles into `knowledge` (an empty base).
    public func load(into knowledge: KnowledgeBase) throws {
        try knowledge.importArticles(articles, caller: Caller(Self.evaluator))
    }

    /// Runs every query as a customer would (Search, no filters) and scores the results.
    public func run(on knowledge: KnowledgeBase) throws -> Result {
        var recall = 0.0, reciprocal = 0.0
        var misses: [(String, [String])] = []
        var customer = AuthV1.Principal()
        customer.kind = .customer
        customer.id = "avaliacao"
        for query in queries {
            var request = KnowledgeV1.SearchRequest()
            request.query = query.text
            request.limit = 10
            let ids = try knowledge.search(request, caller: Caller(customer)).hits.map(\.id)
            let top5 = Set(ids.prefix(5))
            recall += Double(query.relevant.filter { top5.contains($0) }.count) / Double(query.relevant.count)
            if let rank = ids.firstIndex(where: { query.relevant.contains($0) }) {
                reciprocal += 1.0 / Double(rank + 1)
                if rank >= 5 { misses.append((query.text, ids)) }
            } else {
                misses.append((query.text, ids))
            }
        }
        let count = Double(max(queries.count, 1))
        return Result(recallAt5: recall / count, mrr: reciprocal / count, queries: queries.count, misses: misses)
    }

    static var evaluator: AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .service
        principal.id = "knowledge-eval"
        principal.displayName = "Avaliação"
        return principal
    }
}
