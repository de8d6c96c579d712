import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization

/// The gateway: authenticates people and integrations, applies limits, and turns HTTP/JSON
/// requests into RPC calls to the services, signed with the caller's principal.
///
/// ```swift
/// let gateway = Gateway(runtime: runtime, configuration: GatewayConfiguration(environment: env))
/// let response = gateway.handle(request)   // what the HTTP server calls for every request
/// ```
public final class Gateway: Sendable {
    public let runtime: ServiceRuntime
    public let configuration: GatewayConfiguration
    public let store: CredentialStore
    public let hasher: PasswordHasher
    public let policy = PasswordPolicy()
    public let throttle: LoginThrottle
    public let userLimiter: RateLimiter
    public let ipLimiter: RateLimiter
    public let metrics = GatewayMetrics()
    public let signer: PrincipalSigner
    /// The organizations each representative acts for (from intake, cached).
    public let representatives: RepresentativeDirectory
    /// Every route; built once.
    public let router: Router
    /// Assembled ticket views per caller (docs/GATEWAY.md, "View cache").
    public let viewCache: ViewCache
    /// Keeps ``viewCache`` correct; nil when the cache is disabled. Started by ``GatewayService``.
    public let viewCacheFeed: ViewCacheFeed?
    private let requestPrefix = Tokens.random(6)
    private let requestCounter = Atomic<UInt64>(0)

    public static let sessionCookie = "ocorrencias_session"
    public static let csrfCookie = "ocorrencias_csrf"
    public static let csrfHeader = "x-csrf-token"

    public init(runtime: ServiceRuntime, configuration: GatewayConfiguration) {
        self.runtime = runtime
        self.configuration = configuration
        store = CredentialStore(database: runtime.database, revocationCheckMilliseconds: configuration.sessionRevocationCheckMilliseconds)
        hasher = PasswordHasher(environment: runtime.configuration.environment)
        // Failed sign-ins are counted in the database every instance shares.
        throttle = LoginThrottle(database: runtime.database, maxFailures: configuration.loginMaxFailures)
        // Gateways sharing a PostgreSQL database share their rate limits; SQLite is one instance.
        let shared = configuration.sharedRateLimits ?? (runtime.database.engine == .postgres)
        let counter = shared ? SharedRateCounter(database: runtime.database) : nil
        userLimiter = RateLimiter(limit: configuration.rateLimitUser, windowSeconds: configuration.rateLimitWindowSeconds, shared: counter)
        ipLimiter = RateLimiter(limit: configuration.rateLimitIP, windowSeconds: configuration.rateLimitWindowSeconds, shared: counter)
        signer = PrincipalSigner(secret: runtime.secret)
        router = Self.makeRouter()
        viewCache = ViewCache(ttlMilliseconds: configuration.viewCache.ttlMilliseconds, maxBytes: configuration.viewCache.maxBytes,
                              settleMilliseconds: configuration.viewCache.settleMilliseconds)
        let representatives = RepresentativeDirectory()
        self.representatives = representatives
        viewCacheFeed = Self.makeViewCacheFeed(cache: viewCache, representatives: representatives, runtime: runtime,
                                               configuration: configuration.viewCache)
    }

    /// Every route of the gateway (also what the OpenAPI conformance test walks).
    public static func makeRouter() -> Router {
        var router = Router()
        SystemRoutes.register(in: &router)
        AuthRoutes.register(in: &router)
        AdminRoutes.register(in: &router)
        DomainRoutes.register(in: &router)
        MailQuarantineRoutes.register(in: &router)
        PortalRoutes.register(in: &router)
        return router
    }

    // MARK: request pipeline

    /// Answers one request: route, authenticate, check CSRF and rate limits, run the handler,
    /// map errors to JSON, record metrics.
    public func handle(_ incoming: HTTPRequest) -> HTTPResponse {
        let start = MonotonicClock.nanoseconds()
        var request = incoming
        let requestID = Self.cleanRequestID(request.header("x-request-id"))
            ?? "gw-\(requestPrefix)-\(requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
        var routeName = "\(request.method) (unmatched)"
        var rateHeaders: [(String, String)] = []
        var response: HTTPResponse
        do {
            let ipDecision = ipLimiter.take("ip:" + request.clientAddress)
            rateHeaders = ipDecision.headers
            guard ipDecision.allowed else { throw APIError.rateLimited(retryAfter: ipDecision.reset) }
            switch router.match(method: request.method, path: request.path) {
            case .notFound:
                throw APIError.notFound
            case .methodNotAllowed(let allowed):
                throw APIError(status: 405, code: "METHOD_NOT_ALLOWED", pt: "Método não permitido.", en: "Method not allowed.",
                               headers: [("Allow", allowed.joined(separator: ", "))])
            case .found(let route, let parameters):
                routeName = "\(route.method) \(route.template)"
                request.pathParameters = parameters
                var context = RequestContext(gateway: self, requestID: requestID)
                if let key = request.header("idempotency-key") {
                    guard (1...200).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                        throw APIError.invalid("Idempotency-Key", "invalid_format", pt: "Idempotency-Key inválida (1 a 200 caracteres visíveis).",
                                               en: "Invalid Idempotency-Key (1 to 200 visible characters).")
                    }
                    context.idempotencyKey = key
                }
                try authenticate(request, route: route, into: &context)
                if let subject = context.user?.id ?? context.apiKey?.id {
                    let decision = userLimiter.take("u:" + subject)
                    rateHeaders = decision.headers
                    guard decision.allowed else { throw APIError.rateLimited(retryAfter: decision.reset) }
                }
                response = try route.handler(request, context)
                viewCacheAfterRequest(method: request.method, route: route, parameters: parameters, status: response.status)
            }
        } catch let error as APIError {
            response = error.response
        } catch let error as RPCError {
            response = APIError(error).response
        } catch {
            runtime.logger.error("unexpected error: \(error)", ["request.id": requestID])
            response = APIError(status: 500, code: "INTERNAL", pt: "Erro interno.", en: "Internal error.").response
        }
        response.headers.append(contentsOf: rateHeaders)
        response.addHeader("X-Request-Id", requestID)
        response.addHeader("X-Content-Type-Options", "nosniff")
        if response.header("Cache-Control") == nil { response.addHeader("Cache-Control", "no-store") }
        if request.method == "HEAD" { response.body = [] }
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        var errorCode: String?
        if response.status >= 400, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
           let error = object["error"] as? [String: Any] {
            errorCode = error["code"] as? String
        }
        metrics.recordRequest(route: routeName, status: response.status, seconds: seconds, errorCode: errorCode)
        if runtime.logger.isEnabled(.info) {
            runtime.logger.info("http request", ["http.method": request.method, "http.route": routeName, "http.status": String(response.status),
                                                 "duration_us": String(Int(seconds * 1e6)), "request.id": requestID,
                                                 "client.address": request.clientAddress])
        }
        return response
    }

    /// Finds the caller: `Authorization: Bearer` (API key or token) or the session cookie; checks
    /// the CSRF token for cookie sessions on unsafe methods.
    func authenticate(_ request: HTTPRequest, route: Route, into context: inout RequestContext) throws {
        if let authorization = request.header("authorization") {
            guard authorization.lowercased().hasPrefix("bearer ") else {
                if route.access == .anonymous { return }
                throw APIError.unauthenticated
            }
            let token = String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            if token.hasPrefix("ocr_") {
                guard let key = try store.verifyAPIKey(token) else {
                    if route.access == .anonymous { return }
                    throw APIError.unauthenticated
                }
                context.apiKey = key
            } else if let session = try store.session(token: token), session.kind == "bearer" {
                context.session = session
                context.user = session.user
                try representing(into: &context)
            } else if route.access == .authenticated {
                throw APIError.unauthenticated
            }
            return
        }
        if let token = request.cookie(Self.sessionCookie), !token.isEmpty, let session = try store.session(token: token), session.kind == "cookie" {
            if !["GET", "HEAD", "OPTIONS"].contains(request.method) {
                guard let sent = request.header(Self.csrfHeader), Digest.constantTimeEqual(sent, session.csrfToken) else {
                    throw APIError.csrf
                }
            }
            context.session = session
            context.user = session.user
            try representing(into: &context)
            return
        }
        if route.access == .authenticated { throw APIError.unauthenticated }
    }

    /// A representative's principal carries the organizations it acts for, asked of intake.
    func representing(into context: inout RequestContext) throws {
        guard let user = context.user, user.role == .representative else { return }
        context.representedOrganizationIDs = try representatives.organizations(of: user.representativeID ?? "",
                                                                                lookup: RepresentativeDirectory.intakeLookup(self))
    }

    static func cleanRequestID(_ text: String?) -> String? {
        guard let text, (1...100).contains(text.utf8.count),
              text.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.:".unicodeScalars.contains($0) }) else { return nil }
        return text
    }

    // MARK: calls to services

    /// Calls `path` on `service` with encoded bytes, recording metrics; errors are ``RPCError``.
    /// - Parameter serving: the call being served on the public RPC port, if any: its caller's
    ///   CANCEL (or its expiry) cancels the forwarded call too.
    public func forward(service: String, path: String, payload: [UInt8], options: CallOptions,
                        serving context: ServerContext? = nil) throws -> [UInt8] {
        let start = MonotonicClock.nanoseconds()
        do {
            let client = runtime.client(for: service)
            let bytes = try client.callRaw(path: path, payload: payload, options: options, cancellingWith: context)
            metrics.recordCall(method: path, code: 0, nanoseconds: MonotonicClock.nanoseconds() - start)
            return bytes
        } catch let error as RPCError {
            metrics.recordCall(method: path, code: error.code.rawValue, nanoseconds: MonotonicClock.nanoseconds() - start)
            throw error
        }
    }

    /// Which service owns a method: `/ocorrencias.intake.v1.Intake/OpenTicket` → `intake`.
    public static func service(ofMethod path: String) -> String? {
        let trimmed = path.hasPrefix("/") ? path.dropFirst() : Substring(path)
        let parts = trimmed.split(separator: ".")
        guard parts.count >= 3, parts[0] == "ocorrencias" else { return nil }
        return String(parts[1])
    }

    // MARK: cookies

    func sessionCookies(token: String, csrf: String, maxAge: Int) -> [(String, String)] {
        let secure = configuration.cookieSecure ? "; Secure" : ""
        return [("Set-Cookie", "\(Self.sessionCookie)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict\(secure)"),
                ("Set-Cookie", "\(Self.csrfCookie)=\(csrf); Path=/; Max-Age=\(maxAge); SameSite=Strict\(secure)")]
    }

    func clearedCookies() -> [(String, String)] {
        let secure = configuration.cookieSecure ? "; Secure" : ""
        return [("Set-Cookie", "\(Self.sessionCookie)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\(secure)"),
                ("Set-Cookie", "\(Self.csrfCookie)=; Path=/; Max-Age=0; SameSite=Strict\(secure)")]
    }
}
