/// The gateway's own settings, read from the environment (the service-wide ones, such as the
/// RPC port and data directory, come from ``ServiceKit/ServiceConfiguration``).
///
/// | setting | environment | default |
/// |---|---|---|
/// | HTTP server | `GATEWAY_HTTP_*` | see ``HTTPServerConfiguration`` |
/// | public RPC port (API keys) | `GATEWAY_RPC_PROXY_PORT` (`off` disables) | `7190` |
/// | `Secure` flag on cookies | `GATEWAY_COOKIE_SECURE` | `1` |
/// | portal session lifetime | `GATEWAY_SESSION_SECONDS` | 8 h |
/// | bearer token lifetime | `GATEWAY_TOKEN_SECONDS` | 30 days |
/// | requests per minute per user / API key | `GATEWAY_RATE_LIMIT_USER` | 600 |
/// | requests per minute per IP address | `GATEWAY_RATE_LIMIT_IP` | 1200 |
/// | rate-limit window | `GATEWAY_RATE_LIMIT_WINDOW_SECONDS` | 60 |
/// | limits shared by the instances on one database (`1`, `0`, `auto`: on PostgreSQL) | `GATEWAY_RATE_LIMIT_SHARED` | `auto` |
/// | failed logins before throttling (per e-mail; ×4 per IP), counted across instances | `GATEWAY_LOGIN_MAX_FAILURES` | 5 in 15 min |
/// | longest an ended session may still be honoured by another instance (0: no session cache) | `GATEWAY_SESSION_REVOCATION_CHECK_MS` | 1000 |
/// | reset / invitation token in the HTTP answer (development and tests only) | `GATEWAY_EXPOSE_TOKENS` | `0` |
/// | address people use to reach the portal (links in e-mails) | `GATEWAY_PUBLIC_URL` | `http://127.0.0.1:8080` |
/// | Argon2id cost (`interactive`, or `minimal` for tests) | `GATEWAY_PWHASH` | `interactive` |
/// | ticket view cache | `GATEWAY_VIEW_CACHE_*` | see ``ViewCacheConfiguration`` |
public struct GatewayConfiguration: Sendable {
    public var http = HTTPServerConfiguration()
    public var proxyPort: Int? = 7190
    public var cookieSecure = true
    public var sessionSeconds = 8 * 3600
    public var tokenSeconds = 30 * 24 * 3600
    public var rateLimitUser = 600
    public var rateLimitIP = 1200
    public var rateLimitWindowSeconds = 60
    /// `nil`: shared when the gateway's database is PostgreSQL.
    public var sharedRateLimits: Bool?
    public var loginMaxFailures = 5
    /// How often (at most) an instance reads the shared log of ended sessions; the bound on how
    /// long another instance's cached lookup of an ended session may still be used.
    public var sessionRevocationCheckMilliseconds = 1_000
    public var exposeTokens = false
    public var publicURL = "http://127.0.0.1:8080"
    /// Services behind the gateway, as named in `<SERVICE>_ADDRESSES`.
    public var services = ["intake", "workflow", "notification", "knowledge"]
    /// The ticket view cache.
    public var viewCache = ViewCacheConfiguration()

    public init() {}

    public init(environment: [String: String]) {
        self.init()
        http = HTTPServerConfiguration(environment: environment)
        func int(_ name: String, _ fallback: Int) -> Int { environment[name].flatMap(Int.init) ?? fallback }
        if let text = environment["GATEWAY_RPC_PROXY_PORT"] {
            proxyPort = (text == "off" || text.isEmpty) ? nil : Int(text)
        }
        cookieSecure = environment["GATEWAY_COOKIE_SECURE"] != "0"
        sessionSeconds = int("GATEWAY_SESSION_SECONDS", sessionSeconds)
        tokenSeconds = int("GATEWAY_TOKEN_SECONDS", tokenSeconds)
        rateLimitUser = int("GATEWAY_RATE_LIMIT_USER", rateLimitUser)
        rateLimitIP = int("GATEWAY_RATE_LIMIT_IP", rateLimitIP)
        rateLimitWindowSeconds = max(1, int("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", rateLimitWindowSeconds))
        switch environment["GATEWAY_RATE_LIMIT_SHARED"] {
        case "1": sharedRateLimits = true
        case "0": sharedRateLimits = false
        default: sharedRateLimits = nil
        }
        loginMaxFailures = int("GATEWAY_LOGIN_MAX_FAILURES", loginMaxFailures)
        sessionRevocationCheckMilliseconds = max(0, int("GATEWAY_SESSION_REVOCATION_CHECK_MS", sessionRevocationCheckMilliseconds))
        exposeTokens = environment["GATEWAY_EXPOSE_TOKENS"] == "1"
        publicURL = environment["GATEWAY_PUBLIC_URL"] ?? "http://127.0.0.1:\(http.port)"
        viewCache = ViewCacheConfiguration(environment: environment)
    }
}
