/// Who may call a route.
public enum RouteAccess: Sendable {
    /// No credentials needed (login, health, the OpenAPI document, portal assets).
    case anonymous
    /// A signed-in user, an API key or a bearer token.
    case authenticated
}

/// A route: method, path template with `{name}` segments, access and handler.
public struct Route: Sendable {
    public var method: String
    /// `/v1/tickets/{id}`: also the route's name in metrics and in the OpenAPI document.
    public var template: String
    public var access: RouteAccess
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
        self.access = access
        self.handler = handler
        segments = template.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
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
        guard parts.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): if text != part { return nil }
            case .parameter(let name):
                guard !part.isEmpty else { return nil }
                parameters[name] = String(part).removingPercentEncoding ?? String(part)
            }
        }
        return parameters
    }
}

/// Finds the route for a method and path; literal segments win over parameters by order of
/// registration (register `/v1/tickets/mine` before `/v1/tickets/{id}`).
public struct Router: Sendable {
    public private(set) var routes: [Route] = []

    public init() {}

    public mutating func add(_ route: Route) { routes.append(route) }

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
        for route in routes {
            guard let parameters = route.match(parts) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") { return .found(route, parameters) }
            allowed.append(route.method)
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }
}
