import Foundation
import GatewayCore
import ServiceKit
import Testing

/// The gateway's `GATEWAY_*` settings (docs/GATEWAY.md, "Configuration").
@Suite("Gateway configuration")
struct GatewayConfigurationTests {
    func refusal(_ environment: [String: String]) -> String {
        do {
            _ = try GatewayConfiguration(environment: environment)
            return ""
        } catch {
            return "\(error)"
        }
    }

    @Test("a malformed port, number or switch stops the gateway naming the variable, instead of running on a default nobody chose (a typo in the proxy port used to turn the integration port off)")
    func malformed() throws {
        for (name, value) in [("GATEWAY_HTTP_PORT", "80a"), ("GATEWAY_HTTP_PORT", "70000"), ("GATEWAY_RPC_PROXY_PORT", "7l90"),
                              ("GATEWAY_HTTP_THREADS", "0"), ("GATEWAY_HTTP_MAX_BODY_BYTES", "10MB"), ("GATEWAY_SESSION_SECONDS", "8h"),
                              ("GATEWAY_RATE_LIMIT_USER", "-1"), ("GATEWAY_COOKIE_SECURE", "ture"), ("GATEWAY_EXPOSE_TOKENS", "sim"),
                              ("GATEWAY_RATE_LIMIT_SHARED", "maybe"), ("GATEWAY_VIEW_CACHE_TTL_MS", "5s")] {
            let text = refusal([name: value])
            #expect(text.contains(name) && text.contains(value), "\(name)=\(value): \(text)")
        }
    }

    @Test("well-formed values are read: ports, `off`, switches in words, `auto`; empty means the default")
    func wellFormed() throws {
        let configuration = try GatewayConfiguration(environment: [
            "GATEWAY_HTTP_PORT": "18080", "GATEWAY_RPC_PROXY_PORT": "OFF", "GATEWAY_COOKIE_SECURE": "false", "GATEWAY_EXPOSE_TOKENS": "true",
            "GATEWAY_RATE_LIMIT_SHARED": "auto", "GATEWAY_SESSION_SECONDS": "", "GATEWAY_VIEW_CACHE_TTL_MS": "0",
        ])
        #expect(configuration.http.port == 18080 && configuration.proxyPort == nil)
        #expect(!configuration.cookieSecure && configuration.exposeTokens && configuration.sharedRateLimits == nil)
        #expect(configuration.sessionSeconds == 8 * 3600 && !configuration.viewCache.isEnabled)
        #expect(configuration.publicURL == "http://127.0.0.1:18080")
        let shared = try GatewayConfiguration(environment: ["GATEWAY_RATE_LIMIT_SHARED": "1", "GATEWAY_RPC_PROXY_PORT": "17190"])
        #expect(shared.sharedRateLimits == true && shared.proxyPort == 17190)
    }

    @Test("the rate limits default to 600 requests a minute per user or API key and 1200 per IP address, as docs/CONFIGURATION.md and docs/GATEWAY.md say")
    func rateLimitDefaults() throws {
        let configuration = try GatewayConfiguration(environment: [:])
        #expect(configuration.rateLimitUser == 600 && configuration.rateLimitIP == 1200 && configuration.rateLimitWindowSeconds == 60)
        #expect(configuration.loginMaxFailures == 5)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let index = try String(contentsOf: root.appendingPathComponent("docs/CONFIGURATION.md"), encoding: .utf8)
        let guide = try String(contentsOf: root.appendingPathComponent("docs/GATEWAY.md"), encoding: .utf8)
        for (variable, value) in [("GATEWAY_RATE_LIMIT_USER", 600), ("GATEWAY_RATE_LIMIT_IP", 1200), ("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", 60)] {
            #expect(index.contains("| `\(variable)` | \(value) |"), "docs/CONFIGURATION.md: \(variable)")
            #expect(guide.contains("| `\(variable)` | \(value) |"), "docs/GATEWAY.md: \(variable)")
        }
    }
}
