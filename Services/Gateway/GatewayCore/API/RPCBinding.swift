import CMessages
import Foundation
import Messages
import RPC
import RPCTransport

/// An HTTP route that is one RPC: the JSON body (the request message's `.proto` field names),
/// path parameters and query arguments become the request message; the response message comes
/// back as JSON with the same names. Enums travel by name, `bytes` as base64.
///
/// ```swift
/// router.add(RPCBinding.route("POST", "/v1/tickets/{id}/cancel", "intake", IntakeV1.Intake.cancelTicket,
///                             path: ["id": "ticket"]))
/// ```
public struct RPCBinding: Sendable {
    public var service: String
    public var methodPath: String
    /// Path parameter → request field.
    public var path: [String: String]
    /// Query argument → request field (dotted for nested messages; repeated fields take a comma list).
    public var query: [String: String]
    public var requestType: String
    public var responseType: String = ""
    /// HTTP status of a success.
    public var status: Int = 200
    /// Whether the JSON body feeds the request.
    public var readsBody = false
    let requestDescriptor: _ProtoDescriptor
    let responseDescriptor: _ProtoDescriptor

    /// Every request field the binding fills from the URL (checked by a test against the descriptors).
    public var mappedFields: [String] { Array(path.values) + Array(query.values) }

    /// True when `field` exists in the request message.
    public func requestHasField(_ field: String) -> Bool { ProtoJSON.hasField(field, in: requestDescriptor.pointer) }

    /// A route calling `method` of `service`.
    /// - Parameters:
    ///   - status: the HTTP status of a success (201 for creations).
    ///   - body: whether the JSON body feeds the request (default: for methods other than GET and DELETE).
    public static func route<Request, Response>(_ httpMethod: String, _ template: String, _ service: String,
                                                _ method: RPCMethod<Request, Response>, path: [String: String] = [:],
                                                query: [String: String] = [:], status: Int = 200, body: Bool? = nil,
                                                access: RouteAccess = .authenticated) -> Route {
        var binding = RPCBinding(service: service, methodPath: method.path, path: path, query: query, requestType: Request.protoName,
                                 requestDescriptor: Request._descriptor, responseDescriptor: Response._descriptor)
        let readsBody = body ?? !(httpMethod == "GET" || httpMethod == "DELETE")
        binding.responseType = Response.protoName
        binding.status = status
        binding.readsBody = readsBody
        let bound = binding
        var route = Route(httpMethod, template, access: access) { request, context in
            let binding = bound
            // A body that is the whole request: read straight into the message when it can be.
            if readsBody, binding.takesBodyAlone(request), let payload = ProtoJSON.encodeDirect(request.body, as: binding.requestDescriptor.pointer) {
                return .jsonText(try binding.callText(payload: payload, context: context), status: status)
            }
            // Errors about a query argument name it as the caller sent it (CallerFieldNames).
            return try QueryArgumentNames(binding.query, readsBody: readsBody).naming(request) {
                let json = try binding.requestJSON(request, readsBody: readsBody)
                return .jsonText(try binding.callText(json, context: context), status: status)
            }
        }
        route.binding = bound
        return route
    }

    /// The request message as JSON: body, then query arguments, then path parameters (which win).
    func requestJSON(_ request: HTTPRequest, readsBody: Bool) throws -> [String: Any] {
        var json = readsBody ? try request.jsonObject() : [:]
        for (argument, field) in query {
            guard let text = request.query[argument], !text.isEmpty else { continue }
            let value: Any
            if ProtoJSON.isRepeated(field, in: requestDescriptor.pointer) {
                value = text.split(separator: ",").map { String($0) }
            } else if text == "true" || text == "false" {
                value = text == "true"
            } else {
                value = text
            }
            Self.set(&json, field.split(separator: ".").map(String.init), value)
        }
        for (parameter, field) in path { Self.set(&json, field.split(separator: ".").map(String.init), request.parameter(parameter)) }
        return json
    }

    /// True when nothing but the body feeds the request (no path parameter, no mapped query argument).
    func takesBodyAlone(_ request: HTTPRequest) -> Bool {
        path.isEmpty && query.keys.allSatisfy { (request.query[$0] ?? "").isEmpty }
    }

    static func set(_ object: inout [String: Any], _ path: [String], _ value: Any) {
        guard let first = path.first else { return }
        if path.count == 1 {
            object[first] = value
            return
        }
        var nested = object[first] as? [String: Any] ?? [:]
        set(&nested, Array(path.dropFirst()), value)
        object[first] = nested
    }

    /// Encodes, calls on the caller's behalf, decodes.
    func call(_ json: [String: Any], context: RequestContext) throws -> [String: Any] {
        try ProtoJSON.decode(try callRaw(json, context: context), as: responseDescriptor.pointer)
    }

    /// Encodes, calls on the caller's behalf, and writes the answer as JSON text directly.
    func callText(_ json: [String: Any], context: RequestContext) throws -> [UInt8] {
        try ProtoJSON.jsonText(try callRaw(json, context: context), as: responseDescriptor.pointer)
    }

    /// Encodes and calls on the caller's behalf; the answer's bytes.
    func callRaw(_ json: [String: Any], context: RequestContext) throws -> [UInt8] {
        let payload: [UInt8]
        do { payload = try ProtoJSON.encode(json, as: requestDescriptor.pointer) } catch let error as ProtoJSON.Failure {
            throw APIError(status: 400, code: "INVALID_ARGUMENT", pt: "Requisição inválida.", en: "Invalid request.",
                           details: [.init(field: error.field, reason: "invalid", pt: error.pt, en: error.en)])
        }
        return try context.gateway.forward(service: service, path: methodPath, payload: payload, options: context.callOptions())
    }

    /// Calls with a request encoded already and writes the answer as JSON text.
    func callText(payload: [UInt8], context: RequestContext) throws -> [UInt8] {
        let answer = try context.gateway.forward(service: service, path: methodPath, payload: payload, options: context.callOptions())
        return try ProtoJSON.jsonText(answer, as: responseDescriptor.pointer)
    }
}

extension RequestContext {
    /// Calls a method with a JSON request and returns the JSON response (for routes composing several calls).
    public func callJSON<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ json: [String: Any]) throws -> [String: Any] {
        let binding = RPCBinding(service: service, methodPath: method.path, path: [:], query: [:], requestType: Request.protoName,
                                 requestDescriptor: Request._descriptor, responseDescriptor: Response._descriptor)
        return try binding.call(json, context: self)
    }

    /// Like ``callJSON(_:_:_:)``, the answer written as JSON text directly (no dictionary).
    public func callJSONText<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ json: [String: Any]) throws -> [UInt8] {
        let binding = RPCBinding(service: service, methodPath: method.path, path: [:], query: [:], requestType: Request.protoName,
                                 requestDescriptor: Request._descriptor, responseDescriptor: Response._descriptor)
        return try binding.callText(json, context: self)
    }
}

/// A call started with ``RequestContext/startJSON(_:_:_:)``; ``wait()`` returns its JSON answer.
public final class PendingJSONCall: @unchecked Sendable {
    private let result = OneShotResult<Result<[UInt8], RPCError>>()
    private let decode: ([UInt8]) throws -> [String: Any]

    init(decode: @escaping ([UInt8]) throws -> [String: Any]) { self.decode = decode }

    func complete(_ value: Result<[UInt8], RPCError>) {
        result.complete(value)
    }

    /// Blocks until the answer arrives.
    /// - Throws: the call's ``RPCError``.
    public func wait() throws -> [String: Any] {
        try decode(try waitBytes())
    }

    /// Blocks until the answer arrives; its bytes.
    /// - Throws: the call's ``RPCError``.
    public func waitBytes() throws -> [UInt8] {
        try result.wait()!.get()
    }
}

extension RequestContext {
    /// Starts a call without waiting (to run two calls of one request at once).
    public func startJSON<Request, Response>(_ service: String, _ method: RPCMethod<Request, Response>, _ json: [String: Any]) -> PendingJSONCall {
        let pending = PendingJSONCall { bytes in try ProtoJSON.decode(bytes, as: Response._descriptor.pointer) }
        let payload: [UInt8]
        do { payload = try ProtoJSON.encode(json, as: Request._descriptor.pointer) } catch {
            pending.complete(.failure(RPCError(.invalidArgument, "\(error)")))
            return pending
        }
        let gateway = self.gateway
        let start = MonotonicClock.nanoseconds()
        (gateway.clients[service] ?? gateway.runtime.client(for: service)).start(path: method.path, payload: payload, options: callOptions()) { result in
            let code: Int32 = switch result {
            case .success: 0
            case .failure(let error): error.code.rawValue
            }
            gateway.metrics.recordCall(method: method.path, code: code, nanoseconds: MonotonicClock.nanoseconds() - start)
            pending.complete(result)
        }
        return pending
    }
}
