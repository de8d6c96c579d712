import Foundation
import GatewayCore
import RPC
import Messages
import Storage
import Testing
import TestSupport

@Suite("Gateway limits, errors, metrics and the OpenAPI document", .serialized)
struct LimitsTests {
    @Test("bodies over the limit are 413 (announced or chunked), huge headers 431, bad JSON 400 with the error shape")
    func bodyAndHeaderLimits() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_HTTP_MAX_BODY_BYTES": "4096"])
        let big = Data(repeating: 65, count: 10_000)
        let announced = try gateway.request("POST", "/v1/auth/login", body: big)
        #expect(announced.status == 413)
        #expect(announced.errorCode == "PAYLOAD_TOO_LARGE")
        let chunked = try gateway.request("POST", "/v1/auth/login", body: big, headers: ["Transfer-Encoding": "chunked"])
        #expect(chunked.status == 413)
        // Refused from its headers, still answered as every request is: a request id to quote,
        // the address's rate-limit window, the security headers (they used to be missing).
        for refused in [announced, chunked] {
            #expect(refused.header("X-Request-Id")?.isEmpty == false && refused.header("RateLimit-Limit") != nil
                    && refused.header("RateLimit-Remaining") != nil && refused.header("X-Content-Type-Options") == "nosniff"
                    && refused.header("Cache-Control") == "no-store" && refused.header("X-Frame-Options") == "DENY", "\(refused.headers)")
        }
        // Each states the limit, in the messages and the detail, in bytes and in binary units.
        for refused in [announced, chunked] { Self.expectLimit(refused, 4096, "4 KiB", reason: "body_too_large") }
        let header = try gateway.request("GET", "/healthz", headers: ["X-Filler": String(repeating: "a", count: 40_000)], conform: false)
        #expect(header.status == 431)
        let garbage = try gateway.request("POST", "/v1/auth/login", body: Data("{nope".utf8), headers: ["Content-Type": "application/json"])
        #expect(garbage.status == 400)
        let error = try #require(garbage.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "INVALID_JSON")
        #expect(error["message"] is String && error["message_en"] is String && error["details"] is [Any])
        let missing = try gateway.request("POST", "/v1/auth/login", json: ["email": "a@b.c"])
        #expect(missing.status == 400)
        #expect(((missing.json["error"] as? [String: Any])?["details"] as? [[String: Any]])?.first?["field"] as? String == "password")
        #expect(try gateway.request("GET", "/v1/nothing-here", conform: false).status == 404)
    }

    /// A 413 that states its limit: `limit` bytes and `human` ("4 KiB") in both messages and in
    /// the detail (`limit_bytes`, `limit`, its own messages), with `reason`.
    static func expectLimit(_ response: GatewayHarness.Response, _ limit: Int, _ human: String, reason: String,
                            sourceLocation: SourceLocation = #_sourceLocation) {
        let error = response.json["error"] as? [String: Any] ?? [:]
        let detail = (error["details"] as? [[String: Any]])?.first ?? [:]
        let stated = "\(limit) bytes (\(human))"
        let statedPT = "\(limit) bytes (\(human.replacingOccurrences(of: ".", with: ",")))"
        #expect(response.status == 413 && error["code"] as? String == "PAYLOAD_TOO_LARGE", "\(response.text)", sourceLocation: sourceLocation)
        #expect((error["message"] as? String)?.contains(statedPT) == true && (error["message_en"] as? String)?.contains(stated) == true,
                "\(response.text)", sourceLocation: sourceLocation)
        #expect(detail["field"] as? String == "body" && detail["reason"] as? String == reason && detail["limit_bytes"] as? Int == limit
                && detail["limit"] as? String == human && (detail["message"] as? String)?.contains(statedPT) == true
                && (detail["message_en"] as? String)?.contains(stated) == true, "\(response.text)", sourceLocation: sourceLocation)
    }

    @Test("ByteCount states sizes in binary units: whole when exact, else one decimal (a comma in Portuguese)")
    func byteCounts() {
        #expect(ByteCount.text(0) == "0 B" && ByteCount.text(1023) == "1023 B" && ByteCount.text(1024) == "1 KiB")
        #expect(ByteCount.text(100 << 20) == "100 MiB" && ByteCount.text(10 << 20) == "10 MiB" && ByteCount.text(3 << 30) == "3 GiB")
        #expect(ByteCount.text(5_000) == "4.9 KiB" && ByteCount.text(5_000, portuguese: true) == "4,9 KiB")
        #expect(ByteCount.text(1_000_000) == "976.6 KiB" && ByteCount.text(1536 << 10) == "1.5 MiB")
        #expect(ByteCount.stated(4096) == "4096 bytes (4 KiB)")
    }

    @Test("ocorre prints a 413's limit: the messages and the detail, in bytes and binary units")
    func cliStatesTheLimit() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_HTTP_MAX_BODY_BYTES": "4096"])
        let body = "{\"email\": \"\(String(repeating: "a", count: 10_000))@b.c\", \"password\": \"x\"}"
        let refused = try ReplyFilesTests.ocorre(["post", "/v1/auth/tokens", body], gateway, token: "")
        #expect(refused.status == 1 && refused.error.contains("413 PAYLOAD_TOO_LARGE") && refused.error.contains("limite de 4096 bytes (4 KiB)")
                && refused.error.contains("limit of 4096 bytes (4 KiB)") && refused.error.contains("- body: Limite: 4096 bytes (4 KiB)"),
                "\(refused.error)")
    }

    @Test("connections beyond the limit are refused; idle ones are closed after the timeout")
    func connectionLimitAndTimeout() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_HTTP_MAX_CONNECTIONS": "2", "GATEWAY_HTTP_THREADS": "1",
                                                                  "GATEWAY_HTTP_TIMEOUT_SECONDS": "5"])
        let held = [try RawConnection(port: gateway.httpPort), try RawConnection(port: gateway.httpPort)]
        usleep(200_000)
        // Both slots taken by idle connections: the next request waits unanswered (in the
        // listen backlog) instead of being served. (The idle timeout is 5 s, not 2 s, so that
        // starting curl on a loaded machine cannot take longer than the slots stay taken.)
        let waiting = try GatewayHarness.curl(["-s", "-i", "--max-time", "1", "http://127.0.0.1:\(gateway.httpPort)/healthz"], input: Data())
        #expect(waiting.status == 0)
        // The idle connections time out (5 s) and the gateway serves again: this request waits in
        // the backlog until then (up to curl's 20 s; a fixed 3 s sleep was too short under load).
        #expect(try gateway.request("GET", "/healthz").status == 200)
        for connection in held { connection.hangUp() }
    }

    @Test("rate limits per user answer 429 with RateLimit headers; failed logins are throttled")
    func rateLimits() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_RATE_LIMIT_USER": "3", "GATEWAY_LOGIN_MAX_FAILURES": "3"])
        let token = try gateway.adminToken()
        var statuses: [Int] = []
        var remaining: [String] = []
        for _ in 0..<4 {
            let response = try gateway.request("GET", "/v1/me", bearer: token)
            statuses.append(response.status)
            remaining.append(response.header("RateLimit-Remaining") ?? "")
        }
        #expect(statuses == [200, 200, 200, 429])
        #expect(remaining == ["2", "1", "0", "0"])
        let limited = try gateway.request("GET", "/v1/me", bearer: token)
        #expect(limited.header("Retry-After") != nil)
        #expect(limited.header("RateLimit-Limit") == "3")
        Self.expectRateLimited(limited)

        for _ in 0..<3 {
            #expect(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "victim@example.com", "password": "guess-guess-1"]).status == 401)
        }
        let throttled = try gateway.request("POST", "/v1/auth/tokens", json: ["email": "victim@example.com", "password": "guess-guess-1"])
        #expect(throttled.status == 429)
        #expect(throttled.errorCode == "LOGIN_THROTTLED")
    }

    /// A 429 `RATE_LIMITED` as docs/GATEWAY.md ("Rate limits") describes it: `Retry-After` in
    /// whole seconds within the window, the message in Portuguese and in English.
    static func expectRateLimited(_ response: GatewayHarness.Response, window: Int = 60, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == 429, sourceLocation: sourceLocation)
        #expect(response.errorCode == "RATE_LIMITED", "\(response.text)", sourceLocation: sourceLocation)
        let wait = Int(response.header("Retry-After") ?? "") ?? -1
        #expect((1...window).contains(wait), "Retry-After: \(response.header("Retry-After") ?? "none")", sourceLocation: sourceLocation)
        let error = response.json["error"] as? [String: Any] ?? [:]
        #expect(error["message"] as? String == "Muitas requisições; tente novamente em instantes.", sourceLocation: sourceLocation)
        #expect(error["message_en"] as? String == "Too many requests; try again shortly.", sourceLocation: sourceLocation)
    }

    @Test("the per-IP limit (GATEWAY_RATE_LIMIT_IP) counts anonymous requests, sign-ins included, and answers 429 RATE_LIMITED with Retry-After and the message in pt-BR and English")
    func ipRateLimit() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_RATE_LIMIT_IP": "3"], createAdmin: false)
        for _ in 0..<2 { #expect(try gateway.request("GET", "/healthz").status == 200) }
        let signIn = try gateway.request("POST", "/v1/auth/tokens", json: ["email": "nobody@example.com", "password": "guess-guess-1"])
        #expect(signIn.status == 401)
        let refused = try gateway.request("POST", "/v1/auth/tokens", json: ["email": "nobody@example.com", "password": "guess-guess-1"])
        Self.expectRateLimited(refused)
        #expect(refused.header("RateLimit-Limit") == "3" && refused.header("RateLimit-Remaining") == "0")
    }

    @Test("the RPC port's rate limit per key answers RESOURCE_EXHAUSTED saying how long to wait, in its message for people and as status.retry_after_ms for programs")
    func rpcPortRateLimit() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_RATE_LIMIT_USER": "3"])
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "ERP", "role": "agent"], bearer: try gateway.adminToken())
        let key = try #require(created.json["key"] as? String, "\(created.text)")
        let client = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { client.close() }
        for _ in 0..<3 { #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving) }
        let error = #expect(throws: RPCError.self) { try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        #expect(error?.code == .resourceExhausted)
        let message = error?.message ?? ""
        #expect(message.range(of: #"tente de novo em \d+ s / rate limit exceeded; try again in \d+ s$"#, options: .regularExpression) != nil, "\(message)")
        let wait = error?.retryAfterMilliseconds ?? 0
        #expect((1_000...60_000).contains(wait) && wait % 1_000 == 0 && message.contains("in \(wait / 1_000) s"), "\(String(describing: error?.metadata))")
    }

    @Test("one API key holds at most GATEWAY_RPC_MAX_CONNECTIONS_PER_KEY connections on the RPC port: the next is RESOURCE_EXHAUSTED (it could fill the port's connection limit and keep every other integration out), another key still connects, a closed connection frees its place")
    func rpcPortConnectionsPerKey() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: ["GATEWAY_RPC_MAX_CONNECTIONS_PER_KEY": "2"])
        let admin = try gateway.adminToken()
        func key(_ name: String) throws -> String {
            // Staff keys: a customer's key needs its organization active in intake, which this gateway lacks.
            let created = try gateway.request("POST", "/v1/api-keys", json: ["name": name, "role": "agent"], bearer: admin)
            return try #require(created.json["key"] as? String, "\(created.text)")
        }
        let (first, second) = (try key("ERP do cliente"), try key("Outro sistema"))
        let held = [ProxyTests.client(port: gateway.proxyPort, key: first), ProxyTests.client(port: gateway.proxyPort, key: first)]
        for client in held { #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving) }
        let third = ProxyTests.client(port: gateway.proxyPort, key: first)
        defer { third.close() }
        let refused = #expect(throws: RPCError.self) { try third.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()) }
        #expect(refused?.code == .resourceExhausted, "\(String(describing: refused))")
        #expect(refused?.message.contains("too many connections open with this API key (2)") == true, "\(String(describing: refused))")
        let other = ProxyTests.client(port: gateway.proxyPort, key: second)
        defer { other.close() }
        #expect(try other.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        held[0].close()
        #expect(waitFor {
            let again = ProxyTests.client(port: gateway.proxyPort, key: first)
            defer { again.close() }
            return (try? again.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()))?.status == .serving
        })
        held[1].close()
    }

    @Test("/healthz, /readyz without services behind, /metrics for administrators, Idempotency-Key validated")
    func observability() throws {
        let gateway = try GatewayHarness(engine: .sqlite, extra: [
            "INTAKE_ADDRESSES": "127.0.0.1:1", "WORKFLOW_ADDRESSES": "127.0.0.1:1", "NOTIFICATION_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1",
        ])
        #expect(try gateway.request("GET", "/healthz").status == 200)
        let ready = try gateway.request("GET", "/readyz")
        #expect(ready.status == 503)
        #expect(((ready.json["services"] as? [String: Any])?["intake"] as? [String: Any])?["status"] as? String == "UNREACHABLE")
        let token = try gateway.adminToken()
        #expect(try gateway.request("GET", "/metrics").status == 401)
        let badKey = try gateway.request("POST", "/v1/auth/logout", headers: ["Idempotency-Key": String(repeating: "k", count: 300)], bearer: token)
        #expect(badKey.status == 400)
        let metrics = try gateway.request("GET", "/metrics", bearer: token)
        #expect(metrics.status == 200)
        #expect(metrics.text.contains("gateway_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"))
        #expect(metrics.text.contains("gateway_http_request_duration_seconds_bucket{method=\"GET\",route=\"/readyz\",le=\"+Inf\"} 1"))
        #expect(metrics.text.contains("gateway_http_errors_total{code=\"UNAUTHENTICATED\"} 1"))
        #expect(metrics.text.contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"/ocorrencias.rpc.v1.Health/Check\",code=\"UNAVAILABLE\"}"))
        let spec = try gateway.request("GET", "/openapi.yaml")
        #expect(spec.status == 200)
        #expect(spec.text == (try String(contentsOfFile: OpenAPISpec.documentPath, encoding: .utf8)))
    }
}
