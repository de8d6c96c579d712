/// Who may call a route.
public enum RouteAccess: Sendable {
    /// No credentials needed (login, health, the OpenAPI document, portal assets).
    case anonymous
    /// A signed-in user, an API key or a bearer token.
    case authenticated
}

/// A route: method, path template with `{name}` segments, access and handler.
public struct Route: Sendable {
    public var method: String { didSet { name = "\(method) \(template)" } }
    /// `/v1/tickets/{id}`: also the route's name in metrics and in the OpenAPI document.
    public var template: String { didSet { name = "\(method) \(template)" } }
    /// `POST /v1/tickets`: how metrics and logs name the route (made once, not per request).
    public private(set) var name: String
    public var access: RouteAccess
    /// The permission the caller's principal must hold (administrators hold every one), checked
    /// by the gateway before the route runs (403 otherwise): e.g. `tickets.work` on the routes
    /// that change tickets, so a customer or a read-only API key is refused before its request
    /// is read. The owning service checks it again.
    public var permission: String?
    /// The permission an API key must hold to call the route (403 otherwise), when people are
    /// decided by the services alone (a customer replies, opens, edits their company's contacts
    /// without it): e.g. `tickets.work` on opening, replying, cancelling and intake's directory
    /// writes, so a read-only key changes nothing. The owning service checks it again.
    public var keyPermission: String?
    public var handler: @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse
    /// The RPC this route is, when it is a plain binding.
    public var binding: RPCBinding?
    /// Set on routes whose request body streams (``streamingBodies(when:asForm:_:)``,
    /// ``Router/addStreaming(_:_:_:)``): what takes it
    /// piece by piece once the request is admitted.
    public var bodyConsumer: (@Sendable (HTTPRequest, RequestContext) throws -> any RequestBodyConsumer)?
    /// Which requests of a route with a ``bodyConsumer`` stream, by `Content-Type` (the others
    /// are collected and go to ``handler``).
    public var streamsBody: @Sendable (_ contentType: String?) -> Bool = { _ in true }
    /// The streamed body is a form, parsed into fields (else raw bytes, whatever its type).
    public var streamsForm = false
    let segments: [Segment]

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    public init(_ method: String, _ template: String, access: RouteAccess = .authenticated,
                _ handler: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        self.method = method
        self.template = template
        name = "\(method) \(template)"
        self.access = access
        self.handler = handler
        segments = template.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// This route, refused (403) to callers whose principal lacks `permission`.
    public func requiring(_ permission: String) -> Route {
        var route = self
        route.permission = permission
        return route
    }

    /// This route, refused (403) to API keys that lack `permission`.
    public func requiringOfKeys(_ permission: String) -> Route {
        var route = self
        route.keyPermission = permission
        return route
    }

    /// This route with its request bodies streaming into `consumer` as they arrive (only those
    /// whose `Content-Type` satisfies `when`; the others are collected and go to ``handler``),
    /// parsed as form fields when `asForm`. The consumer gets the request with its path
    /// parameters (`/v1/tickets/{id}/replies`).
    public func streamingBodies(when: @escaping @Sendable (_ contentType: String?) -> Bool = { _ in true }, asForm: Bool = false,
                                _ consumer: @escaping @Sendable (HTTPRequest, RequestContext) throws -> any RequestBodyConsumer) -> Route {
        var route = self
        route.bodyConsumer = consumer
        route.streamsBody = when
        route.streamsForm = asForm
        return route
    }

    func match(_ parts: [Substring]) -> [String: String]? {
        Self.match(segments, parts)
    }

    /// The path parameters when `parts` fit `segments`, `nil` otherwise.
    static func match(_ segments: [Segment], _ parts: [Substring]) -> [String: String]? {
        guard parts.count == segments.count else { return nil }
        // Literals first: most routes are ruled out without building anything.
        for (segment, part) in zip(segments, parts) {
            if case .literal(let text) = segment, text != part { return nil }
        }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            guard case .parameter(let name) = segment else { continue }
            guard !part.isEmpty else { return nil }
            // Without a `%` there is nothing to decode (Foundation's decoding is the slow part).
            parameters[name] = part.utf8.contains(UInt8(ascii: "%")) ? (String(part).removingPercentEncoding ?? String(part)) : String(part)
        }
        return parameters
    }
}

/// Finds the route for a method and path; literal segments win over parameters by order of
/// registration (register `/v1/tickets/mine` before `/v1/tickets/{id}`).
public struct Router: Sendable {
    public private(set) var routes: [Route] = []
    /// Positions in ``routes`` by number of path segments, in order of registration, with each
    /// route's segments and method: a lookup walks only the routes of the path's length and
    /// never copies a ``Route`` it does not return.
    private var byLength: [Int: [(index: Int, method: String, segments: [Route.Segment])]] = [:]

    public init() {}

    public mutating func add(_ route: Route) {
        byLength[route.segments.count, default: []].append((routes.count, route.method, route.segments))
        routes.append(route)
    }

    public mutating func add(_ method: String, _ template: String, access: RouteAccess = .authenticated,
                             _ handler: @escaping @Sendable (HTTPRequest, RequestContext) throws -> HTTPResponse) {
        add(Route(method, template, access: access, handler))
    }

    /// A route whose body streams into `consumer` as it arrives (no template parameters). When
    /// a body was collected anyway (a server without streaming), it is fed whole to the same
    /// consumer.
    public mutating func addStreaming(_ method: String, _ template: String,
                                      _ consumer: @escaping @Sendable (HTTPRequest, RequestContext) throws -> any RequestBodyConsumer) {
        add(Route(method, template) { request, context in
            let sink = try consumer(request, context)
            do {
                try request.body.withUnsafeBytes { try sink.write($0) }
                return try sink.finish()
            } catch {
                sink.abandon()
                throw error
            }
        }.streamingBodies(consumer))
    }

    /// What a lookup found.
    public enum Match {
        case found(Route, [String: String])
        /// The path exists with other methods (405).
        case methodNotAllowed([String])
        case notFound
    }

    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for candidate in byLength[parts.count] ?? [] {
            guard let parameters = Route.match(candidate.segments, parts) else { continue }
            if candidate.method == method || (method == "HEAD" && candidate.method == "GET") { return .found(routes[candidate.index], parameters) }
            allowed.append(candidate.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }
}
