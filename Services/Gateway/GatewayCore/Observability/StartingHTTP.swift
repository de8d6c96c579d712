import Foundation
import RPCTransport
import ServiceKit
import Synchronization

/// The gateway's HTTP server from before its own database opens: while the gateway migrates it,
/// `GET /healthz` answers 200 `{"status":"starting","detail":…}` (the process is alive: a
/// liveness probe keeps it), `GET /readyz` 503 with the gateway `NOT_SERVING` and why ("migrando o
/// banco de dados (migração 3 de 7: …) / migrating the database (…)"), and every other request
/// 503 `UNAVAILABLE` with `Retry-After: 1`, its body read and dropped. Once the database is
/// ready, ``serve(_:)`` hands every request to the gateway, on the same socket.
final class StartingHTTP: Sendable {
    let server: HTTPServer
    private let target: Target

    /// The gateway once it serves; read once per request (one atomic load).
    final class Target: Sendable {
        let ready = AtomicLazyReference<Serving>()
    }

    final class Serving: Sendable {
        let gateway: Gateway
        let streaming: HTTPBodyStreaming
        init(gateway: Gateway) {
            self.gateway = gateway
            streaming = gateway.bodyStreaming
        }
    }

    init(configuration: GatewayConfiguration, startup: ServiceStartup) {
        let target = Target()
        let progress = startup.progress
        self.target = target
        let streaming = HTTPBodyStreaming(
            streams: { method, path, contentType in target.ready.load()?.streaming.streams(method, path, contentType) ?? false },
            begin: { request in
                guard let serving = target.ready.load() else { return .answer(Self.answer(request, progress.reason)) }
                return serving.streaming.begin(request)
            })
        server = HTTPServer(configuration: configuration.http, logger: startup.logger,
                            tooLarge: { request in
                                target.ready.load()?.gateway.refuseTooLarge(request)
                                    ?? APIError.tooLarge(bodyLimit: configuration.http.maxBodyBytes).response
                            },
                            streaming: streaming,
                            handler: { request in
                                target.ready.load()?.gateway.handle(request) ?? Self.answer(request, progress.reason)
                            })
    }

    /// From now on every request goes to `gateway`.
    func serve(_ gateway: Gateway) {
        _ = target.ready.storeIfNil(Serving(gateway: gateway))
    }

    /// What a request gets while the gateway starts.
    static func answer(_ request: HTTPRequest, _ reason: StartingReason) -> HTTPResponse {
        switch (request.method, request.path) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            return .json(["status": "starting", "detail": reason.text])
        case ("GET", "/readyz"), ("HEAD", "/readyz"):
            return .json(["status": "not_ready", "services": ["gateway": ["status": "NOT_SERVING", "detail": reason.text]]], status: 503)
        default:
            return APIError(status: 503, code: "UNAVAILABLE",
                            pt: "O gateway está iniciando (\(reason.pt)); tente de novo em instantes.",
                            en: "The gateway is starting (\(reason.en)); try again shortly.",
                            headers: [("Retry-After", "1")]).response
        }
    }
}
