import Synchronization

/// Counters and latency histograms per RPC method and status, rendered in Prometheus text format.
///
/// The hot path resolves a method's ``MethodSeries`` once (at router set-up) and records into it
/// under its own small lock, so recording a call does no string hashing.
public final class RPCMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    public static let bucketBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let series = Mutex<[String: MethodSeries]>([:])

    public init() {}

    /// The series of `method`, created on first use.
    public func series(for method: String) -> MethodSeries {
        series.withLock { all in
            if let existing = all[method] { return existing }
            let created = MethodSeries(method: method)
            all[method] = created
            return created
        }
    }

    /// Calls recorded for `method` with the status named `code` (`OK`, `NOT_FOUND`, ...).
    public func count(method: String, code: String) -> UInt64 {
        series.withLock { $0[method] }?.snapshot().counts[code] ?? 0
    }

    /// Prometheus exposition text: `rpc_server_calls_total` and `rpc_server_duration_seconds`.
    public func prometheusText(service: String) -> String {
        // Label values escaped: a method name is whatever a caller sent.
        let all = series.withLock { $0 }.sorted { $0.key < $1.key }.map { (PrometheusLabel.escape($0.key), $0.value.snapshot()) }
        let service = PrometheusLabel.escape(service)
        var out = "# TYPE rpc_server_calls_total counter\n"
        for (method, snapshot) in all {
            for (code, count) in snapshot.counts.sorted(by: { $0.key < $1.key }) {
                out += "rpc_server_calls_total{service=\"\(service)\",method=\"\(method)\",code=\"\(code)\"} \(count)\n"
            }
        }
        out += "# TYPE rpc_server_duration_seconds histogram\n"
        for (method, snapshot) in all {
            var cumulative: UInt64 = 0
            for (i, bound) in Self.bucketBounds.enumerated() {
                cumulative += snapshot.buckets[i]
                out += "rpc_server_duration_seconds_bucket{service=\"\(service)\",method=\"\(method)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "rpc_server_duration_seconds_bucket{service=\"\(service)\",method=\"\(method)\",le=\"+Inf\"} \(snapshot.total)\n"
            out += "rpc_server_duration_seconds_sum{service=\"\(service)\",method=\"\(method)\"} \(snapshot.sumSeconds)\n"
            out += "rpc_server_duration_seconds_count{service=\"\(service)\",method=\"\(method)\"} \(snapshot.total)\n"
        }
        return out
    }
}

/// Counts per status code and a latency histogram for one method.
public final class MethodSeries: Sendable {
    public let method: String
    private let state = Mutex(State())

    struct State {
        var counts = [UInt64](repeating: 0, count: 17)
        var buckets = [UInt64](repeating: 0, count: RPCMetrics.bucketBounds.count + 1)
        var sumNanoseconds: UInt64 = 0
    }

    /// What has been recorded so far.
    public struct Snapshot: Sendable {
        public var counts: [String: UInt64]
        public var buckets: [UInt64]
        public var total: UInt64
        public var sumSeconds: Double
    }

    /// Names of the status codes by number, as gRPC spells them.
    static let codeNames = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
                            "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
                            "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"]
    static let bucketNanoseconds: [UInt64] = RPCMetrics.bucketBounds.map { UInt64($0 * 1e9) }

    init(method: String) { self.method = method }

    /// Records one call that ended with status number `code` after `nanoseconds`.
    public func record(code: Int32, nanoseconds: UInt64) {
        var bucket = Self.bucketNanoseconds.count
        for (i, bound) in Self.bucketNanoseconds.enumerated() where nanoseconds <= bound {
            bucket = i
            break
        }
        state.withLock { state in
            state.counts[Int(code >= 0 && code < 17 ? code : 2)] += 1
            state.buckets[bucket] += 1
            state.sumNanoseconds &+= nanoseconds
        }
    }

    public func snapshot() -> Snapshot {
        let s = state.withLock { $0 }
        var counts: [String: UInt64] = [:]
        for (i, count) in s.counts.enumerated() where count > 0 { counts[Self.codeNames[i]] = count }
        return Snapshot(counts: counts, buckets: Array(s.buckets.prefix(RPCMetrics.bucketBounds.count)),
                        total: s.counts.reduce(0, +), sumSeconds: Double(s.sumNanoseconds) / 1e9)
    }
}
