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
    /// Seals the stored answers of the gateway's own writes and keys their request fingerprints
    /// (``RequestContext/once(_:_:)``): the runtime's, derived once.
    var responseSeal: ResponseSeal { runtime.responseSeal }
    /// The signed principals of recent callers (each signed once, not per call).
    let signedPrincipals: SignedPrincipals
    /// The organizations each representative acts for (from intake, cached).
    public let representatives: RepresentativeDirectory
    /// What intake's directory says of the entries every customer's request depends on, cached
    /// (``ActiveStates``): whether customer organizations are active (``OrganizationAccess``,
    /// under their id) and whether `customer_admin` sign-ins' contacts are their company's
    /// administrators (``CompanyAdministratorAccess``, under its key). Intake's `DirectoryChanged`
    /// drops an entry's answers at once.
    public let directoryStates: ActiveStates
    /// Whether the workflow agents team members sign in as are active (``AgentSignIns``), cached.
    public let agentStates: ActiveStates
    /// Every route; built once.
    public let router: Router
    /// Assembled ticket views per caller (docs/GATEWAY.md, "View cache").
    public let viewCache: ViewCache
    /// Intake's and workflow's events: keeps ``viewCache`` correct and feeds ``representatives``
    /// and ``contactSignIns`` (``makeEventFeed``); nil when intake has no address. Started by
    /// ``GatewayService``.
    public let eventFeed: ViewCacheFeed?
    /// Ends the sign-ins of people deactivated in intake (and restores those it ended) from
    /// intake's events. Started by ``GatewayService``.
    public let contactSignIns: ContactSignInFollower
    /// Intake's answers about the people customers and representatives sign in as.
    let linkedPeople: LinkedPeople
    /// The file limits: the gateway's own lowered to intake's (``fileLimits``).
    public let intakeFileLimits: IntakeFileLimits
    /// The clients of ``GatewayConfiguration/services``, looked up without the runtime's lock
    /// (every call of every HTTP thread goes through ``forward(service:path:payload:options:serving:)``).
    let clients: [String: RPCClient]
    let requestPrefix = Tokens.random(6)
    let requestCounter = Atomic<UInt64>(0)

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
        signer = runtime.principals
        signedPrincipals = SignedPrincipals(signer: signer)
        router = Self.makeRouter()
        // Only services with addresses (a client needs one; without, the first call fails as before).
        clients = Dictionary(uniqueKeysWithValues: configuration.services
            .filter { !runtime.configuration.endpoints(of: $0).isEmpty }.map { ($0, runtime.client(for: $0)) })
        viewCache = ViewCache(ttlMilliseconds: configuration.viewCache.ttlMilliseconds, maxBytes: configuration.viewCache.maxBytes,
                              settleMilliseconds: configuration.viewCache.settleMilliseconds)
        let representatives = RepresentativeDirectory(lifetimeSeconds: max(1, configuration.accessRecheckMilliseconds / 1000))
        self.representatives = representatives
        let directoryStates = ActiveStates(lifetimeMilliseconds: configuration.accessRecheckMilliseconds)
        self.directoryStates = directoryStates
        agentStates = ActiveStates(lifetimeMilliseconds: configuration.accessRecheckMilliseconds)

        intakeFileLimits = IntakeFileLimits(own: configuration.http.inlineFiles)
        let people = LinkedPeople(runtime: runtime, signer: signer)
        linkedPeople = people
        let contactSignIns = ContactSignInFollower(store: store, people: people, logger: runtime.logger)
        self.contactSignIns = contactSignIns
        eventFeed = Self.makeEventFeed(cache: viewCache, representatives: representatives, directory: directoryStates,
                                       signIns: contactSignIns, runtime: runtime,
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
        var request = incoming
        var exchange = Exchange(gateway: self, request: request)
        var response: HTTPResponse
        do {
            let (route, context) = try admit(&request, &exchange)
            try JSONBodies.check(request, route: route)
            response = try route.handler(request, context)
            viewCacheAfterRequest(method: request.method, route: route, parameters: request.pathParameters, status: response.status)
        } catch {
            response = errorResponse(error, exchange)
        }
        return complete(exchange, request, response)
    }

    /// The paths whose request bodies stream (routes with a ``Route/bodyConsumer``): fixed paths
    /// by a lookup, templated ones (`/v1/tickets/{id}/replies`) by matching the few there are.
    public var bodyStreaming: HTTPBodyStreaming {
        var fixed: [String: @Sendable (String?) -> Bool] = [:]
        var templated: [Route] = []
        for route in router.routes where route.bodyConsumer != nil {
            if route.template.contains("{") { templated.append(route) } else { fixed["\(route.method) \(route.template)"] = route.streamsBody }
        }
        let (streaming, patterns) = (fixed, templated)
        let router = router
        return HTTPBodyStreaming(streams: { method, path, contentType in
            if let streams = streaming["\(method) \(path)"] { return streams(contentType) }
            guard !patterns.isEmpty else { return false }
            let parts = path.split(separator: "/", omittingEmptySubsequences: true)
            guard patterns.contains(where: { $0.method == method && $0.match(parts) != nil }),
                  // The route the request will be admitted to is that streaming one.
                  case .found(let route, _) = router.match(method: method, path: path), route.bodyConsumer != nil else { return false }
            return route.streamsBody(contentType)
        }, begin: { self.beginStreaming($0) })
    }

    /// A streaming route's request, from its line and headers: admitted like any other, then
    /// its body goes to the route's consumer; refusals are answered before the body is read.
    func beginStreaming(_ incoming: HTTPRequest) -> HTTPBodyStart {
        var request = incoming
        var exchange = Exchange(gateway: self, request: request)
        do {
            let (route, context) = try admit(&request, &exchange)
            guard let consumer = try route.bodyConsumer?(request, context) else { throw APIError.notFound }
            let streamed = StreamedRequest(gateway: self, exchange: exchange, request: request, route: route, consumer: consumer)
            // A form route streams only form bodies (`Route.streamingBodies(when:asForm:_:)`), so this one is a form.
            return route.streamsForm ? .streamForm(streamed) : .stream(streamed)
        } catch {
            return .answer(complete(exchange, request, errorResponse(error, exchange)))
        }
    }

    /// `multipart/form-data` or `application/x-www-form-urlencoded`: parsed into fields.
    static func isForm(_ contentType: String?) -> Bool {
        guard let type = contentType else { return false }
        return hasPrefixIgnoringASCIICase(type, "multipart/form-data") || hasPrefixIgnoringASCIICase(type, "application/x-www-form-urlencoded")
    }

    /// `text.lowercased().hasPrefix(prefix)` for a lower-case ASCII `prefix`, without a new string.
    static func hasPrefixIgnoringASCIICase(_ text: String, _ prefix: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
        guard text.utf8.count >= expected.count else { return false }
        return zip(text.utf8, expected).allSatisfy { ($0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0) == $1 }
    }

    /// One request's bookkeeping from arrival to answer.
    struct Exchange {
        let start = MonotonicClock.nanoseconds()
        let requestID: String
        /// The matched route's name; `<method> (unmatched)` until a route is found, the method
        /// as HTTP names it or `OTHER` (``GatewayMetrics/httpMethodLabel(_:)``: it labels series
        /// in `/metrics`, where every made-up method was a series of its own).
        var routeName: String { matchedRoute ?? "\(GatewayMetrics.httpMethodLabel(method)) (unmatched)" }
        var matchedRoute: String?
        let method: String
        /// The last rate-limit decision taken (its `RateLimit-*` headers go on the answer).
        var rateDecision: RateLimiter.Decision?

        init(gateway: Gateway, request: HTTPRequest) {
            requestID = Gateway.cleanRequestID(request.header("x-request-id"))
                ?? "gw-\(gateway.requestPrefix)-\(gateway.requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)"
            method = request.method
        }
    }

    /// Rate limits, routing, the idempotency key and the caller: the route to run and its
    /// context, or the error to answer.
    func admit(_ request: inout HTTPRequest, _ exchange: inout Exchange) throws -> (Route, RequestContext) {
        let ipDecision = ipLimiter.take("ip:" + ClientNetwork.key(request.clientAddress))
        exchange.rateDecision = ipDecision
        guard ipDecision.allowed else { throw APIError.rateLimited(retryAfter: ipDecision.reset) }
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            throw APIError.notFound
        case .methodNotAllowed(let allowed):
            throw APIError(status: 405, code: "METHOD_NOT_ALLOWED", pt: "Método não permitido.", en: "Method not allowed.",
                           headers: [("Allow", allowed.joined(separator: ", "))])
        case .found(let route, let parameters):
            exchange.matchedRoute = route.name
            request.pathParameters = parameters
            var context = RequestContext(gateway: self, requestID: exchange.requestID)
            if let key = request.header("idempotency-key") {
                guard (1...200).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 }) else {
                    throw APIError.invalid("Idempotency-Key", "invalid_format", pt: "Idempotency-Key inválida (1 a 200 caracteres visíveis).",
                                           en: "Invalid Idempotency-Key (1 to 200 visible characters).")
                }
                context.idempotencyKey = key
            }
            try authenticate(request, route: route, into: &context)
            try checkStanding(route, &context)
            if let permission = route.permission { try context.require(permission) }
            if let permission = route.keyPermission, context.apiKey != nil { try context.require(permission) }
            if let subject = context.user?.id ?? context.apiKey?.id {
                let decision = userLimiter.take("u:" + subject)
                exchange.rateDecision = decision
                guard decision.allowed else { throw APIError.rateLimited(retryAfter: decision.reset) }
            }
            return (route, context)
        }
    }

    /// A body refused from its headers by the HTTP server (413: announced over the limit, or a
    /// chunked one past it), answered like every other request: `X-Request-Id`, the IP's
    /// `RateLimit-*` (the request counts against its address), the security headers, metrics and
    /// the access log. (It used to go out bare: no request id to quote, no rate-limit headers.)
    public func refuseTooLarge(_ request: HTTPRequest) -> HTTPResponse {
        var exchange = Exchange(gateway: self, request: request)
        exchange.rateDecision = ipLimiter.take("ip:" + ClientNetwork.key(request.clientAddress))
        return complete(exchange, request, APIError.tooLarge(bodyLimit: configuration.http.maxBodyBytes).response)
    }

    /// An error as the JSON answer clients get.
    func errorResponse(_ error: any Error, _ exchange: Exchange) -> HTTPResponse {
        switch error {
        case let error as APIError: return error.response
        case let error as RPCError: return APIError(error).response
        default:
            runtime.logger.error("unexpected error: \(error)", ["request.id": exchange.requestID])
            return APIError(status: 500, code: "INTERNAL", pt: "Erro interno.", en: "Internal error.").response
        }
    }

    /// The headers every answer carries, then metrics and the access log.
    func complete(_ exchange: Exchange, _ request: HTTPRequest, _ answer: HTTPResponse) -> HTTPResponse {
        var response = answer
        if let decision = exchange.rateDecision { response.headers.append(contentsOf: decision.headers) }
        response.addHeader("X-Request-Id", exchange.requestID)
        response.addHeader("X-Content-Type-Options", "nosniff")
        if response.header("Cache-Control") == nil { response.addHeader("Cache-Control", "no-store") }
        Self.addSecurityHeaders(&response)
        // Headers only, stating the GET's length (not libmicrohttpd's `Content-Length: 0` of an emptied body).
        if request.method == "HEAD" { response = response.withoutBody() }
        let seconds = Double(MonotonicClock.nanoseconds() - exchange.start) / 1e9
        var errorCode: String?
        if response.status >= 400, let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
           let error = object["error"] as? [String: Any] {
            errorCode = error["code"] as? String
        }
        metrics.recordRequest(route: exchange.routeName, status: response.status, seconds: seconds, errorCode: errorCode)
        if runtime.logger.isEnabled(.info) {
            runtime.logger.info("http request", ["http.method": request.method, "http.route": exchange.routeName,
                                                 "http.status": String(response.status), "duration_us": String(Int(seconds * 1e6)),
                                                 "request.id": exchange.requestID, "client.address": request.clientAddress])
        }
        return response
    }

    /// What every answer carries unless its route set its own (the portal's page and assets send
    /// their Content-Security-Policy, downloads `sandbox`): nothing of an API answer may run,
    /// load or be framed, and no address leaks in a `Referer`.
    static let apiSecurityHeaders: [(String, String)] = [
        ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
    ]

    static func addSecurityHeaders(_ response: inout HTTPResponse) {
        for (name, value) in apiSecurityHeaders where response.header(name) == nil { response.addHeader(name, value) }
    }

    /// Finds the caller: `Authorization: Bearer` (API key or token) or the session cookie; checks
    /// the CSRF token for cookie sessions on unsafe methods.
    func authenticate(_ request: HTTPRequest, route: Route, into context: inout RequestContext) throws {
        if let authorization = request.header("authorization") {
            guard let token = Self.bearerToken(authorization) else {
                if route.access == .anonymous { return }
                throw APIError.unauthenticated
            }
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

    /// Refuses a caller whose standing changed after its session or key was made, where no
    /// event ends it at once: a customer of an organization deactivated in intake
    /// (``OrganizationAccess``), a member of the team whose workflow agent was deactivated
    /// (``AgentSignIns/stillActive(_:gateway:)``); and confirms a `customer_admin` sign-in as
    /// its company's administrator while its contact has intake's `admin` flag
    /// (``CompanyAdministratorAccess``; otherwise it acts as a plain customer). Anonymous routes
    /// and signing out are let through (a `customer_admin` is then not confirmed).
    func checkStanding(_ route: Route, _ context: inout RequestContext) throws {
        guard route.access != .anonymous, route.template != "/v1/auth/logout" else { return }
        if let user = context.user {
            try OrganizationAccess.require(role: user.role, organizationID: user.organizationID, gateway: self)
            try AgentSignIns.stillActive(user, gateway: self)
            if user.role == .customerAdmin { context.companyAdministratorConfirmed = try CompanyAdministratorAccess.holds(user, gateway: self) }
        } else if let key = context.apiKey {
            try OrganizationAccess.require(role: key.role, organizationID: key.organizationID, gateway: self)
        }
    }

    /// The token of an `Authorization: Bearer <token>` header (scheme in any case, surrounding
    /// blanks removed); `nil` for another scheme. Bytes for the ASCII case that every real token
    /// is; anything else as Foundation trims it.
    static func bearerToken(_ authorization: String) -> String? {
        guard hasPrefixIgnoringASCIICase(authorization, "bearer ") else {
            return nil
        }
        let rest = authorization.utf8.dropFirst(7)
        let isBlank = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard let start = rest.firstIndex(where: { !isBlank($0) }), let end = rest.lastIndex(where: { !isBlank($0) }) else { return "" }
        if rest[start] < 0x80 && rest[end] < 0x80 { return String(Substring(rest[start...end])) }
        return String(Substring(rest)).trimmingCharacters(in: .whitespaces)
    }

    /// A representative's principal carries the organizations it acts for, asked of intake.
    func representing(into context: inout RequestContext) throws {
        guard let user = context.user, user.role == .representative else { return }
        context.representedOrganizationIDs = try representatives.organizations(of: user.representativeID ?? "",
                                                                                lookup: RepresentativeDirectory.intakeLookup(self))
    }

    /// A caller's `X-Request-Id`, when acceptable (``RequestIDs/accepted(_:)``).
    static func cleanRequestID(_ text: String?) -> String? {
        RequestIDs.accepted(text)
    }

    // MARK: calls to services

    /// Calls `path` on `service` with encoded bytes, recording metrics; errors are ``RPCError``.
    /// - Parameter serving: the call being served on the public RPC port, if any: its caller's
    ///   CANCEL (or its expiry) cancels the forwarded call too.
    public func forward(service: String, path: String, payload: [UInt8], options: CallOptions,
                        serving context: ServerContext? = nil) throws -> [UInt8] {
        let start = MonotonicClock.nanoseconds()
        do {
            let client = clients[service] ?? runtime.client(for: service)
            let bytes = try client.callRaw(path: path, payload: payload, options: options, cancellingWith: context)
            metrics.recordCall(method: path, code: 0, nanoseconds: MonotonicClock.nanoseconds() - start)
            return bytes
        } catch let error as RPCError {
            metrics.recordCall(method: path, code: error.code.rawValue, nanoseconds: MonotonicClock.nanoseconds() - start)
            throw unreachable(service, path: path, error, requestID: options.metadata[MetadataKey.requestID])
        }
    }

    /// A service that cannot be reached (or did not answer in time), as the caller is told:
    /// same status, a message naming the service instead of the transport's (which named an
    /// internal address and port, `cannot connect to 10.0.0.7:7101: Connection refused`, and
    /// not the service); the transport's text goes to the log with the request id.
    func unreachable(_ service: String, path: String, _ error: RPCError, requestID: String?) -> RPCError {
        guard error.code == .unavailable || error.code == .deadlineExceeded else { return error }
        runtime.logger.warning("service call failed: \(error)", ["peer.service": service, "rpc.method": path, "request.id": requestID ?? ""])
        var named = error
        named.message = error.code == .unavailable
            ? "serviço \(service) indisponível no momento; tente de novo em instantes / the \(service) service is unavailable right now; try again shortly"
            : "o serviço \(service) não respondeu a tempo; tente de novo em instantes / the \(service) service did not answer in time; try again shortly"
        return named
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
