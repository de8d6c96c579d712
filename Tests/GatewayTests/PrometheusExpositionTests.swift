import Foundation
@testable import GatewayCore
import Messages
import Observability
import Testing

/// `/metrics` as Prometheus reads it (text format 0.0.4): each family's HELP and TYPE once and
/// before its samples, a family's lines together, label values escaped, histograms cumulative
/// with `+Inf`, `_sum` and `_count`, and no label value a caller can make up.
@Suite("Prometheus exposition: valid text, escaped labels, bounded series")
struct PrometheusExpositionTests {
    /// One sample line, parsed: the metric name, its labels in order, the value's text.
    struct Sample {
        var name: String
        var labels: [(String, String)]
        var value: String
    }

    /// The problems of `text` as an exposition (empty when valid), and its samples.
    static func validate(_ text: String) -> (problems: [String], samples: [Sample]) {
        var problems: [String] = [], samples: [Sample] = []
        var help = Set<String>(), type: [String: String] = [:], closed = Set<String>(), current = ""
        func family(_ name: String) -> String {
            for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
                let base = String(name.dropLast(suffix.count))
                if type[base] == "histogram" { return base }
            }
            return name
        }
        func enter(_ name: String, line: String) {
            guard name != current else { return }
            if closed.contains(name) { problems.append("family \(name) is not in one group: \(line)") }
            if !current.isEmpty { closed.insert(current) }
            current = name
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) where !line.isEmpty {
            if line.hasPrefix("# ") {
                let parts = line.split(separator: " ", maxSplits: 3).map(String.init)
                guard parts.count >= 3 else { problems.append("bad comment: \(line)"); continue }
                enter(parts[2], line: line)
                if parts[1] == "HELP" {
                    if !help.insert(parts[2]).inserted { problems.append("HELP twice for \(parts[2])") }
                } else if parts[1] == "TYPE" {
                    if type[parts[2]] != nil { problems.append("TYPE twice for \(parts[2])") }
                    if samples.contains(where: { family($0.name) == parts[2] }) { problems.append("TYPE after samples of \(parts[2])") }
                    type[parts[2]] = parts.count > 3 ? parts[3] : ""
                }
                continue
            }
            guard let sample = parse(line) else { problems.append("unparsable sample: \(line.debugDescription)"); continue }
            enter(family(sample.name), line: line)
            samples.append(sample)
        }
        // Histograms: per label set (without `le`), cumulative buckets ending in +Inf = _count, and a _sum.
        for (name, kind) in type where kind == "histogram" {
            var series: [String: [(le: String, count: Double)]] = [:], counts: [String: Double] = [:], sums = Set<String>()
            for sample in samples where family(sample.name) == name {
                let key = sample.labels.filter { $0.0 != "le" }.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
                if sample.name == name + "_bucket" {
                    series[key, default: []].append((sample.labels.first { $0.0 == "le" }?.1 ?? "", Double(sample.value) ?? -1))
                } else if sample.name == name + "_count" {
                    counts[key] = Double(sample.value)
                } else if sample.name == name + "_sum" {
                    sums.insert(key)
                }
            }
            for (key, buckets) in series {
                if zip(buckets, buckets.dropFirst()).contains(where: { $0.count > $1.count }) { problems.append("\(name){\(key)} not cumulative") }
                if buckets.last?.le != "+Inf" { problems.append("\(name){\(key)} has no +Inf bucket") }
                if buckets.last?.count != counts[key] { problems.append("\(name){\(key)} +Inf bucket differs from _count") }
                if !sums.contains(key) { problems.append("\(name){\(key)} has no _sum") }
            }
        }
        return (problems, samples)
    }

    /// `name{label="value",...} value`, with the escapes the format allows in label values.
    static func parse(_ line: String) -> Sample? {
        let scalars = Array(line.unicodeScalars)
        var i = 0
        func isNameScalar(_ c: Unicode.Scalar, first: Bool) -> Bool {
            c == "_" || c == ":" || ("a"..."z").contains(c) || ("A"..."Z").contains(c) || (!first && ("0"..."9").contains(c))
        }
        func name() -> String? {
            var out = ""
            while i < scalars.count, isNameScalar(scalars[i], first: out.isEmpty) { out.unicodeScalars.append(scalars[i]); i += 1 }
            return out.isEmpty ? nil : out
        }
        guard let metric = name() else { return nil }
        var labels: [(String, String)] = []
        if i < scalars.count, scalars[i] == "{" {
            i += 1
            while i < scalars.count, scalars[i] != "}" {
                guard let label = name(), i + 1 < scalars.count, scalars[i] == "=", scalars[i + 1] == "\"" else { return nil }
                i += 2
                var value = ""
                while true {
                    guard i < scalars.count else { return nil }
                    let c = scalars[i]
                    if c == "\"" { i += 1; break }
                    if c == "\n" { return nil }
                    if c == "\\" {
                        guard i + 1 < scalars.count else { return nil }
                        switch scalars[i + 1] {
                        case "\\": value += "\\"
                        case "\"": value += "\""
                        case "n": value += "\n"
                        default: return nil
                        }
                        i += 2
                        continue
                    }
                    value.unicodeScalars.append(c)
                    i += 1
                }
                labels.append((label, value))
                if i < scalars.count, scalars[i] == "," { i += 1 }
            }
            guard i < scalars.count else { return nil }
            i += 1
        }
        guard i < scalars.count, scalars[i] == " " else { return nil }
        let value = String(String.UnicodeScalarView(scalars[(i + 1)...]))
        guard Double(value) != nil || ["+Inf", "-Inf", "NaN"].contains(value) else { return nil }
        return Sample(name: metric, labels: labels, value: value)
    }

    @Test("a valid exposition whatever the labels hold: quotes, backslashes and line breaks escaped in every label; histograms cumulative with +Inf, _sum and _count; HELP and TYPE once per family")
    func validExposition() throws {
        let metrics = GatewayMetrics()
        metrics.recordRequest(route: "GET /v1/tickets/{id}", status: 200, seconds: 0.003, errorCode: nil)
        metrics.recordRequest(route: "GET /v1/tickets/{id}", status: 404, seconds: 0.2, errorCode: "NOT_FOUND")
        metrics.recordRequest(route: "GET /v1/tickets/{id}", status: 200, seconds: 30, errorCode: nil)
        metrics.recordRequest(route: "POST /v1/a\"b\\c\nd", status: 500, seconds: 0.0001, errorCode: "IN\"TERNAL\n")
        metrics.recordCall(method: WorkflowV1.WorkflowTime.getMetrics.path, code: 0, nanoseconds: 1_500_000)
        metrics.recordCall(method: WorkflowV1.WorkflowTime.getMetrics.path, code: 5, nanoseconds: 40_000_000_000)
        // The proxy port's own server series (`rpc_server_*`), as `/metrics` appends them.
        let proxy = RPCMetrics()
        proxy.series(for: "/ocorrencias.workflow.v1.Workflow/X\"} 1\nfake_series 99").record(code: 12, nanoseconds: 1_000)
        let text = metrics.prometheusText(extra: proxy.prometheusText(service: "gateway-rpc")
            + "# HELP ocorrencias_tickets_by_stage Tickets by workflow stage.\n# TYPE ocorrencias_tickets_by_stage gauge\n"
            + "ocorrencias_tickets_by_stage{stage=\"\(GatewayMetrics.escape("em \"análise\"\nfake 1"))\"} 3\n")
        let (problems, samples) = Self.validate(text)
        #expect(problems.isEmpty, "\(problems)\n\(text)")
        #expect(!samples.contains { $0.name == "fake_series" || $0.name == "fake" }, "a label value added a series of its own")
        // The values come back exactly as recorded.
        #expect(samples.contains { $0.name == "gateway_http_requests_total" && $0.labels.contains { $0 == ("route", "/v1/a\"b\\c\nd") } })
        #expect(samples.contains { $0.name == "gateway_http_errors_total" && $0.labels.contains { $0 == ("code", "IN\"TERNAL\n") } })
        #expect(samples.contains { $0.name == "ocorrencias_tickets_by_stage" && $0.labels.contains { $0 == ("stage", "em \"análise\"\nfake 1") } })
        #expect(samples.contains { $0.name == "rpc_server_calls_total" && $0.labels.contains { $0.1.hasSuffix("fake_series 99") } })
        // Hand-computed histogram of the tickets route: 3 ms, 200 ms, 30 s.
        func bucket(_ le: String) -> String? {
            samples.first { $0.name == "gateway_http_request_duration_seconds_bucket" && $0.labels.contains { $0 == ("route", "/v1/tickets/{id}") }
                && $0.labels.contains { $0 == ("le", le) } }?.value
        }
        #expect(bucket("0.0025") == "0" && bucket("0.005") == "1" && bucket("0.25") == "2" && bucket("10.0") == "2" && bucket("+Inf") == "3")
        #expect(text.contains("gateway_http_request_duration_seconds_count{method=\"GET\",route=\"/v1/tickets/{id}\"} 3\n"))
        #expect(text.contains("gateway_http_requests_total{method=\"GET\",route=\"/v1/tickets/{id}\",status=\"200\"} 2\n"))
    }

    @Test("method names a caller makes up (public RPC port, HTTP request line) share one series each: no label from user input grows /metrics")
    func boundedLabels() throws {
        let metrics = GatewayMetrics()
        for n in 0..<500 {
            metrics.recordCall(method: "/ocorrencias.workflow.v1.Workflow/Made\(n)Up", code: 12, nanoseconds: 1_000)
        }
        metrics.recordCall(method: WorkflowV1.Workflow.getTicket.path, code: 0, nanoseconds: 1_000)
        metrics.recordCall(method: RpcV1.Health.check.path, code: 0, nanoseconds: 1_000)
        let text = metrics.prometheusText()
        #expect(Self.validate(text).problems.isEmpty)
        #expect(!text.contains("Made"), "a made-up method is a series of its own")
        #expect(text.contains("gateway_rpc_client_calls_total{service=\"gateway\",method=\"(unknown)\",code=\"UNIMPLEMENTED\"} 500\n"))
        #expect(text.contains("method=\"/ocorrencias.workflow.v1.Workflow/GetTicket\",code=\"OK\"} 1\n"))
        #expect(text.contains("method=\"/ocorrencias.rpc.v1.Health/Check\",code=\"OK\"} 1\n"))
        #expect(metrics.rpc.count(method: GatewayMetrics.unknownMethod, code: "UNIMPLEMENTED") == 500)
        // HTTP: the request line's method labels an unmatched request only when HTTP defines it.
        #expect(GatewayMetrics.httpMethodLabel("GET") == "GET" && GatewayMetrics.httpMethodLabel("PATCH") == "PATCH")
        #expect(GatewayMetrics.httpMethodLabel("FOO1") == "OTHER" && GatewayMetrics.httpMethodLabel("get\"") == "OTHER")
    }

    @Test("the outbox series: per service and per destination, the count limit beside the counts, a silent service up 0 and nothing else")
    func outboxSeries() {
        var intake = RpcV1.OutboxStatsResponse()
        intake.pending = 10_000
        intake.countLimit = 10_000
        intake.retrying = 3
        intake.oldestPendingAgeMs = 7_250_000
        intake.destinationsComplete = true
        for (name, pending, age) in [("notification", Int64(10_000), Int64(7_250_000)), ("work\"flow", 12, 1_500)] {
            var destination = RpcV1.OutboxDestinationStats()
            destination.destination = name
            destination.pending = pending
            destination.oldestPendingAgeMs = age
            intake.destinations.append(destination)
        }
        let text = OutboxMetricsText.render(services: ["intake", "workflow", "gateway"], answers: [intake, nil, RpcV1.OutboxStatsResponse()])
        let (problems, samples) = Self.validate(text)
        #expect(problems.isEmpty, "\(problems)\n\(text)")
        func value(_ name: String, _ labels: [String: String]) -> String? {
            samples.first { $0.name == name && Dictionary($0.labels, uniquingKeysWith: { a, _ in a }) == labels }?.value
        }
        #expect(value("ocorrencias_service_up", ["service": "intake"]) == "1" && value("ocorrencias_service_up", ["service": "workflow"]) == "0")
        #expect(value("ocorrencias_outbox_pending", ["service": "intake"]) == "10000")
        #expect(value("ocorrencias_outbox_count_limit", ["service": "intake"]) == "10000")
        #expect(value("ocorrencias_outbox_oldest_age_seconds", ["service": "intake"]) == "7250.0")
        #expect(value("ocorrencias_outbox_retrying", ["service": "intake"]) == "3")
        #expect(value("ocorrencias_outbox_destination_pending", ["service": "intake", "destination": "notification"]) == "10000")
        #expect(value("ocorrencias_outbox_destination_oldest_age_seconds", ["service": "intake", "destination": "work\"flow"]) == "1.5")
        #expect(value("ocorrencias_outbox_pending", ["service": "gateway"]) == "0", "an empty outbox answers 0")
        #expect(!samples.contains { $0.labels.contains { $0.0 == "service" && $0.1 == "workflow" } && $0.name != "ocorrencias_service_up" },
                "no outbox series for a service that did not answer")
        #expect(text.contains("a value equal to the limit means at least that many"), "the help says what a capped count means")
        let silent = OutboxMetricsText.render(services: ["intake"], answers: [nil])
        #expect(silent == "# HELP ocorrencias_service_up Whether the service answered the scrape's outbox question (1) or not (0: down, unreachable, or slower than 500 ms).\n# TYPE ocorrencias_service_up gauge\nocorrencias_service_up{service=\"intake\"} 0\n")
    }
}
