import Foundation
import Messages
import RPC
import RPCTransport
import Synchronization
import Testing
import TestSupport

/// Client-streaming calls sent in one write (`RPCClient.call(_:requests:)`,
/// `StreamingCall.finish(last:)`) and handlers held back until they have a request to read.
@Suite struct ClientStreamingTests {
    static func chunk(_ count: Int) -> RpcV1.EchoRequest {
        var request = RpcV1.EchoRequest()
        request.payload = Array(repeating: 7, count: count)
        return request
    }

    @Test("requests at hand leave with the REQUEST and the end of the stream: every count, within and beyond the window, on both kinds of handler")
    func requestsAtHand() throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 30_000)
        for count in [0, 1, 2, 15, 16, 17, 40] {
            let requests = (0..<count).map { Self.chunk(100 + $0) }
            let expected = String(requests.reduce(0) { $0 + $1.payload.count })
            #expect(String(decoding: try client.call(TestMethods.upload, requests: requests).payload, as: UTF8.self) == expected)
            #expect(String(decoding: try client.call(TestMethods.uploadLater, requests: requests).payload, as: UTF8.self) == expected)
        }
        let refused = [RpcV1.EchoRequest.with([1, 0])]
        do { _ = try client.call(TestMethods.uploadLater, requests: refused); Issue.record("the refused upload succeeded") } catch let error as RPCError {
            #expect(error.code == .failedPrecondition && error.message == "refused later")
        }
    }

    @Test("concurrent uploads sent in one write each get their own answer")
    func concurrentRequestsAtHand() throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 30_000)
        let outcomes = Mutex<[Int: String]>([:])
        DispatchQueue.concurrentPerform(iterations: 40) { i in
            let requests = (0..<(1 + i % 4)).map { _ in Self.chunk(100 + i) }
            let answer = Result { try client.call(TestMethods.uploadLater, requests: requests) }
            outcomes.withLock { $0[i] = (try? answer.get()).map { String(decoding: $0.payload, as: UTF8.self) } ?? "\(answer)" }
        }
        for i in 0..<40 {
            let expected = String((1 + i % 4) * (100 + i))
            #expect(outcomes.withLock { $0[i] } == expected)
        }
    }

    @Test("requests at hand started without waiting: each call completes once with its own answer; more than the window is refused before anything is sent")
    func startedRequestsAtHand() throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 30_000)
        let outcomes = Mutex<[Int: [String]]>([:])
        let finished = DispatchGroup()
        let counts = [0, 1, 2, 15, 16]
        for (index, count) in counts.enumerated() {
            for method in [TestMethods.upload, TestMethods.uploadLater] {
                finished.enter()
                let requests = (0..<count).map { Self.chunk(100 + index + $0) }
                client.start(method, requests: requests) { result in
                    let answer = (try? result.get()).map { String(decoding: $0.payload, as: UTF8.self) } ?? "\(result)"
                    outcomes.withLock { $0[index, default: []].append(answer) }
                    finished.leave()
                }
            }
        }
        #expect(finished.wait(timeout: .now() + 30) == .success)
        for (index, count) in counts.enumerated() {
            let expected = String((0..<count).reduce(0) { $0 + 100 + index + $1 })
            #expect(outcomes.withLock { $0[index] } == [expected, expected])
        }
        // A refusal comes back as the call's error.
        let refused = OneShotResult<Result<RpcV1.EchoResponse, RPCError>>()
        client.start(TestMethods.uploadLater, requests: [RpcV1.EchoRequest.with([1, 0])]) { refused.complete($0) }
        if case .failure(let error)? = refused.wait() {
            #expect(error.code == .failedPrecondition && error.message == "refused later")
        } else {
            Issue.record("the refused upload succeeded")
        }
        // Beyond the window: refused at once, the server never sees the call.
        let tooMany = OneShotResult<Result<RpcV1.EchoResponse, RPCError>>()
        client.start(TestMethods.upload, requests: (0..<(RPCProtocol.initialStreamWindow + 1)).map { _ in Self.chunk(1) }) { tooMany.complete($0) }
        if case .failure(let error)? = tooMany.wait() { #expect(error.code == .invalidArgument) } else { Issue.record("sent beyond the window") }
        // The connection still serves calls.
        #expect(String(decoding: try client.call(TestMethods.upload, requests: [Self.chunk(5)]).payload, as: UTF8.self) == "5")
    }

    @Test("a completing handler that serves small calls without blocking reads a call already whole on the event loop, any other on a thread of its own (not a worker: it may wait on its peer); malformed requests are still refused")
    func inlineWhenWhole() throws {
        // One worker, held by a gated call, and room for one streaming handler, held by an idle
        // echo stream: a call run on the event loop needs neither, any other is refused.
        var limits = RPCLimits()
        limits.maxStreamingHandlers = 1
        let server = try LoopbackServer(limits: limits, workers: 1)
        let client = server.client(timeout: 10_000)
        let gated = client.start(path: TestMethods.gate.path, payload: [], options: CallOptions(timeoutMilliseconds: 60_000)) { _ in }
        defer { server.probe.gateOpen.store(true, ordering: .releasing) }
        while server.probe.gateEntered.load(ordering: .relaxed) == 0 { usleep(1_000) }
        let idle = try client.streamingCall(RpcV1.Echo.echoStream)
        #expect(waitFor { server.server.runningStreamHandlers == 1 })

        #expect(try client.call(TestMethods.smallInline, requests: [Self.chunk(3), Self.chunk(4)]).payload == Array("7".utf8))
        // Five chunks (the handler says no): not on the loop.
        do {
            _ = try client.call(TestMethods.smallInline, requests: (0..<5).map { _ in Self.chunk(2) })
            Issue.record("five chunks ran on the event loop")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted, "\(error)")
        }

        // With the stream gone, five chunks, or a stream not yet whole when its first request is
        // here, are read on a thread of their own while the only worker is still held.
        idle.cancel()
        #expect(waitFor { server.server.runningStreamHandlers == 0 })
        #expect(try client.call(TestMethods.smallInline, requests: (0..<5).map { _ in Self.chunk(2) }).payload == Array("10".utf8))
        // Its thread counts itself out just after the answer went: the one place is free again then.
        #expect(waitFor { server.server.runningStreamHandlers == 0 })
        let streamed = try client.streamingCall(TestMethods.smallInline, sending: Self.chunk(1))
        usleep(50_000)
        #expect(try streamed.finish(last: Self.chunk(2)).payload == Array("3".utf8))
        gated.cancel()

        // A malformed request goes to a thread of its own too, whose handler refuses it.
        let raw = try client.rawStream(path: TestMethods.smallInline.path, clientStreaming: true, first: nil)
        try raw.send([0xff, 0xff, 0xff])
        try raw.closeSend()
        do { _ = try raw.receive(); Issue.record("a malformed request was accepted") } catch let error as RPCError {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test("a call the router decoded to choose where it runs reaches its handler decoded once: every request once, in order, on the loop or on a worker, and streamed calls as before")
    func decodedOnce() throws {
        let server = try LoopbackServer(workers: 2)
        let client = server.client(timeout: 10_000)
        func chunks(_ count: Int) -> [RpcV1.EchoRequest] {
            (0..<count).map { index in RpcV1.EchoRequest.with((0..<(index + 1)).map { UInt8(index * 10 + $0) }) }
        }
        func joined(_ requests: [RpcV1.EchoRequest]) -> [UInt8] { requests.flatMap(\.payload) }
        // Whole calls: 1 and 3 chunks run on the loop, 5 on a worker; all decoded ahead.
        for count in [0, 1, 3, 5] {
            let requests = chunks(count)
            #expect(try client.call(TestMethods.joinInline, requests: requests).payload == joined(requests))
            let started = OneShotResult<Result<RpcV1.EchoResponse, RPCError>>()
            client.start(TestMethods.joinInline, requests: requests) { started.complete($0) }
            #expect(try started.wait()?.get().payload == joined(requests))
        }
        // A call still streaming when its handler starts: read from the stream as it comes.
        let streamed = try client.streamingCall(TestMethods.joinInline, sending: RpcV1.EchoRequest.with([1, 2]))
        usleep(50_000)
        try streamed.send(RpcV1.EchoRequest.with([3]))
        #expect(try streamed.finish(last: RpcV1.EchoRequest.with([4, 5])).payload == [1, 2, 3, 4, 5])
    }

    @Test("streamingCall(sending:) sends the first request with the opening, finish(last:) the last one with the end of the stream")
    func finishWithLast() throws {
        let server = try LoopbackServer()
        let client = server.client()
        let upload = try client.streamingCall(TestMethods.upload)
        try upload.send(Self.chunk(10))
        try upload.send(Self.chunk(20))
        #expect(try upload.finish(last: Self.chunk(30)).payload == Array("60".utf8))
        // The first request with the call's opening, the rest as usual.
        let opened = try client.streamingCall(TestMethods.uploadLater, sending: Self.chunk(4))
        for _ in 0..<20 { try opened.send(Self.chunk(1)) }
        #expect(try opened.finish().payload == Array("24".utf8))
        // Nothing more can be sent once the stream ended.
        let ended = try client.streamingCall(TestMethods.upload)
        _ = try ended.finish(last: Self.chunk(1))
        #expect(throws: RPCError.self) { try ended.send(Self.chunk(1)) }
    }

    @Test("a client-streaming handler starts once its first request is here, before the stream ends, and never for a call that ended before")
    func handlerHeldUntilFirstRequest() throws {
        let server = try LoopbackServer()
        let client = server.client(timeout: 10_000)
        let probe = server.probe

        let upload = try client.streamingCall(TestMethods.watchedUpload)
        usleep(100_000)
        #expect(probe.watchedStarts.load(ordering: .relaxed) == 0)
        try upload.send(Self.chunk(5))
        let deadline = Date().addingTimeInterval(20)
        while probe.watchedStarts.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(1_000) }
        #expect(probe.watchedStarts.load(ordering: .relaxed) == 1)
        try upload.send(Self.chunk(6))
        #expect(try upload.finish().payload == Array("11".utf8))

        // Cancelled, or past its deadline, before a request: the handler never runs.
        let cancelled = try client.streamingCall(TestMethods.watchedUpload)
        cancelled.cancel()
        let expiring = try client.streamingCall(TestMethods.watchedUpload, options: CallOptions(timeoutMilliseconds: 100))
        do { _ = try expiring.receive(); Issue.record("the call did not expire") } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        // A call with no request at all still runs its handler (at the end of its stream).
        #expect(try client.call(TestMethods.watchedUpload, requests: []).payload == Array("0".utf8))
        #expect(probe.watchedStarts.load(ordering: .relaxed) == 2)
    }
}

extension RpcV1.EchoRequest {
    static func with(_ payload: [UInt8]) -> Self {
        var request = Self()
        request.payload = payload
        return request
    }
}
