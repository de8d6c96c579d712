// What one metrics scrape costs against an outbox backlog: loads 1,000,000 then 5,000,000
// undelivered rows (one destination resting, its backlog the front of the outbox; a few hundred
// rows of live destinations behind it) on SQLite and PostgreSQL, and times the outbox reads a
// scrape makes. Prints figures with the load average; asserts nothing. See docs/STORAGE.md
// ("What the outbox's metrics cost").
//   swift build -c release --product outbox-scrape-bench
//   .build/release/outbox-scrape-bench [--rows 1000000,5000000] [--engine sqlite|postgres|both] [--runs 5]
import Foundation
import Storage
import TestSupport

let benchmark = OutboxScrapeBench(arguments: CommandLine.arguments)
do {
    try benchmark.run()
} catch {
    print("outbox-scrape-bench: \(error)")
    PostgresTestServer.stopAll()
    exit(1)
}
PostgresTestServer.stopAll()
