// knowledge-bench: suggestion and search latency of the knowledge base with many articles, on
// SQLite FTS5 and PostgreSQL text search.
//
//   swift build -c release --product knowledge-bench
//   .build/release/knowledge-bench [--articles 100000] [--queries 2000] [--engine sqlite|postgres|all]
//
// Articles are generated (seeded, so every run sees the same corpus): the words of the evaluation
// articles plus ~20,000 made-up Portuguese-looking words, drawn with a Zipf distribution. Queries
// are the evaluation set's customer subjects and phrases taken from generated titles, some with a
// typo. Suggestions are measured on keystroke prefixes of those subjects (the last word partial),
// as a customer typing a ticket subject. Calls go to KnowledgeBase in process (no RPC hop).
// PostgreSQL runs on a throwaway local cluster (TestSupport.PostgresTestServer, fsync off).
@preconcurrency import Foundation
@preconcurrency import Glibc
import KnowledgeCore
import Messages
import Storage
import TestSupport

struct Random {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        var x = state
        x ^= x >> 33; x = x &* 0xff51afd7ed558ccd; x ^= x >> 33
        return x
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: String) -> String {
    arguments.firstIndex(of: name).flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } ?? fallback
}
let articleCount = Int(option("--articles", "100000"))!
let queryCount = Int(option("--queries", "2000"))!
let engines: [DatabaseEngine] = switch option("--engine", "all") {
case "sqlite": [.sqlite]
case "postgres": [.postgres]
default: TestEngines.all
}
let evaluationDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../KnowledgeTests/Evaluation").standardized.path

// MARK: Corpus

let evaluation = try RelevanceEvaluation(directory: evaluationDirectory)
var random = Random(state: 42)
var vocabulary: [String] = []
var seen = Set<String>()
for article in evaluation.articles {
    for word in (article.title + " " + article.bodyMarkdown).split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
        let word = word.lowercased()
        if word.count > 2, seen.insert(word).inserted { vocabulary.append(word) }
    }
}
let syllables = ["ba", "ce", "di", "fo", "gu", "la", "me", "ni", "po", "ru", "sa", "te", "vi", "xo", "za", "tra", "pre", "cla", "gri",
                 "pla", "ver", "mon", "can", "des", "por", "lin", "fis", "co", "mer", "tur"]
let endings = ["cao", "mento", "agem", "idade", "ar", "ado", "ico", "ista", "eiro", "oso", "ente", "ura"]
while vocabulary.count < 20_000 {
    var word = ""
    for _ in 0..<(2 + random.below(3)) { word += syllables[random.below(syllables.count)] }
    word += endings[random.below(endings.count)]
    if seen.insert(word).inserted { vocabulary.append(word) }
}
// Zipf over a shuffled vocabulary, so real and made-up words share the head and the tail.
for i in stride(from: vocabulary.count - 1, to: 0, by: -1) { vocabulary.swapAt(i, random.below(i + 1)) }
var cumulative: [Double] = []
var sum = 0.0
for rank in 0..<vocabulary.count { sum += 1.0 / pow(Double(rank + 10), 1.05); cumulative.append(sum) }
@MainActor func zipfWord(_ random: inout Random) -> String {
    let target = random.unit() * sum
    var low = 0, high = cumulative.count - 1
    while low < high { let middle = (low + high) / 2; if cumulative[middle] < target { low = middle + 1 } else { high = middle } }
    return vocabulary[low]
}
@MainActor func words(_ count: Int, _ random: inout Random) -> String { (0..<count).map { _ in zipfWord(&random) }.joined(separator: " ") }

let products = ["erp", "erp", "erp", "pdv", "web"]
let modules = ["fiscal", "financeiro", "estoque", "vendas", "compras", "contabil", "folha", "configuracao"]
@MainActor func article(_ index: Int, _ random: inout Random) -> ArticleImport {
    let title = words(4 + random.below(5), &random).capitalized
    let body = (0..<(2 + random.below(4))).map { _ in words(12 + random.below(20), &random) + "." }.joined(separator: " ")
    return ArticleImport(id: String(format: "g%06d", index), kind: [.faq, .tip, .article][random.below(3)], title: title, bodyMarkdown: body,
                         product: products[random.below(products.count)], module: modules[random.below(modules.count)],
                         category: ["duvida", "problema", "exigencia_fiscal"][random.below(3)],
                         visibility: random.below(10) < 8 ? .customers : .agentsOnly, state: random.below(10) < 9 ? .published : .draft)
}
var titles: [String] = []
var queries: [String] = []
do {
    var queryRandom = Random(state: 7)
    for i in 0..<queryCount {
        if i % 2 == 0 {
            queries.append(evaluation.queries[queryRandom.below(evaluation.queries.count)].text)
        } else {
            var phrase = words(2 + queryRandom.below(3), &queryRandom).lowercased()
            if queryRandom.below(5) == 0, phrase.count > 6 {
                var characters = Array(phrase)
                let at = 1 + queryRandom.below(characters.count - 3)
                if characters[at] != " " && characters[at + 1] != " " { characters.swapAt(at, at + 1) }
                phrase = String(characters)
            }
            queries.append(phrase)
        }
    }
}

/// CPU time of this thread, in milliseconds: what a call costs without the waits of a loaded
/// machine (for SQLite, which runs in this thread; PostgreSQL's work is in the server process).
func threadCPUMilliseconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) * 1e3 + Double(time.tv_nsec) / 1e6
}

/// Resident set size of this process, in MB.
func residentMegabytes() -> Double {
    guard let statm = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let pages = Double(statm.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0)
    return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
}

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}
func report(_ label: String, _ samples: [Double]) {
    print(String(format: "  %-10@ n=%d  p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  max %.2f ms", label as NSString, samples.count,
                 percentile(samples, 0.50), percentile(samples, 0.95), percentile(samples, 0.99), samples.max() ?? 0))
}

var editor = AuthV1.Principal()
editor.kind = .service
editor.id = "bench"
var customerPrincipal = AuthV1.Principal()
customerPrincipal.kind = .customer
customerPrincipal.id = "cliente"
let customer = Caller(customerPrincipal)

setvbuf(stdout, nil, _IOLBF, 0)
print("knowledge-bench: \(articleCount) articles, \(vocabulary.count) words, \(queries.count) queries")
for engine in engines {
    let database = try ScratchDatabase(engine).open(migrations: KnowledgeService.migrations)
    let knowledge = try KnowledgeBase(database: database, cacheCheckInterval: 3600)
    var corpusRandom = Random(state: 1234)
    let loadStart = Date()
    var index = 0
    while index < articleCount {
        let batch = (index..<min(articleCount, index + 2_000)).map { article($0, &corpusRandom) }
        try knowledge.importArticles(batch, caller: Caller(editor))
        index += batch.count
    }
    let loadSeconds = Date().timeIntervalSince(loadStart)
    print("\(engine.rawValue): loaded in \(String(format: "%.1f", loadSeconds)) s (\(Int(Double(articleCount) / loadSeconds)) articles/s)")
    try knowledge.waitForSearchIndex()
    do {
        // What a new instance pays at start (in the background) to build its index from the database.
        let before = residentMegabytes()
        let started = Date()
        let cpuBefore = ProcessCPU.own()
        let fresh = try KnowledgeBase(database: database, cacheCheckInterval: 3600)
        try fresh.waitForSearchIndex()
        print(String(format: "  index build at start: %.2f s wall, %.2f s CPU, resident memory +%.0f MB (process %.0f MB)",
                     Date().timeIntervalSince(started), ProcessCPU.own() - cpuBefore, residentMegabytes() - before, residentMegabytes()))
    }
    if arguments.contains("--explain") {
        for query in queries.prefix(6) {
            print("-- \(query)\n" + (try knowledge.explainSearch(query, caller: customer, partial: true)))
        }
    }
    // Warm the caches (vocabulary, statements, pages).
    for query in queries.prefix(200) {
        var request = KnowledgeV1.SearchRequest()
        request.query = query
        _ = try knowledge.search(request, caller: customer)
    }
    var suggestSamples: [Double] = []
    var searchSamples: [Double] = []
    var suggestCPU: [Double] = []
    var searchCPU: [Double] = []
    var promptRandom = Random(state: 99)
    var hits = 0
    var slowest: [(Double, String)] = []
    var slowestCPU: [(Double, String, String)] = []
    for query in queries {
        // A keystroke somewhere after the third character.
        let cut = min(query.count, 3 + promptRandom.below(max(1, query.count - 2)))
        var suggest = KnowledgeV1.SuggestRequest()
        suggest.subject = String(query.prefix(cut))
        if promptRandom.below(2) == 0 { suggest.product = "erp" }
        var cpu = threadCPUMilliseconds()
        var start = DispatchTime.now().uptimeNanoseconds
        hits += try knowledge.suggest(suggest, caller: customer).hits.count
        suggestSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        suggestCPU.append(threadCPUMilliseconds() - cpu)
        slowest.append((suggestSamples.last!, suggest.subject))
        slowestCPU.append((suggestCPU.last!, "suggest", suggest.subject))

        var search = KnowledgeV1.SearchRequest()
        search.query = query
        cpu = threadCPUMilliseconds()
        start = DispatchTime.now().uptimeNanoseconds
        hits += try knowledge.search(search, caller: customer).hits.count
        searchSamples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        searchCPU.append(threadCPUMilliseconds() - cpu)
        slowestCPU.append((searchCPU.last!, "search", query))
    }
    if arguments.contains("--profile") {
        for (milliseconds, kind, text) in slowestCPU.sorted(by: { $0.0 > $1.0 }).prefix(12) {
            print(String(format: "  slow %@ %.2f ms cpu: ", kind as NSString, milliseconds) + text + " => "
                  + (try knowledge.describePlan(text, caller: customer, partial: kind == "suggest")))
        }
    }
    if arguments.contains("--slow") {
        for (milliseconds, subject) in slowest.sorted(by: { $0.0 > $1.0 }).prefix(8) {
            print(String(format: "  slow suggest %.1f ms: ", milliseconds) + subject + " => "
                  + (try knowledge.explainSearch(subject, caller: customer, partial: true)).replacingOccurrences(of: "\n", with: " / "))
        }
    }
    report("suggest", suggestSamples)
    report("search", searchSamples)
    report("suggest cpu", suggestCPU)
    report("search cpu", searchCPU)
    print("  (\(hits) hits returned in total)")
    database.close()
}
