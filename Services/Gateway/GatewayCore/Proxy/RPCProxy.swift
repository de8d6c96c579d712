import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Synchronization

/// The gateway's public RPC port: the services' binary protocol, authenticated with an
/// integration API key instead of the deployment secret, each call forwarded to the service that
/// owns the method (`/ocorrencias.<service>.v1.X/M` → `<service>`), signed with the key's principal.
///
/// - Calls to `ocorrencias.rpc.v1.*` built-ins: health and echo go to the service named in the
///   `service` metadata (without it the gateway answers: health of the gateway); reflection is
///   the gateway's answer, listing the methods of the services behind it (of the one named, if
///   any) without the internal ones (event delivery and feeds, built-ins); a service's outbox
///   statistics need what `/metrics` needs over HTTP (administrator or `metrics.read`); any
///   other built-in is `UNIMPLEMENTED`.
/// - Event delivery (`ocorrencias.events.v1.*`) is internal and refused.
/// - The same per-key rate limit as HTTP applies (`RESOURCE_EXHAUSTED` when exceeded, with
///   `status.retry_after_ms`).
/// - Streaming methods (client, server and bidirectional) are forwarded as streams, message by
///   message under both sides' flow control, with the same checks.
/// - Cancelling a call, unary or streaming (or its deadline passing), cancels the forwarded one.
public final class RPCProxy: Sendable {
    public let server: RPCServer
    private let keys: KeyAuthenticator

    /// Metadata key carrying the authenticated key's id to the forwarding handler.
    static let keyIDKey = "gateway-api-key-id"

    /// A proxy serving `gateway` at once (start it with ``start(listeningOn:)``).
    public convenience init(gateway: Gateway, port: Int) {
        let runtime = gateway.runtime
        self.init(service: runtime.configuration, secret: runtime.secret, logger: runtime.logger, port: port) {
            StartingReason(pt: "preparando o serviço", en: "preparing the service")
        }
        serve(gateway)
    }

    /// A proxy that listens before the gateway is ready (its database migrating): until
    /// ``serve(_:)``, a connection whose AUTH frame carries an API key is let in unchecked (no
    /// key can be checked yet), `Health/Check` answers `NOT_SERVING` with `whileStarting()`'s
    /// reason and every other call `UNAVAILABLE` with `status.retry_after_ms`, as a service
    /// does while it migrates (``RPCServer/init(configuration:logger:whileStarting:)``), instead
    /// of leaving callers in the listen backlog. Nothing is forwarded before then, and every call
    /// checks its key again once it serves, so a connection let in unchecked gains nothing.
    init(service: ServiceConfiguration, secret: DeploymentSecret, logger: Logger, port: Int,
         whileStarting: @escaping @Sendable () -> StartingReason) {
        keys = KeyAuthenticator(logger: logger)
        var configuration = ServerConfiguration(serviceName: "gateway-rpc", secret: secret)
        configuration.host = service.host
        configuration.port = port
        configuration.limits = service.limits
        configuration.workerThreads = service.workers
        configuration.authenticator = keys
        server = RPCServer(configuration: configuration, logger: logger, whileStarting: whileStarting)
    }

    /// From now on keys are checked against `gateway`'s credentials and calls forwarded; once.
    func serve(_ gateway: Gateway) {
        keys.perKeyLimit.store(gateway.configuration.proxyConnectionsPerKey, ordering: .relaxed)
        _ = keys.store.storeIfNil(gateway.store)
        var router = RPCRouter()
        router.registerFallback { [gateway] payload, context in
            try Self.forward(gateway: gateway, payload: Array(payload), context: context)
        }
        for info in Self.streamingMethods(services: gateway.configuration.services) {
            router.registerRawStreaming(info) { [gateway] requests, responses, context in
                try Self.forwardStream(gateway: gateway, info: info, requests: requests, responses: responses, context: context)
            }
        }
        server.serve(router)
    }

    /// Starts listening on `listener` (bound beforehand), else on the port given at init.
    public func start(listeningOn listener: ListeningSocket? = nil) throws { try server.start(listeningOn: listener) }
    public func stop() { server.shutdown(gracePeriodMilliseconds: 2_000) }

    /// Checks the key on every call (a revoked key stops working at once), applies the rate
    /// limit, signs the key's principal and forwards.
    static func forward(gateway: Gateway, payload: [UInt8], context: ServerContext) throws -> [UInt8] {
        let (target, options) = try authorize(gateway: gateway, context: context)
        guard let target else {
            return try answerBuiltin(gateway: gateway, method: context.method, payload: payload, options: options,
                                     only: context.metadata[MetadataKey.service])
        }
        // A CANCEL from the client (or the call expiring here) cancels the forwarded call.
        return try gateway.forward(service: target, path: context.method, payload: payload, options: options, serving: context)
    }

    /// ``CredentialStore/verifyAPIKey(_:)`` with its refusals as the RPC port answers them
    /// (`UNAUTHENTICATED` with the reason: a key whose maker is disabled).
    static func verified(_ key: String, store: CredentialStore) throws -> APIKeyRecord? {
        do {
            return try store.verifyAPIKey(key)
        } catch let refused as APIError {
            throw RPCError(.unauthenticated, "\(refused.messagePT) / \(refused.messageEN)")
        }
    }

    /// What every call goes through, unary or streaming: the key checked again, its rate limit,
    /// the owning service chosen by method name (`nil`: the gateway's own built-ins), and the
    /// options of the forwarded call (the key's principal signed in, the caller's deadline,
    /// request id, trace id and idempotency key).
    static func authorize(gateway: Gateway, context: ServerContext) throws -> (service: String?, options: CallOptions) {
        guard let key = context.metadata[MetadataKey.apiKey], let record = try verified(key, store: gateway.store) else {
            throw RPCError(.unauthenticated, "chave de API inválida ou revogada / invalid or revoked API key")
        }
        do {
            try OrganizationAccess.require(role: record.role, organizationID: record.organizationID, gateway: gateway)
        } catch let refused as APIError {
            throw RPCError(refused.status == 403 ? .permissionDenied : .unavailable, "\(refused.messagePT) / \(refused.messageEN)")
        }
        let decision = gateway.userLimiter.take("u:" + record.id)
        guard decision.allowed else {
            // The wait is in the message for people and in the metadata for programs.
            throw RPCError(.resourceExhausted,
                           "limite de requisições excedido; tente de novo em \(decision.reset) s / rate limit exceeded; try again in \(decision.reset) s",
                           metadata: [ErrorMetadata.retryAfterMilliseconds: String(max(1, decision.reset) * 1_000)])
        }
        let method = context.method
        guard let service = Gateway.service(ofMethod: method) else {
            throw RPCError(.unimplemented, "método desconhecido / unknown method \(method)")
        }
        // The caller's request and trace ids only when acceptable (RequestIDs): they are logged
        // by every process on the way.
        var options = CallOptions(deadline: context.deadline, metadata: [MetadataKey.requestID: context.requestID])
        for (k, v) in gateway.signer.metadata(for: record.principal) { options.metadata[k] = v }
        if let idempotency = context.idempotencyKey { options.metadata[MetadataKey.idempotencyKey] = idempotency }
        if let trace = RequestIDs.accepted(context.metadata[MetadataKey.traceID]) { options.metadata[MetadataKey.traceID] = trace }
        switch service {
        case "events":
            throw RPCError(.permissionDenied, "entrega de eventos é interna / event delivery is internal")
        case "rpc":
            var target: String?
            if let named = context.metadata[MetadataKey.service], named != "gateway" {
                guard gateway.configuration.services.contains(named) else {
                    throw RPCError(.notFound, "serviço desconhecido / unknown service \(named)")
                }
                target = named
            }
            switch method {
            case RpcV1.Health.check.path, RpcV1.Echo.echo.path, RpcV1.Echo.echoStream.path:
                return (target, options)
            case RpcV1.Reflection.listMethods.path:
                // Answered here, without the internal methods (answerBuiltin).
                return (nil, options)
            case RpcV1.Stats.outbox.path where target != nil:
                // Operational figures: what GET /metrics asks of an HTTP caller.
                let principal = record.principal
                guard principal.administrator || principal.permissions.contains("metrics.read") else {
                    throw RPCError(.permissionDenied, "sem permissão para métricas / no permission for metrics")
                }
                return (target, options)
            default:
                throw RPCError(.unimplemented, "método desconhecido / unknown method \(method)")
            }
        default:
            guard gateway.configuration.services.contains(service) else {
                throw RPCError(.unimplemented, "método desconhecido / unknown method \(method)")
            }
            return (service, options)
        }
    }

    /// The streaming methods of the services behind the gateway (and the built-in echo stream),
    /// from the generated method lists: the server must know a method streams before its first frame.
    static func streamingMethods(services: [String]) -> [RPCMethodInfo] {
        var lists: [String: [RPCMethodInfo]] = [
            "intake": IntakeV1.Intake.methods,
            "workflow": WorkflowV1.Workflow.methods + WorkflowV1.WorkflowTime.methods,
            "knowledge": KnowledgeV1.Knowledge.methods,
            "notification": NotificationV1.Notification.methods,
        ]
        lists["rpc"] = RpcV1.Echo.methods
        var seen = Set<String>()
        return (services + ["rpc"]).flatMap { lists[$0] ?? [] }
            .filter { ($0.clientStreaming || $0.serverStreaming) && seen.insert($0.path).inserted }
    }

    /// Forwards a streaming call: requests flow to the service as they arrive (on a thread of
    /// their own when both sides stream), responses flow back under the client's flow control.
    /// Any failure or a cancel on either side cancels the other.
    static func forwardStream(gateway: Gateway, info: RPCMethodInfo, requests: RawRequestStream, responses: RawResponseWriter,
                              context: ServerContext) throws -> [UInt8]? {
        let (target, options) = try authorize(gateway: gateway, context: context)
        guard let target else {
            throw RPCError(.unimplemented, "método desconhecido / unknown method \(context.method)")
        }
        let start = MonotonicClock.nanoseconds()
        let first = info.clientStreaming ? nil : (try requests.receive() ?? [])
        let upstream: RawStreamingCall
        do {
            upstream = try gateway.runtime.client(for: target).rawStream(path: context.method, clientStreaming: info.clientStreaming,
                                                                         first: first, options: options)
        } catch let error as RPCError {
            gateway.metrics.recordCall(method: context.method, code: error.code.rawValue, nanoseconds: MonotonicClock.nanoseconds() - start)
            throw error
        }
        context.onCancel { upstream.cancel() }
        do {
            if info.clientStreaming && info.serverStreaming {
                let pump = Thread {
                    do {
                        while let message = try requests.receive() { try upstream.send(message) }
                        try upstream.closeSend()
                    } catch {
                        upstream.cancel()
                    }
                }
                pump.name = "proxy-stream-requests"
                pump.start()
            } else if info.clientStreaming {
                while let message = try requests.receive() { try upstream.send(message) }
                try upstream.closeSend()
            }
            var single: [UInt8] = []
            while let message = try upstream.receive() {
                if info.serverStreaming { try responses.send(message) } else { single = message }
            }
            gateway.metrics.recordCall(method: context.method, code: 0, nanoseconds: MonotonicClock.nanoseconds() - start)
            return info.serverStreaming ? nil : single
        } catch {
            upstream.cancel()
            let code = (error as? RPCError)?.code.rawValue ?? RPCStatusCode.internal.rawValue
            gateway.metrics.recordCall(method: context.method, code: code, nanoseconds: MonotonicClock.nanoseconds() - start)
            throw error
        }
    }

    /// The built-ins this port passes to the service named in `service` metadata (Stats/Outbox
    /// only to callers who may read metrics), which a service's reflection here lists.
    static let forwardedBuiltins: Set<String> = [RpcV1.Health.check.path, RpcV1.Echo.echo.path, RpcV1.Echo.echoStream.path,
                                                 RpcV1.Reflection.listMethods.path, RpcV1.Stats.outbox.path]

    /// - Parameter only: the service named in the call's `service` metadata: reflection lists its
    ///   methods alone (none named, or `gateway`: every service's).
    static func answerBuiltin(gateway: Gateway, method: String, payload: [UInt8], options: CallOptions, only: String? = nil) throws -> [UInt8] {
        switch method {
        case RpcV1.Health.check.path:
            var response = RpcV1.HealthCheckResponse()
            response.status = (try? gateway.runtime.database.ping()) != nil ? .serving : .notServing
            return response.serializedBytes()
        case RpcV1.Echo.echo.path:
            let request = try RpcV1.EchoRequest(serializedBytes: payload)
            var response = RpcV1.EchoResponse()
            response.payload = request.payload
            return response.serializedBytes()
        case RpcV1.Reflection.listMethods.path:
            var all = RpcV1.ListMethodsResponse()
            all.service = "gateway-rpc"
            if let named = only.flatMap({ $0 == "gateway" ? nil : $0 }) {
                // One service's own listing, its refusal as it is (a stopped service: UNAVAILABLE),
                // without what this port does not forward (event delivery and feeds).
                let listed = try RpcV1.ListMethodsResponse(serializedBytes: gateway.forward(service: named, path: method, payload: payload, options: options))
                all.service = listed.service
                all.methods = listed.methods.filter {
                    forwardedBuiltins.contains($0.name) || !($0.name.hasPrefix("/ocorrencias.rpc.v1.") || $0.name.hasPrefix("/ocorrencias.events.v1."))
                }
                return all.serializedBytes()
            }
            for service in gateway.configuration.services {
                guard let bytes = try? gateway.forward(service: service, path: method, payload: payload, options: options),
                      let listed = try? RpcV1.ListMethodsResponse(serializedBytes: bytes) else { continue }
                all.methods += listed.methods.filter {
                    !$0.name.hasPrefix("/ocorrencias.rpc.v1.") && !$0.name.hasPrefix("/ocorrencias.events.v1.")
                }
            }
            return all.serializedBytes()
        default:
            throw RPCError(.unimplemented, "método desconhecido / unknown method \(method)")
        }
    }
}

/// Accepts connections whose AUTH frame carries a valid, unrevoked API key in `api-key`; before
/// the gateway's credentials are there (``RPCProxy/serve(_:)``), any non-empty key, unchecked
/// (see ``RPCProxy/init(service:secret:logger:port:whileStarting:)``).
///
/// One key holds at most ``perKeyLimit`` connections at once (`GATEWAY_RPC_MAX_CONNECTIONS_PER_KEY`):
/// beyond it a connection is refused with `RESOURCE_EXHAUSTED`. Without it one key's system
/// (a customer's, say) could hold every slot of the port, kept open by PINGs, and keep every
/// other integration out.
final class KeyAuthenticator: ConnectionAuthenticator {
    let store = AtomicLazyReference<CredentialStore>()
    let logger: Logger
    let perKeyLimit = Atomic<Int>(Int.max)
    /// Open connections per key id.
    private let open = Mutex<[String: Int]>([:])

    init(logger: Logger) { self.logger = logger }

    func authenticate(metadata: [String: String], payload: [UInt8], peer: String) throws -> [String: String]? {
        guard let key = metadata[MetadataKey.apiKey], !key.isEmpty else { return nil }
        guard let store = store.load() else {
            logger.debug("rpc proxy connection let in while the gateway starts", ["peer": peer])
            return [MetadataKey.apiKey: key]
        }
        let record: APIKeyRecord
        do {
            guard let verified = try RPCProxy.verified(key, store: store) else { return nil }
            record = verified
        } catch let error as RPCError where error.code == .unauthenticated {
            throw error
        } catch {
            return nil
        }
        let limit = perKeyLimit.load(ordering: .relaxed)
        let admitted = open.withLock { open in
            guard open[record.id, default: 0] < limit else { return false }
            open[record.id, default: 0] += 1
            return true
        }
        guard admitted else {
            throw RPCError(.resourceExhausted,
                           "conexões demais abertas com esta chave de API (\(limit)) / too many connections open with this API key (\(limit))",
                           metadata: [ErrorMetadata.retryAfterMilliseconds: "1000"])
        }
        logger.info("rpc proxy connection authenticated", ["api_key.id": record.id, "peer": peer])
        return [MetadataKey.apiKey: key, RPCProxy.keyIDKey: record.id]
    }

    func connectionClosed(attached: [String: String]) {
        guard let id = attached[RPCProxy.keyIDKey] else { return }
        open.withLock { open in
            let left = open[id, default: 1] - 1
            open[id] = left > 0 ? left : nil
        }
    }

    /// Connections open with key `id` (tests).
    func openConnections(key id: String) -> Int { open.withLock { $0[id, default: 0] } }
}

extension Gateway {
    /// The proxy port's own server metrics (calls by method and status), when it runs.
    func proxyMetricsText() -> String {
        GatewayService.proxyServer.withLock { $0 }?.metrics.prometheusText(service: "gateway-rpc") ?? ""
    }
}
