import Foundation
import Storage
import Testing
import TestSupport

/// Login throttling and ended sessions shared by two gateway processes on one database.
@Suite("Login throttling and session revocation across gateway instances", .serialized)
struct SharedAuthTests {
    /// Two gateway processes on one database: the same SQLite file (one data directory) or one
    /// PostgreSQL database.
    final class Pair: @unchecked Sendable {
        let one: GatewayHarness
        let two: GatewayHarness
        let shared: TemporaryDirectory

        init(engine: DatabaseEngine, settings: [String: String]) throws {
            shared = try TemporaryDirectory()
            var extra = settings
            extra["OCORRENCIAS_DATA_DIR"] = shared.path
            extra["OCORRENCIAS_SECRET"] = "shared-auth-\(UUID().uuidString)"
            extra["GATEWAY_VIEW_CACHE_TTL_MS"] = "0"
            if engine == .postgres { extra["GATEWAY_DATABASE_URL"] = try ScratchDatabase(.postgres).configuration.url }
            one = try GatewayHarness(engine: engine, extra: extra)
            two = try GatewayHarness(engine: engine, extra: extra, createAdmin: false)
        }
    }

    @Test("failed sign-ins spread over two instances hit the throttle at the same count as on one; the 429 holds on both; another e-mail is still checked",
          arguments: TestEngines.all)
    func throttleAcrossInstances(engine: DatabaseEngine) throws {
        let pair = try Pair(engine: engine, settings: ["GATEWAY_LOGIN_MAX_FAILURES": "3", "GATEWAY_RATE_LIMIT_IP": "10000"])
        let admin = try pair.one.adminToken()
        try pair.one.createUser(admin: admin, email: "alvo@acme.com.br", role: "agent", agent: "A-1")
        let wrong: [String: Any] = ["email": "alvo@acme.com.br", "password": "guess-guess-1"]
        var statuses: [Int] = []
        for i in 0..<3 {
            statuses.append(try (i % 2 == 0 ? pair.one : pair.two).request("POST", "/v1/auth/tokens", json: wrong).status)
        }
        #expect(statuses == [401, 401, 401])
        // The fourth attempt, on either instance, is refused before the password is checked
        // (one instance alone would refuse it too; two separate counters would have allowed 6).
        for gateway in [pair.two, pair.one] {
            let refused = try gateway.request("POST", "/v1/auth/tokens", json: wrong)
            #expect(refused.status == 429 && refused.errorCode == "LOGIN_THROTTLED", "\(refused.text)")
            let wait = Int(refused.header("Retry-After") ?? "") ?? 0
            #expect(wait > 800 && wait <= 900, "Retry-After \(wait)")
        }
        // Even the right password waits.
        #expect(try pair.two.request("POST", "/v1/auth/tokens", json: ["email": "alvo@acme.com.br", "password": "Us3r-Passw0rd!x"]).status == 429)
        // Another e-mail from the same address is not throttled (12 failures per address).
        #expect(try pair.two.request("POST", "/v1/auth/tokens", json: ["email": "outro@acme.com.br", "password": "guess-guess-1"]).status == 401)
        // A success clears the e-mail's failures, seen by the other instance.
        try pair.one.createUser(admin: admin, email: "bia@acme.com.br", role: "agent", agent: "A-1")
        for gateway in [pair.one, pair.two] {
            #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "bia@acme.com.br", "password": "errada-errada"]).status == 401)
        }
        _ = try pair.two.token("bia@acme.com.br", "Us3r-Passw0rd!x")
        for gateway in [pair.one, pair.two, pair.one] {
            #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "bia@acme.com.br", "password": "errada-errada"]).status == 401)
        }
        #expect(try pair.two.request("POST", "/v1/auth/tokens", json: ["email": "bia@acme.com.br", "password": "errada-errada"]).status == 429)

        // A burst of 12 concurrent guesses over both instances: attempts take turns and are
        // counted before the password is checked, so exactly 3 are checked (401, as three
        // attempts one after the other would be), the others refused (429), and the refused ones
        // do not count afterwards.
        try pair.one.createUser(admin: admin, email: "caio@acme.com.br", role: "agent", agent: "A-1")
        let burst = BurstResults()
        DispatchQueue.concurrentPerform(iterations: 12) { i in
            let status = (try? (i % 2 == 0 ? pair.one : pair.two).request(
                "POST", "/v1/auth/tokens", json: ["email": "caio@acme.com.br", "password": "chute-\(i)-chute"]).status) ?? 0
            burst.add(status)
        }
        let answers = burst.all
        let checked = answers.filter { $0 == 401 }.count
        #expect(checked == 3 && answers.filter { $0 == 429 }.count == 9, "\(answers)")
        for _ in checked..<3 {
            #expect(try pair.one.request("POST", "/v1/auth/tokens", json: ["email": "caio@acme.com.br", "password": "errada-errada"]).status == 401)
        }
        #expect(try pair.two.request("POST", "/v1/auth/tokens", json: ["email": "caio@acme.com.br", "password": "errada-errada"]).status == 429)
    }

    final class BurstResults: @unchecked Sendable {
        private let lock = NSLock()
        private var statuses: [Int] = []
        func add(_ status: Int) { lock.withLock { statuses.append(status) } }
        var all: [Int] { lock.withLock { statuses } }
    }

    @Test("a session ended on one instance (logout, password change, user disabled) is refused by the other once the revocation interval has passed, though the other had just cached it",
          arguments: TestEngines.all)
    func revocationAcrossInstances(engine: DatabaseEngine) throws {
        let pair = try Pair(engine: engine, settings: ["GATEWAY_SESSION_REVOCATION_CHECK_MS": "1000"])
        let admin = try pair.one.adminToken()
        try pair.one.createUser(admin: admin, email: "rita@acme.com.br", role: "agent", agent: "A-1")
        /// A token used on instance two right before it is revoked on instance one (so two has
        /// its lookup cached, for 5 s), then asked again on two after the 1 s interval.
        func refusedOnTwo(after revoke: (String) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) throws {
            let token = try pair.one.token("rita@acme.com.br", "Us3r-Passw0rd!x")
            #expect(try pair.two.request("GET", "/v1/me", bearer: token).status == 200, sourceLocation: sourceLocation)
            try revoke(token)
            #expect(try pair.one.request("GET", "/v1/me", bearer: token).status == 401, sourceLocation: sourceLocation)
            Thread.sleep(forTimeInterval: 1.3)
            #expect(try pair.two.request("GET", "/v1/me", bearer: token).status == 401, sourceLocation: sourceLocation)
        }
        // Logout: only that session ends; another session of the same user goes on, on both.
        let other = try pair.two.token("rita@acme.com.br", "Us3r-Passw0rd!x")
        try refusedOnTwo { token throws in
            #expect(try pair.one.request("POST", "/v1/auth/logout", bearer: token).status == 204)
        }
        #expect(try pair.two.request("GET", "/v1/me", bearer: other).status == 200)
        #expect(try pair.one.request("GET", "/v1/me", bearer: other).status == 200)
        // A password change ends every session of the user.
        try refusedOnTwo { token throws in
            #expect(try pair.one.request("POST", "/v1/me/password", json: ["current_password": "Us3r-Passw0rd!x",
                                                                             "new_password": "Outr4-Senha-Forte!"], bearer: token).status == 204)
            #expect(try pair.one.request("POST", "/v1/me/password", json: ["current_password": "Outr4-Senha-Forte!",
                                                                             "new_password": "Us3r-Passw0rd!x"], bearer: try pair.one.token("rita@acme.com.br", "Outr4-Senha-Forte!")).status == 204)
        }
        #expect(try pair.two.request("GET", "/v1/me", bearer: other).status == 401)
        // Disabling the user ends its sessions everywhere.
        let users = try pair.one.request("GET", "/v1/users", bearer: admin)
        let rita = try #require(((users.json["users"] as? [[String: Any]]) ?? []).first { $0["email"] as? String == "rita@acme.com.br" }?["id"] as? String)
        try refusedOnTwo { _ throws in
            #expect(try pair.one.request("POST", "/v1/users/\(rita)/disable", bearer: admin).status == 204)
        }
    }
}
