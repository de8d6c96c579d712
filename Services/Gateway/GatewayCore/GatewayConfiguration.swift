import ServiceKit

/// The gateway's own settings, read from the environment (the service-wide ones, such as the
/// RPC port and data directory, come from ``ServiceKit/ServiceConfiguration``).
///
/// | setting | environment | default |
/// |---|---|---|
/// | HTTP server | `GATEWAY_HTTP_*` | see ``HTTPServerConfiguration`` |
/// | public RPC port (API keys) | `GATEWAY_RPC_PROXY_PORT` (`off` disables) | `7190` |
/// | connections one API key may hold open on that port | `GATEWAY_RPC_MAX_CONNECTIONS_PER_KEY` | 64 |
/// | `Secure` flag on cookies | `GATEWAY_COOKIE_SECURE` | `1` |
/// | portal session lifetime | `GATEWAY_SESSION_SECONDS` | 8 h |
/// | bearer token lifetime | `GATEWAY_TOKEN_SECONDS` | 30 days |
/// | requests per minute per user / API key | `GATEWAY_RATE_LIMIT_USER` | 600 |
/// | requests per minute per IP address | `GATEWAY_RATE_LIMIT_IP` | 1200 |
/// | rate-limit window | `GATEWAY_RATE_LIMIT_WINDOW_SECONDS` | 60 |
/// | limits shared by the instances on one database (`1`, `0`, `auto`: on PostgreSQL) | `GATEWAY_RATE_LIMIT_SHARED` | `auto` |
/// | failed logins before throttling (per e-mail; ×4 per IP), counted across instances | `GATEWAY_LOGIN_MAX_FAILURES` | 5 in 15 min |
/// | longest an ended session may still be honoured by another instance (0: no session cache) | `GATEWAY_SESSION_REVOCATION_CHECK_MS` | 1000 |
/// | longest a deactivation the gateway hears no event of (an organization, a company administrator's `admin` flag, an agent changed on workflow's port) takes to apply | `GATEWAY_ACCESS_RECHECK_MS` | 30000 |
/// | reset / invitation token in the HTTP answer (development and tests only) | `GATEWAY_EXPOSE_TOKENS` | `0` |
/// | address people use to reach the portal (links in e-mails) | `GATEWAY_PUBLIC_URL` | `http://127.0.0.1:8080` |
/// | Argon2id cost (`interactive`, or `minimal` for tests) | `GATEWAY_PWHASH` | `interactive` |
/// | ticket view cache | `GATEWAY_VIEW_CACHE_*` | see ``ViewCacheConfiguration`` |
/// | longest a reply's answer waits for workflow's view to show it (0: no wait) | `GATEWAY_REPLY_SETTLE_MS` | 2000 |
public struct GatewayConfiguration: Sendable {
    public var http = HTTPServerConfiguration()
    public var proxyPort: Int? = 7190
    /// Connections one API key may hold open on the public RPC port: one key (a customer's
    /// system, say) cannot fill the port's connection limit and keep the others out.
    public var proxyConnectionsPerKey = 64
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
    /// How long an answer of intake (is this customer organization active? is this `customer_admin`'s
    /// contact still its company's administrator? which organizations does this representative act
    /// for?) or workflow (is this agent active?) is reused
    /// (``ActiveStates``): the bound on how long a deactivation the gateway is not told of by an
    /// event still lets a session or key in.
    public var accessRecheckMilliseconds = 30_000
    public var exposeTokens = false
    public var publicURL = "http://127.0.0.1:8080"
    /// Services behind the gateway, as named in `<SERVICE>_ADDRESSES`.
    public var services = ["intake", "workflow", "notification", "knowledge"]
    /// The ticket view cache.
    public var viewCache = ViewCacheConfiguration()
    /// How long `POST /v1/tickets/{id}/replies` waits, at most, for workflow's view to show the
    /// reply before answering (``ReplySettling``); 0 answers at once.
    public var replySettleMilliseconds = 2_000

    public init() {}

    /// Reads the `GATEWAY_*` variables over the defaults.
    /// - Throws: ``ServiceKit/ConfigurationError`` naming a malformed variable (``EnvironmentSettings``):
    ///   the gateway refuses to start rather than run on a default nobody chose.
    public init(environment: [String: String]) throws {
        self.init()
        http = try HTTPServerConfiguration(environment: environment)
        let settings = EnvironmentSettings(environment)
        func read(_ name: String, _ range: ClosedRange<Int>, _ value: inout Int) throws {
            if let number = try settings.integer(name, in: range) { value = number }
        }
        if let text = settings.text("GATEWAY_RPC_PROXY_PORT"), text.lowercased() == "off" {
            proxyPort = nil
        } else if let port = try settings.integer("GATEWAY_RPC_PROXY_PORT", in: 0...65_535) {
            proxyPort = port
        }
        try read("GATEWAY_RPC_MAX_CONNECTIONS_PER_KEY", 1...1_000_000, &proxyConnectionsPerKey)
        if let secure = try settings.flag("GATEWAY_COOKIE_SECURE") { cookieSecure = secure }
        try read("GATEWAY_SESSION_SECONDS", 60...(366 * 86_400), &sessionSeconds)
        try read("GATEWAY_TOKEN_SECONDS", 60...(3_660 * 86_400), &tokenSeconds)
        try read("GATEWAY_RATE_LIMIT_USER", 1...(1 << 40), &rateLimitUser)
        try read("GATEWAY_RATE_LIMIT_IP", 1...(1 << 40), &rateLimitIP)
        try read("GATEWAY_RATE_LIMIT_WINDOW_SECONDS", 1...86_400, &rateLimitWindowSeconds)
        if let text = settings.text("GATEWAY_RATE_LIMIT_SHARED"), text.lowercased() == "auto" {
            sharedRateLimits = nil
        } else {
            sharedRateLimits = try settings.flag("GATEWAY_RATE_LIMIT_SHARED")
        }
        try read("GATEWAY_LOGIN_MAX_FAILURES", 1...1_000_000, &loginMaxFailures)
        try read("GATEWAY_SESSION_REVOCATION_CHECK_MS", 0...3_600_000, &sessionRevocationCheckMilliseconds)
        try read("GATEWAY_ACCESS_RECHECK_MS", 0...3_600_000, &accessRecheckMilliseconds)
        exposeTokens = try settings.flag("GATEWAY_EXPOSE_TOKENS") ?? false
        publicURL = settings.text("GATEWAY_PUBLIC_URL") ?? "http://127.0.0.1:\(http.port)"
        viewCache = try ViewCacheConfiguration(environment: environment)
        try read("GATEWAY_REPLY_SETTLE_MS", 0...30_000, &replySettleMilliseconds)
    }
}
