import Foundation
import GatewayCore
import Storage
import Testing
import TestSupport

/// Rate limits shared by gateway instances on one database.
@Suite("Rate limits shared across gateway instances", .serialized)
struct SharedRateLimitTests {
    @Test("two limiters on one database: together they allow exactly the limit per window, in batches; another key and the next window start afresh",
          arguments: TestEngines.all)
    func sharedCounter(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let first = try scratch.open(migrations: CredentialStore.migrations)
        let second = try scratch.open(migrations: CredentialStore.migrations)
        defer { first.close(); second.close() }
        let a = RateLimiter(limit: 25, windowSeconds: 60, shared: SharedRateCounter(database: first), batch: 5)
        let b = RateLimiter(limit: 25, windowSeconds: 60, shared: SharedRateCounter(database: second), batch: 5)
        let now = Date(timeIntervalSince1970: 1_800_000_010)
        var allowed = 0
        var remaining: [Int] = []
        for i in 0..<40 {
            let decision = (i % 3 == 0 ? b : a).take("u:maria", now: now)
            if decision.allowed { allowed += 1; remaining.append(decision.remaining) }
            #expect(decision.reset == 50)
        }
        #expect(allowed == 25)
        // Each instance's RateLimit-Remaining is its estimate: the shared count it saw at its last
        // reservation, plus its own unspent allowance; never above the limit.
        #expect(remaining.allSatisfy { $0 >= 0 && $0 <= 25 })
        #expect(a.take("u:maria", now: now).remaining == 0 && b.take("u:maria", now: now).remaining == 0)
        let rows = try first.read { tx in try tx.queryOne("SELECT used FROM gateway_rate_windows WHERE bucket = ?", [.text("u:maria")])?.int("used") }
        #expect(rows ?? 0 >= 25, "reservations are counted in the shared table")
        #expect(a.take("u:ana", now: now).allowed && b.take("u:ana", now: now).allowed)
        let later = now.addingTimeInterval(60)
        #expect(a.take("u:maria", now: later).allowed && b.take("u:maria", now: later).allowed)
    }

    @Test("two gateway processes on one PostgreSQL database enforce one per-user limit together")
    func twoGateways() throws {
        try #require(PostgresTestServer.isEnabled, "PostgreSQL tests are disabled")
        let url = try ScratchDatabase(.postgres).configuration.url!
        let settings = ["GATEWAY_DATABASE_URL": url, "GATEWAY_RATE_LIMIT_USER": "10", "GATEWAY_RATE_LIMIT_IP": "1000",
                        "GATEWAY_RATE_LIMIT_WINDOW_SECONDS": "600"]
        let one = try GatewayHarness(engine: .postgres, extra: settings)
        let two = try GatewayHarness(engine: .postgres, extra: settings, createAdmin: false)
        // Windows are aligned to the clock: do not start right before one ends.
        let intoWindow = Int(Date().timeIntervalSince1970) % 600
        if intoWindow > 570 { Thread.sleep(forTimeInterval: Double(601 - intoWindow)) }
        let token = try one.adminToken()   // the bearer token is in the shared database: both accept it
        var statuses: [Int] = []
        for i in 0..<16 {
            statuses.append(try (i % 2 == 0 ? one : two).request("GET", "/v1/me", bearer: token).status)
        }
        #expect(statuses.filter { $0 == 200 }.count == 10, "\(statuses)")
        #expect(statuses.filter { $0 == 429 }.count == 6, "\(statuses)")
        #expect(Array(statuses.prefix(10)) == Array(repeating: 200, count: 10), "\(statuses)")
        let refused = try two.request("GET", "/v1/me", bearer: token)
        #expect(refused.status == 429 && refused.header("RateLimit-Remaining") == "0" && refused.header("Retry-After") != nil)
    }
}
