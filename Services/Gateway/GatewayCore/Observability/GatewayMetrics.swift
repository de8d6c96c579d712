import Foundation
import Messages
import Observability
import Synchronization

/// What `/metrics` reports: HTTP requests per route and status with latency histograms, API
/// errors by code, and the gateway's RPC calls per method (client side, HTTP and proxy port).
public final class GatewayMetrics: Sendable {
    // Taken by every request on every HTTP thread: a plain pthread mutex (waiters sleep), not
    // `Mutex`, whose slow path spun for a quarter of the gateway's CPU with 16 threads on 2 cores.
    private let http = PlainLock<[String: RouteSeries]>([:])
    private let errors = PlainLock<[String: UInt64]>([:])
    /// RPC calls the gateway makes, per method and status.
    public let rpc = RPCMetrics()

    struct RouteSeries {
        var counts: [Int: UInt64] = [:]
        var buckets = [UInt64](repeating: 0, count: RPCMetrics.bucketBounds.count + 1)
        var sumSeconds = 0.0
        var total: UInt64 = 0

        mutating func record(status: Int, bucket: Int, seconds: Double) {
            counts[status, default: 0] += 1
            buckets[bucket] += 1
            sumSeconds += seconds
            total += 1
        }
    }

    public init() {}

    /// Records one HTTP request of `route` (`GET /v1/tickets/{id}`).
    public func recordRequest(route: String, status: Int, seconds: Double, errorCode: String?) {
        var bucket = RPCMetrics.bucketBounds.count
        for (i, bound) in RPCMetrics.bucketBounds.enumerated() where seconds <= bound {
            bucket = i
            break
        }
        // In place: copying the series out and back would copy its arrays on every request.
        http.withLock { all in
            // One lookup of the route, its series changed where it is stored.
            all[route, default: RouteSeries()].record(status: status, bucket: bucket, seconds: seconds)
        }
        if let errorCode { errors.withLock { $0[errorCode, default: 0] += 1 } }
    }

    /// Records one RPC the gateway made. A method no service defines (a name an integration sent
    /// to the public port, forwarded and refused) counts under ``unknownMethod``: every name a
    /// caller makes up was a series of its own, kept for the gateway's life, so one key could
    /// grow `/metrics` (and the gateway's memory) without bound.
    public func recordCall(method: String, code: Int32, nanoseconds: UInt64) {
        rpc.series(for: Self.knownMethods.contains(method) ? method : Self.unknownMethod).record(code: code, nanoseconds: nanoseconds)
    }

    /// The `method` label of calls to a method no service defines.
    public static let unknownMethod = "(unknown)"

    /// Every method of the services' `.proto` files (and the built-in ones every server answers).
    static let knownMethods: Set<String> = {
        let lists: [[RPCMethodInfo]] = [
            IntakeV1.Intake.methods, WorkflowV1.Workflow.methods, WorkflowV1.WorkflowTime.methods, KnowledgeV1.Knowledge.methods,
            NotificationV1.Notification.methods, RpcV1.Health.methods, RpcV1.Stats.methods, RpcV1.Reflection.methods,
            RpcV1.Echo.methods, EventsV1.EventSink.methods, EventsV1.EventFeed.methods,
        ]
        return Set(lists.joined().map(\.path))
    }()

    /// The `method` label of an HTTP request no route matched: the method when it is one of
    /// HTTP's own, else `OTHER` (the request line's method is whatever the client wrote).
    public static func httpMethodLabel(_ method: String) -> String {
        ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"].contains(method) ? method : "OTHER"
    }

    /// Prometheus text exposition format 0.0.4.
    public func prometheusText(extra: String = "") -> String {
        let routes = http.withLock { $0 }.sorted { $0.key < $1.key }
        var out = "# HELP gateway_http_requests_total HTTP requests by route and status.\n# TYPE gateway_http_requests_total counter\n"
        for (route, series) in routes {
            let (method, path) = Self.split(route)
            for (status, count) in series.counts.sorted(by: { $0.key < $1.key }) {
                out += "gateway_http_requests_total{method=\"\(Self.escape(method))\",route=\"\(Self.escape(path))\",status=\"\(status)\"} \(count)\n"
            }
        }
        out += "# HELP gateway_http_request_duration_seconds HTTP request latency by route.\n# TYPE gateway_http_request_duration_seconds histogram\n"
        for (route, series) in routes {
            let (method, path) = Self.split(route)
            let labels = "method=\"\(Self.escape(method))\",route=\"\(Self.escape(path))\""
            var cumulative: UInt64 = 0
            for (i, bound) in RPCMetrics.bucketBounds.enumerated() {
                cumulative += series.buckets[i]
                out += "gateway_http_request_duration_seconds_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "gateway_http_request_duration_seconds_bucket{\(labels),le=\"+Inf\"} \(series.total)\n"
            out += "gateway_http_request_duration_seconds_sum{\(labels)} \(series.sumSeconds)\n"
            out += "gateway_http_request_duration_seconds_count{\(labels)} \(series.total)\n"
        }
        out += "# HELP gateway_http_errors_total API errors answered, by code.\n# TYPE gateway_http_errors_total counter\n"
        for (code, count) in errors.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            out += "gateway_http_errors_total{code=\"\(Self.escape(code))\"} \(count)\n"
        }
        // The shared RPC metrics name their series after servers; these are the gateway's calls out.
        out += rpc.prometheusText(service: "gateway")
            .replacingOccurrences(of: "rpc_server_calls_total", with: "gateway_rpc_client_calls_total")
            .replacingOccurrences(of: "rpc_server_duration_seconds", with: "gateway_rpc_client_duration_seconds")
        out += extra
        return out
    }

    static func split(_ route: String) -> (String, String) {
        guard let space = route.firstIndex(of: " ") else { return ("", route) }
        return (String(route[..<space]), String(route[route.index(after: space)...]))
    }

    /// A label value escaped (``PrometheusLabel/escape(_:)``: backslash, quote and line feed).
    static func escape(_ text: String) -> String { PrometheusLabel.escape(text) }
}

/// A value guarded by an `NSLock` (a pthread mutex: contended waiters sleep instead of spinning).
final class PlainLock<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
