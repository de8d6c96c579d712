import Messages
import RPC

/// The methods every service answers: `Health/Check`, `Reflection/ListMethods` and `Echo`.
public enum BuiltinServices {
    /// What a health probe reports.
    public enum HealthStatus: Sendable {
        case serving
        case notServing(String)
    }

    /// Registers the built-in methods.
    /// - Parameters:
    ///   - service: the service's name, reported by reflection.
    ///   - health: asked on every `Health/Check`; return `.serving` only when the database answers.
    public static func register(in router: inout RPCRouter, service: String,
                                health: @escaping @Sendable () -> HealthStatus) {
        router.register(RpcV1.Health.check) { _, _ in
            var response = RpcV1.HealthCheckResponse()
            switch health() {
            case .serving:
                response.status = .serving
            case .notServing(let detail):
                response.status = .notServing
                response.detail = detail
            }
            return response
        }
        router.register(RpcV1.Echo.echo, execution: .inline) { request, _ in
            var response = RpcV1.EchoResponse()
            response.payload = request.payload
            return response
        }
        router.registerStreaming(RpcV1.Echo.echoStream) { requests, responses, _ in
            while let request = try requests.receive() {
                var response = RpcV1.EchoResponse()
                response.payload = request.payload
                try responses.send(response)
            }
            return nil
        }
        // Reflection lists every method registered, including those added after this call.
        let routerBox = ReflectionSource()
        router.register(RpcV1.Reflection.listMethods, execution: .inline) { _, _ in
            var response = RpcV1.ListMethodsResponse()
            response.service = service
            response.methods = routerBox.methods.map { info in
                var m = RpcV1.MethodInfo()
                m.name = info.path
                m.requestType = info.requestType
                m.responseType = info.responseType
                m.clientStreaming = info.clientStreaming
                m.serverStreaming = info.serverStreaming
                return m
            }
            return response
        }
        router.reflectionSources.append(routerBox)
    }
}

/// Receives the final method list when the server starts (see ``RPCRouter/sealForServing()``).
final class ReflectionSource: @unchecked Sendable {
    // Written once before the server starts, read afterwards.
    var methods: [RPCMethodInfo] = []
}
