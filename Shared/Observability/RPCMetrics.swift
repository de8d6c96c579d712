import Synchronization

/// Counters and latency histograms per RPC method and status, rendered in Prometheus text format.
public final class RPCMetrics: Sendable {
    /// Upper bounds of the latency buckets, in seconds.
    public static let bucketBounds: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Series {
        var count: UInt64 = 0
        var sumSeconds: Double = 0
        var buckets = [UInt64](repeating: 0, count: RPCMetrics.bucketBounds.count)
    }

    private let state = Mutex<[String: [String: Series]]>([:])

    public init() {}

    /// Records one finished call.
    public func record(method: String, code: some CustomStringConvertible, nanoseconds: UInt64) {
        let seconds = Double(nanoseconds) / 1e9
        let codeName = code.description
        state.withLock { all in
            var series = all[method, default: [:]][codeName, default: Series()]
            series.count += 1
            series.sumSeconds += seconds
            if let index = Self.bucketBounds.firstIndex(where: { seconds <= $0 }) { series.buckets[index] += 1 }
            all[method, default: [:]][codeName] = series
        }
    }

    /// Calls recorded for `method` with status `code`.
    public func count(method: String, code: String) -> UInt64 {
        state.withLock { $0[method]?[code]?.count ?? 0 }
    }

    /// Prometheus exposition text: `rpc_server_calls_total` and `rpc_server_duration_seconds`.
    public func prometheusText(service: String) -> String {
        let snapshot = state.withLock { $0 }
        var out = "# TYPE rpc_server_calls_total counter\n"
        for (method, byCode) in snapshot.sorted(by: { $0.key < $1.key }) {
            for (code, series) in byCode.sorted(by: { $0.key < $1.key }) {
                out += "rpc_server_calls_total{service=\"\(service)\",method=\"\(method)\",code=\"\(code)\"} \(series.count)\n"
            }
        }
        out += "# TYPE rpc_server_duration_seconds histogram\n"
        for (method, byCode) in snapshot.sorted(by: { $0.key < $1.key }) {
            var merged = Series()
            for series in byCode.values {
                merged.count += series.count
                merged.sumSeconds += series.sumSeconds
                for i in merged.buckets.indices { merged.buckets[i] += series.buckets[i] }
            }
            var cumulative: UInt64 = 0
            for (i, bound) in Self.bucketBounds.enumerated() {
                cumulative += merged.buckets[i]
                out += "rpc_server_duration_seconds_bucket{service=\"\(service)\",method=\"\(method)\",le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "rpc_server_duration_seconds_bucket{service=\"\(service)\",method=\"\(method)\",le=\"+Inf\"} \(merged.count)\n"
            out += "rpc_server_duration_seconds_sum{service=\"\(service)\",method=\"\(method)\"} \(merged.sumSeconds)\n"
            out += "rpc_server_duration_seconds_count{service=\"\(service)\",method=\"\(method)\"} \(merged.count)\n"
        }
        return out
    }
}
