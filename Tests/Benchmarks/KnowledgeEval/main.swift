// knowledge-eval: prints recall@5 and MRR of the knowledge search on the evaluation set in
// Tests/KnowledgeTests/Evaluation, on SQLite FTS5 and on PostgreSQL text search.
//
//   swift run knowledge-eval [--engine sqlite|postgres|all] [--misses] [--dir PATH]
//
// PostgreSQL runs on a throwaway cluster (TestSupport.PostgresTestServer); set
// OCORRENCIAS_TEST_PG=0 to skip it.
import Foundation
import KnowledgeCore
import Storage
import TestSupport

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil }
}
let directory = option("--dir") ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../KnowledgeTests/Evaluation").standardized.path
let engines: [DatabaseEngine] = switch option("--engine") ?? "all" {
case "sqlite": [.sqlite]
case "postgres": [.postgres]
default: TestEngines.all
}
do {
    let evaluation = try RelevanceEvaluation(directory: directory)
    print("evaluation set: \(evaluation.articles.count) articles, \(evaluation.queries.count) queries")
    for engine in engines {
        let database = try ScratchDatabase(engine).open(migrations: KnowledgeService.migrations)
        let knowledge = try KnowledgeBase(database: database, cacheCheckInterval: 0)
        try evaluation.load(into: knowledge)
        let result = try evaluation.run(on: knowledge)
        print(String(format: "%-9@ recall@5 %.3f  MRR %.3f  (%d queries)", engine.rawValue as NSString, result.recallAt5, result.mrr, result.queries))
        if arguments.contains("--misses") {
            for (query, ids) in result.misses { print("  miss: \(query) -> \(ids.prefix(5).joined(separator: ","))") }
        }
        database.close()
    }
} catch {
    FileHandle.standardError.write(Data("knowledge-eval: \(error)\n".utf8))
    exit(1)
}
