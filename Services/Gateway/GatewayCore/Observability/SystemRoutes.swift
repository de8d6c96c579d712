import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// `/healthz`, `/readyz`, `/metrics` and `/openapi.yaml`.
enum SystemRoutes {
    static func register(in router: inout Router) {
        router.add("GET", "/healthz", access: .anonymous) { _, context in
            do {
                try context.gateway.runtime.database.ping()
                return .json(["status": "ok"])
            } catch {
                return APIError.unavailable.response
            }
        }
        router.add("GET", "/readyz", access: .anonymous) { _, context in
            let report = readiness(context.gateway)
            let ready = report.allSatisfy { $0.value["status"] as? String == "SERVING" }
            return .json(["status": ready ? "ready" : "not_ready", "services": report], status: ready ? 200 : 503)
        }
        router.add("GET", "/metrics") { _, context in
            let principal = try context.requirePrincipal()
            guard principal.administrator || principal.permissions.contains("metrics.read") else { throw APIError.forbidden }
            return .text(context.gateway.metrics.prometheusText(extra: context.gateway.proxyMetricsText() + backendMetrics(context.gateway)),
                         contentType: "text/plain; version=0.0.4; charset=utf-8")
        }
        router.add("GET", "/openapi.yaml", access: .anonymous) { _, _ in
            var response = HTTPResponse.text(OpenAPIDocument.yaml + "\n", contentType: "application/yaml; charset=utf-8")
            response.addHeader("Cache-Control", "public, max-age=300")
            return response
        }
    }

    /// Figures the services keep, read at scrape time (1 s each; a service that does not answer
    /// is left out): deliveries by state (notification) and open tickets by stage (workflow).
    static func backendMetrics(_ gateway: Gateway) -> String {
        var options = CallOptions(timeoutMilliseconds: 1_000)
        options.metadata = gateway.signer.metadata(for: PrincipalSigner.service("gateway"))
        var out = ""
        if let bytes = try? gateway.forward(service: "notification", path: NotificationV1.Notification.getStats.path,
                                            payload: NotificationV1.GetStatsRequest().serializedBytes(), options: options),
           let stats = try? NotificationV1.GetStatsResponse(serializedBytes: bytes) {
            out += "# HELP ocorrencias_deliveries Notification deliveries by state.\n# TYPE ocorrencias_deliveries gauge\n"
            for (state, value) in [("queued", stats.queued), ("sending", stats.sending), ("sent", stats.sent), ("failed", stats.failed),
                                   ("dead", stats.dead), ("resends", stats.resends)] {
                out += "ocorrencias_deliveries{state=\"\(state)\"} \(value)\n"
            }
        }
        if let bytes = try? gateway.forward(service: "workflow", path: WorkflowV1.Workflow.countByStage.path,
                                            payload: WorkflowV1.CountByStageRequest().serializedBytes(), options: options),
           let counts = try? WorkflowV1.CountByStageResponse(serializedBytes: bytes) {
            out += "# HELP ocorrencias_tickets_by_stage Tickets by workflow stage.\n# TYPE ocorrencias_tickets_by_stage gauge\n"
            for count in counts.counts {
                out += "ocorrencias_tickets_by_stage{stage=\"\(GatewayMetrics.escape(count.stage))\"} \(count.count)\n"
            }
        }
        return out + outboxMetrics(gateway) + gateway.viewCacheMetrics()
    }

    /// Outbox lag per service: `Stats/Outbox` on every service behind the gateway, concurrently,
    /// 500 ms each (a service that does not answer is left out of the lag series), and the
    /// gateway's own outbox; `ocorrencias_service_up` says which answered (``OutboxMetricsText``).
    static func outboxMetrics(_ gateway: Gateway) -> String {
        let services = gateway.configuration.services + ["gateway"]
        let results = Results(count: services.count)
        onThreads(services.count) { index in
            let service = services[index]
            if service == "gateway" {
                if let stats = try? gateway.runtime.database.read({ tx in try Outbox.stats(tx) }) {
                    results.set(index, ["stats": RpcV1.OutboxStatsResponse(stats)])
                }
                return
            }
            var options = CallOptions(timeoutMilliseconds: 500)
            options.metadata = gateway.signer.metadata(for: PrincipalSigner.service("gateway"))
            guard let bytes = try? gateway.forward(service: service, path: RpcV1.Stats.outbox.path,
                                                   payload: RpcV1.OutboxStatsRequest().serializedBytes(), options: options),
                  let stats = try? RpcV1.OutboxStatsResponse(serializedBytes: bytes) else { return }
            results.set(index, ["stats": stats])
        }
        return OutboxMetricsText.render(services: services,
                                        answers: services.indices.map { results.get($0)["stats"] as? RpcV1.OutboxStatsResponse })
    }

    /// Health/Check on every service behind the gateway, concurrently, 1 s each.
    static func readiness(_ gateway: Gateway) -> [String: [String: Any]] {
        let services = gateway.configuration.services + ["gateway"]
        let results = Results(count: services.count)
        onThreads(services.count) { index in
            let service = services[index]
            if service == "gateway" {
                // Its own database, as its RPC health check sees it (writes failing included).
                switch StorageWriteProbe.health(of: gateway.runtime.database) {
                case .serving: results.set(index, ["status": "SERVING"])
                case .notServing(let detail): results.set(index, ["status": "NOT_SERVING", "detail": detail])
                }
                return
            }
            var options = CallOptions(timeoutMilliseconds: 1_000)
            options.metadata = gateway.signer.metadata(for: PrincipalSigner.service("gateway"))
            do {
                let bytes = try gateway.forward(service: service, path: RpcV1.Health.check.path,
                                                payload: RpcV1.HealthCheckRequest().serializedBytes(), options: options)
                let health = try RpcV1.HealthCheckResponse(serializedBytes: bytes)
                results.set(index, ["status": health.status == .serving ? "SERVING" : "NOT_SERVING", "detail": health.detail])
            } catch let error as RPCError {
                results.set(index, ["status": "UNREACHABLE", "detail": error.code.name])
            } catch {
                results.set(index, ["status": "UNREACHABLE", "detail": "\(error)"])
            }
        }
        var out: [String: [String: Any]] = [:]
        for (index, service) in services.enumerated() { out[service] = results.get(index) }
        return out
    }

    /// Runs `body(0..<count)` at once, one thread each, and waits for all. The calls block on
    /// RPCs: `DispatchQueue.concurrentPerform` runs only as many at once as there are cores, and
    /// on Linux its pool is Swift concurrency's, so a busy pool ran the checks one after another.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = DispatchSemaphore(value: 0)
        for index in 0..<count {
            let thread = Thread {
                body(index)
                finished.signal()
            }
            thread.name = "gateway-fan-out"
            thread.start()
        }
        for _ in 0..<count { finished.wait() }
    }

    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [[String: Any]]
        init(count: Int) { values = Array(repeating: [:], count: count) }
        func set(_ index: Int, _ value: [String: Any]) { lock.lock(); values[index] = value; lock.unlock() }
        func get(_ index: Int) -> [String: Any] { lock.lock(); defer { lock.unlock() }; return values[index] }
    }
}
