import Foundation
import Messages
import RPC
import RPCTransport
import Synchronization
import Testing
import TestSupport

@Suite("Loopback client and server", .serialized)
struct LoopbackTests {
    static func echoRequest(_ bytes: [UInt8]) -> RpcV1.EchoRequest {
        var request = RpcV1.EchoRequest()
        request.payload = bytes
        return request
    }

    @Test("10,000 pipelined calls answered out of order are matched to their callers")
    func pipelinedOutOfOrder() throws {
        let server = try LoopbackServer()
        let client = server.client(timeout: 30_000)
        let completions = Completions()
        let count = 10_000
        for i in 0..<count {
            // First byte: sleep 0–3 ms, so later calls often finish first.
            let payload = [UInt8(i % 4)] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            client.start(path: TestMethods.sleepy.path, payload: Self.echoRequest(payload).serializedBytes()) { result in
                completions.record(i, result)
            }
        }
        let results = completions.wait(for: count, seconds: 60)
        #expect(results.count == count)
        for (i, result) in results {
            let response = try RpcV1.EchoResponse(serializedBytes: try result.get())
            let echoed = response.payload.dropFirst().reduce(0) { $0 << 8 | Int($1) }
            #expect(echoed == i)
        }
        #expect(completions.order != completions.order.sorted(), "responses arrived in request order only")
    }

    @Test("a call past its deadline ends with DEADLINE_EXCEEDED and the handler sees the cancellation")
    func deadlineExceeded() throws {
        let server = try LoopbackServer()
        let client = server.client(timeout: 60_000)
        let start = Date()
        #expect(throws: RPCError.self) {
            do { _ = try client.call(TestMethods.gate, Self.echoRequest([1]), options: CallOptions(timeoutMilliseconds: 100)) } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
                throw error
            }
        }
        #expect(Date().timeIntervalSince(start) < 10, "the call's 100 ms deadline, not the client's 60 s default")
        let seen = Date().addingTimeInterval(20)
        while server.probe.cancellationsSeen.load(ordering: .relaxed) == 0 && Date() < seen { usleep(5_000) }
        #expect(server.probe.cancellationsSeen.load(ordering: .relaxed) == 1)
    }

    @Test("cancelling a server stream stops the handler")
    func cancelStopsHandler() throws {
        let server = try LoopbackServer()
        let client = server.client()
        let stream = try client.serverStream(TestMethods.ticker, Self.echoRequest([]))
        #expect(try stream.receive()?.payload == [0])
        #expect(try stream.receive()?.payload == [1])
        stream.cancel()
        let limit = Date().addingTimeInterval(20)
        while !server.probe.tickerStopped.load(ordering: .acquiring) && Date() < limit { usleep(5_000) }
        let stopped = server.probe.tickerStopped.load(ordering: .acquiring)
        #expect(stopped)
    }

    @Test("cancelling a unary call completes it with CANCELLED at once and the server's handler sees the cancellation long before the deadline")
    func cancelUnary() throws {
        let server = try LoopbackServer()
        let client = server.client(timeout: 30_000)
        let completions = Completions()
        let call = client.start(path: TestMethods.gate.path, payload: Self.echoRequest([7]).serializedBytes()) { completions.record(0, $0) }
        let entered = Date().addingTimeInterval(20)
        while server.probe.gateEntered.load(ordering: .relaxed) == 0 && Date() < entered { usleep(2_000) }
        #expect(server.probe.gateEntered.load(ordering: .relaxed) == 1)
        let start = Date()
        call.cancel()
        let results = completions.wait(for: 1, seconds: 20)
        if case .failure(let error)? = results[0] { #expect(error.code == .cancelled) } else { Issue.record("expected CANCELLED: \(results)") }
        let seen = Date().addingTimeInterval(20)
        while server.probe.cancellationsSeen.load(ordering: .relaxed) == 0 && Date() < seen { usleep(2_000) }
        #expect(server.probe.cancellationsSeen.load(ordering: .relaxed) == 1)
        #expect(Date().timeIntervalSince(start) < 15, "well before the call's 30 s deadline")
        #expect(call.isCancelled)
        // Cancelling again, or a call that already completed, does nothing.
        call.cancel()
        let done = client.start(path: TestMethods.sleepy.path, payload: Self.echoRequest([0]).serializedBytes()) { completions.record(1, $0) }
        #expect((try? completions.wait(for: 2, seconds: 20)[1]?.get()) != nil)
        done.cancel()
    }

    @Test("a completing handler answers later from another thread: many calls in flight matched to their callers, its errors as given, other errors INTERNAL, malformed requests INVALID_ARGUMENT")
    func completingHandler() throws {
        let server = try LoopbackServer(workers: 1)
        let client = server.client(timeout: 30_000)
        let completions = Completions()
        let count = 2_000
        for i in 0..<count {
            let payload = [UInt8(3)] + withUnsafeBytes(of: UInt32(i).bigEndian, Array.init)
            client.start(path: TestMethods.later.path, payload: Self.echoRequest(payload).serializedBytes()) { result in
                completions.record(i, result)
            }
        }
        let results = completions.wait(for: count, seconds: 60)
        #expect(results.count == count)
        for (i, result) in results {
            let response = try RpcV1.EchoResponse(serializedBytes: try result.get())
            #expect(response.payload.dropFirst().reduce(0) { $0 << 8 | Int($1) } == i)
        }
        #expect(throws: RPCError.self) { try client.call(TestMethods.later, Self.echoRequest([1])) }
        do { _ = try client.call(TestMethods.later, Self.echoRequest([1])) } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message == "refused later")
        }
        do { _ = try client.call(TestMethods.later, Self.echoRequest([2])) } catch let error as RPCError {
            #expect(error.code == .internal)
        }
        do { _ = try client.callRaw(path: TestMethods.later.path, payload: [0xff, 0xff, 0xff]) } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
        }
    }

    /// 40 uploads at once from as many threads, the i-th sending 1 + i % 4 messages of 100 + i
    /// bytes: each must get its own sum back.
    static func expectConcurrentUploads(_ client: RPCClient) {
        let outcomes = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            do {
                let upload = try client.streamingCall(TestMethods.uploadLater)
                for _ in 0..<(1 + i % 4) { try upload.send(Self.echoRequest(Array(repeating: 3, count: 100 + i))) }
                let sum = String(decoding: try upload.finish().payload, as: UTF8.self)
                outcomes.withLock { $0[i] = sum }
            } catch {
                outcomes.withLock { $0[i] = "\(error)" }
            }
        }
        for i in 0..<40 { #expect(outcomes.withLock { $0[i] } == String((1 + i % 4) * (100 + i))) }
    }

    @Test("a client-streaming handler read on a worker answers later from another thread: each upload its own sum, concurrent uploads matched to their callers, its errors as given, other errors INTERNAL")
    func streamingCompletingHandler() throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 30_000)
        Self.expectConcurrentUploads(client)
        let refused = try client.streamingCall(TestMethods.uploadLater)
        try refused.send(Self.echoRequest([1, 0]))
        do { _ = try refused.finish(); Issue.record("the refused upload succeeded") } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message == "refused later")
        }
        let failing = try client.streamingCall(TestMethods.uploadLater)
        try failing.send(Self.echoRequest([2]))
        do { _ = try failing.finish(); Issue.record("the failing upload succeeded") } catch let error as RPCError {
            #expect(error.code == .internal)
        }
    }

    @Test("a fresh client whose first calls start at once on many threads opens each connection once: no call fails with a connection another caller replaced (UNAVAILABLE, connection closed)",
          arguments: Array(0..<5))
    func coldStartBurst(round: Int) throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 30_000)
        Self.expectConcurrentUploads(client)
    }

    @Test("responses finished together inside RPCResponses.flushingOnce are written when it returns, each to its caller")
    func responsesFlushedOnce() throws {
        let server = try LoopbackServer()
        var configuration = ClientConfiguration(endpoints: [server.endpoint], secret: server.secret)
        configuration.defaultTimeoutMilliseconds = 10_000
        configuration.connectionsPerEndpoint = 3
        let client = RPCClient(configuration: configuration)
        let completions = Completions()
        let count = 30
        for i in 0..<count {
            client.start(path: TestMethods.held.path, payload: Self.echoRequest([UInt8(i)]).serializedBytes()) { result in
                completions.record(i, result)
            }
        }
        let limit = Date().addingTimeInterval(10)
        while server.probe.held.withLock({ $0.count }) < count && Date() < limit { usleep(2_000) }
        let held = server.probe.held.withLock { $0 }
        #expect(held.count == count)
        let answeredInside = Atomic<Int>(-1)
        let answering = Thread {
            RPCResponses.flushingOnce {
                for call in held {
                    var response = RpcV1.EchoResponse()
                    response.payload = call.payload
                    call.respond(.success(response))
                }
                // Nothing has been written yet: no caller has its answer.
                usleep(200_000)
                answeredInside.store(completions.wait(for: 0, seconds: 0).count, ordering: .releasing)
            }
        }
        answering.start()
        let results = completions.wait(for: count, seconds: 10)
        #expect(answeredInside.load(ordering: .acquiring) == 0)
        #expect(results.count == count)
        for (i, result) in results {
            #expect(try RpcV1.EchoResponse(serializedBytes: try result.get()).payload == [UInt8(i)])
        }
    }

    @Test("an unknown method is UNIMPLEMENTED")
    func unknownMethod() throws {
        let server = try LoopbackServer()
        let client = server.client()
        do {
            _ = try client.callRaw(path: "/ocorrencias.nothing.v1.Nope/Nothing", payload: [])
            Issue.record("call succeeded")
        } catch let error as RPCError {
            #expect(error.code == .unimplemented)
        }
    }

    @Test("a client with the wrong secret is refused with UNAUTHENTICATED")
    func wrongSecret() throws {
        let server = try LoopbackServer()
        let client = server.client(secret: .random())
        do {
            _ = try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest())
            Issue.record("call succeeded")
        } catch let error as RPCError {
            #expect(error.code == .unauthenticated)
        }
    }

    @Test("a peer that skips the handshake gets UNAUTHENTICATED and nothing else")
    func unauthenticatedPeer() throws {
        let server = try LoopbackServer()
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.receive()?.kind == .hello)
        var request = RpcV1.Frame()
        request.kind = .request
        request.callID = 1
        request.method = RpcV1.Health.check.path
        peer.send(request)
        let answer = try #require(peer.receive())
        #expect(answer.kind == .response)
        #expect(answer.status?.code == RPCStatusCode.unauthenticated.rawValue)
        #expect(answer.payload.isEmpty)
        #expect(peer.receive() == nil, "the server closed the connection")
    }

    @Test("an oversized frame is refused with RESOURCE_EXHAUSTED and the connection closed")
    func oversizedFrame() throws {
        var limits = RPCLimits()
        limits.maxFrameSize = 1024
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        peer.send([0x40, 0, 0, 0])  // announces 1 GiB
        let goaway = try #require(peer.receive())
        #expect(goaway.kind == .goaway)
        #expect(goaway.status?.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(peer.receive() == nil)
    }

    /// A server and a client both limited to 256 KiB frames, with a call in flight on their
    /// connection (it sleeps 150 ms at the server; its result is completion 0).
    static func limitedWithCallInFlight() throws -> (LoopbackServer, RPCClient, Completions) {
        var limits = RPCLimits()
        limits.maxFrameSize = 256 << 10
        let server = try LoopbackServer(limits: limits)
        var configuration = ClientConfiguration(endpoints: [server.endpoint], secret: server.secret)
        configuration.maxFrameSize = limits.maxFrameSize
        let client = RPCClient(configuration: configuration)
        let completions = Completions()
        _ = client.start(path: TestMethods.sleepy.path, payload: echoRequest([150]).serializedBytes()) { completions.record(0, $0) }
        usleep(20_000)
        return (server, client, completions)
    }

    @Test("a request over the frame limit fails alone at the client (RESOURCE_EXHAUSTED, marked too large, not sent): the server does not close the shared connection, so a call in flight on it and the next ones succeed")
    func oversizedRequestFailsAlone() throws {
        let (server, client, completions) = try Self.limitedWithCallInFlight()
        #expect(throws: RPCError.self) { try client.call(RpcV1.Echo.echo, Self.echoRequest([UInt8](repeating: 7, count: 300 << 10))) }
        do {
            _ = try client.call(RpcV1.Echo.echo, Self.echoRequest([UInt8](repeating: 7, count: 300 << 10)))
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted && error.isRequestTooLarge, "\(error)")
            #expect(error.message.contains("grande demais") && error.message.contains("too large"), "\(error)")
        }
        // Just under the limit still goes through.
        #expect(try client.call(RpcV1.Echo.echo, Self.echoRequest([UInt8](repeating: 1, count: 200 << 10))).payload.count == 200 << 10)
        let results = completions.wait(for: 1, seconds: 20)
        #expect((try? results[0]?.get()) != nil, "the call in flight failed: \(String(describing: results[0]))")
        #expect(try client.call(RpcV1.Echo.echo, Self.echoRequest([1])).payload == [1])
        #expect(server.server.metrics.count(method: RpcV1.Echo.echo.path, code: "OK") == 2)
    }

    @Test("an answer over the frame limit fails that call alone (RESOURCE_EXHAUSTED marked status.response_too_large, no violation): the client keeps the connection, so a call in flight on it and the next ones succeed")
    func oversizedResponseFailsAlone() throws {
        let (server, client, completions) = try Self.limitedWithCallInFlight()
        do {
            _ = try client.call(TestMethods.inflate, Self.echoRequest([20]))
            Issue.record("a 320 KiB answer passed a 256 KiB limit")
        } catch let error as RPCError {
            #expect(error.isResponseTooLarge, "\(error)")
            #expect(error.violations.isEmpty && error.metadata == [ErrorMetadata.responseTooLarge: "true"], "\(error)")
            #expect(error.message.contains("grande demais") && error.message.contains("too large") && error.message.contains("OCORRENCIAS_RPC_MAX_FRAME_BYTES"))
        }
        #expect(try client.call(TestMethods.inflate, Self.echoRequest([10])).payload.count == 160 << 10)
        let results = completions.wait(for: 1, seconds: 20)
        #expect((try? results[0]?.get()) != nil, "the call in flight failed: \(String(describing: results[0]))")
        #expect(server.server.metrics.count(method: TestMethods.inflate.path, code: "RESOURCE_EXHAUSTED") == 1)
    }

    @Test("garbage after the handshake closes the connection; other clients keep working")
    func garbageFrame() throws {
        let server = try LoopbackServer()
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        peer.send([0, 0, 0, 3, 0xff, 0xff, 0xff])
        #expect(peer.isClosedByServer())
        let client = server.client()
        #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
    }

    @Test("a peer that stops mid-frame is disconnected after the frame timeout")
    func slowLoris() throws {
        var limits = RPCLimits()
        limits.frameCompletionTimeoutMilliseconds = 200
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        let start = Date()
        peer.send([0, 0, 0, 100, 1, 2])
        #expect(peer.isClosedByServer())
        let elapsed = Date().timeIntervalSince(start)
        // The 200 ms limit, not the default 10 s one (a loaded machine may close it late).
        #expect(elapsed >= 0.15 && elapsed < 5, "closed after \(elapsed) s")
    }

    @Test("draining mid-call: the call in flight finishes, new calls are refused, then the server stops")
    func drainMidCall() throws {
        let server = try LoopbackServer()
        let client = server.client()
        let completions = Completions()
        client.start(path: TestMethods.gate.path, payload: Self.echoRequest([9]).serializedBytes()) { completions.record(0, $0) }
        while server.probe.gateEntered.load(ordering: .relaxed) == 0 { usleep(1_000) }
        let stopped = Completions()
        // The grace period is far longer than the test needs: the call in flight must finish
        // because it is let go, not be cut by a loaded machine's slowness.
        Thread.detachNewThread { server.server.shutdown(gracePeriodMilliseconds: 60_000); stopped.record(0, .success([])) }
        // The listener closes (at once on a quiet machine; the draining thread may start late):
        // a new client cannot connect.
        #expect(waitFor { (try? server.client().call(RpcV1.Health.check, RpcV1.HealthCheckRequest(), options: .init(timeoutMilliseconds: 500))) == nil })
        let late = server.client()
        #expect(throws: RPCError.self) { _ = try late.call(RpcV1.Health.check, RpcV1.HealthCheckRequest(), options: .init(timeoutMilliseconds: 500)) }
        server.probe.gateOpen.store(true, ordering: .releasing)
        let result = completions.wait(for: 1, seconds: 20)[0]
        #expect(try RpcV1.EchoResponse(serializedBytes: try #require(result).get()).payload == [9])
        #expect(stopped.wait(for: 1, seconds: 20).count == 1)
    }

    @Test("beyond max in-flight the server stops reading; nothing fails and all calls finish")
    func inFlightBackPressure() throws {
        var limits = RPCLimits()
        limits.maxInFlightPerConnection = 4
        let server = try LoopbackServer(limits: limits)
        let client = server.client(timeout: 10_000)
        let completions = Completions()
        for i in 0..<12 {
            client.start(path: TestMethods.gate.path, payload: Self.echoRequest([UInt8(i)]).serializedBytes()) { completions.record(i, $0) }
        }
        // The first four start (a loaded machine may take a while); then no fifth does.
        #expect(waitFor { server.probe.gateEntered.load(ordering: .relaxed) >= 4 })
        usleep(300_000)
        #expect(server.probe.gateEntered.load(ordering: .relaxed) == 4, "only max-in-flight handlers started")
        server.probe.gateOpen.store(true, ordering: .releasing)
        let results = completions.wait(for: 12, seconds: 30)
        #expect(results.count == 12)
        #expect(results.values.allSatisfy { (try? $0.get()) != nil })
        #expect(server.probe.gateEntered.load(ordering: .relaxed) == 12)
    }

    @Test("client and bidirectional streams respect flow control and keep order")
    func streams() throws {
        let server = try LoopbackServer()
        let client = server.client()
        let upload = try client.streamingCall(TestMethods.upload)
        for _ in 0..<200 { try upload.send(Self.echoRequest(Array(repeating: 1, count: 1000))) }
        #expect(try upload.finish().payload == Array("200000".utf8))

        let echo = try client.streamingCall(RpcV1.Echo.echoStream)
        for i in 0..<8 { try echo.send(Self.echoRequest([UInt8(i)])) }
        var received: [UInt8] = []
        for i in 8..<100 {
            try echo.send(Self.echoRequest([UInt8(i)]))
            received += try #require(try echo.receive()).payload
        }
        try echo.closeSend()
        while let response = try echo.receive() { received += response.payload }
        #expect(received == (0..<100).map { UInt8($0) })
    }

    @Test("health and reflection answer on every server")
    func builtins() throws {
        let server = try LoopbackServer()
        let client = server.client()
        #expect(try client.call(RpcV1.Health.check, RpcV1.HealthCheckRequest()).status == .serving)
        let methods = try client.call(RpcV1.Reflection.listMethods, RpcV1.ListMethodsRequest())
        #expect(methods.service == "test")
        let names = Set(methods.methods.map(\.name))
        #expect(names.isSuperset(of: [RpcV1.Health.check.path, RpcV1.Reflection.listMethods.path, TestMethods.upload.path]))
        let upload = try #require(methods.methods.first { $0.name == TestMethods.upload.path })
        #expect(upload.clientStreaming && !upload.serverStreaming)
        #expect(upload.requestType == "ocorrencias.rpc.v1.EchoRequest")
    }

    @Test("a client spreads calls over instances and skips one that is down")
    func failover() throws {
        let a = try LoopbackServer()
        let b = try LoopbackServer(secret: a.secret)
        var configuration = ClientConfiguration(endpoints: [a.endpoint, b.endpoint, Endpoint(host: "127.0.0.1", port: 1)], secret: a.secret)
        configuration.connectTimeoutMilliseconds = 200
        let client = RPCClient(configuration: configuration)
        for _ in 0..<30 {
            #expect(try client.call(RpcV1.Echo.echo, Self.echoRequest([1])).payload == [1])
        }
        #expect(a.server.metrics.count(method: RpcV1.Echo.echo.path, code: "OK") > 0)
        #expect(b.server.metrics.count(method: RpcV1.Echo.echo.path, code: "OK") > 0)
        a.server.shutdown(gracePeriodMilliseconds: 100)
        for _ in 0..<10 {
            #expect(try client.call(RpcV1.Echo.echo, Self.echoRequest([2])).payload == [2])
        }
    }
}
