// The RPC benchmark client: keeps N calls in flight over C connections for a duration and
// prints, as its last line, one JSON object with throughput and latency percentiles.
//   rpc-bench-client --host H --port P --connections C --concurrency N --duration SECONDS --payload BYTES
import Foundation
import Messages
import RPC
import RPCTransport
import Synchronization

BenchClientMain.run()

/// One caller: issues its next call as soon as the previous one completes, recording latencies.
final class Caller: @unchecked Sendable {
    // Only touched by the completion chain of this caller, which is strictly sequential.
    var latencies: [UInt32] = []
    var errors = 0
    let client: RPCClient
    let payload: [UInt8]
    let stopAt: UInt64
    let done: Completion

    init(client: RPCClient, payload: [UInt8], stopAt: UInt64, done: Completion) {
        self.client = client
        self.payload = payload
        self.stopAt = stopAt
        self.done = done
        latencies.reserveCapacity(1 << 16)
    }

    func next() {
        let start = MonotonicClock.nanoseconds()
        if start >= stopAt {
            done.finish()
            return
        }
        client.start(path: RpcV1.Echo.echo.path, payload: payload) { [self] result in
            let end = MonotonicClock.nanoseconds()
            if case .success = result { latencies.append(UInt32(min((end - start) / 1_000, UInt64(UInt32.max)))) }
            switch result {
            case .success:
                next()
            case .failure:
                errors += 1
                // Failures may complete synchronously: continue off this stack, after a pause.
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(1)) { self.next() }
            }
        }
    }
}

final class Completion: Sendable {
    let remaining: Atomic<Int>
    let condition = NSCondition()
    init(_ count: Int) { remaining = Atomic(count) }
    func finish() {
        if remaining.wrappingSubtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
            condition.lock(); condition.broadcast(); condition.unlock()
        }
    }
    func wait() {
        condition.lock()
        while remaining.load(ordering: .acquiring) > 0 { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
        condition.unlock()
    }
}

enum BenchClientMain {
    static func run() {
        let arguments = CommandLine.arguments
        func value(_ name: String, _ fallback: String) -> String { arguments.firstIndex(of: name).map { arguments[$0 + 1] } ?? fallback }
        let host = value("--host", "127.0.0.1")
        let port = Int(value("--port", "7900"))!
        let connections = max(1, Int(value("--connections", "1"))!)
        let concurrency = max(connections, Int(value("--concurrency", "1"))!)
        let duration = Double(value("--duration", "5"))!
        let payloadSize = Int(value("--payload", "100"))!
        guard let secret = try? DeploymentSecret.fromEnvironment(ProcessInfo.processInfo.environment) else {
            FileHandle.standardError.write(Data("set OCORRENCIAS_SECRET (at least 16 characters)\n".utf8))
            exit(2)
        }
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: host, port: port)], secret: secret)
        configuration.connectionsPerEndpoint = connections
        configuration.callerName = "rpc-bench-client"
        let client = RPCClient(configuration: configuration)
        var request = RpcV1.EchoRequest()
        request.payload = Array(repeating: 0x61, count: payloadSize)
        let payload = request.serializedBytes()
        // Open every connection and warm up.
        for _ in 0..<(connections * 4) { _ = try? client.callRaw(path: RpcV1.Echo.echo.path, payload: payload) }

        let start = MonotonicClock.nanoseconds()
        let stopAt = start + UInt64(duration * 1e9)
        let completion = Completion(concurrency)
        let callers = (0..<concurrency).map { _ in Caller(client: client, payload: payload, stopAt: stopAt, done: completion) }
        for caller in callers { caller.next() }
        completion.wait()
        let seconds = Double(MonotonicClock.nanoseconds() - start) / 1e9
        var all = callers.flatMap(\.latencies)
        all.sort()
        let errors = callers.reduce(0) { $0 + $1.errors }
        func percentile(_ p: Double) -> UInt32 { all.isEmpty ? 0 : all[min(all.count - 1, Int(Double(all.count) * p))] }
        let rps = Double(all.count) / seconds
        print(String(format: "{\"peer\":\"ocorrencias-rpc\",\"connections\":%d,\"concurrency\":%d,\"payload\":%d,\"calls\":%d,\"seconds\":%.3f,\"rps\":%.0f,\"p50_us\":%u,\"p99_us\":%u,\"errors\":%d}",
                     connections, concurrency, payloadSize, all.count, seconds, rps, percentile(0.5), percentile(0.99), errors))
        client.close()
    }
}
