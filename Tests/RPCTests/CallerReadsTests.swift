import Foundation
import Messages
import RPC
import RPCTransport
import Synchronization
import Testing

/// `ClientConfiguration.callersReadAnswers`: blocking calls hold a connection each and read
/// their answers on the calling thread (the gateway's HTTP threads).
@Suite("Blocking calls reading their own answers", .serialized)
struct CallerReadsTests {
    static func client(_ server: LoopbackServer, endpoints: [Endpoint]? = nil, timeout: Int = 5_000) -> RPCClient {
        var configuration = ClientConfiguration(endpoints: endpoints ?? [server.endpoint], secret: server.secret)
        configuration.defaultTimeoutMilliseconds = timeout
        configuration.connectTimeoutMilliseconds = 500
        configuration.callersReadAnswers = true
        return RPCClient(configuration: configuration)
    }

    @Test("16 threads calling at once each get their own answer, errors as the server gives them")
    func concurrentCallers() throws {
        let server = try LoopbackServer()
        let client = Self.client(server, timeout: 30_000)
        let failures = Atomic<Int>(0)
        let done = Completions()
        for thread in 0..<16 {
            Thread.detachNewThread {
                for call in 0..<200 {
                    // First byte 1: the server refuses (FAILED_PRECONDITION); else it echoes, later, from another thread.
                    let payload: [UInt8] = [call % 7 == 0 ? 1 : 0, UInt8(thread), UInt8(call & 0xFF), UInt8(call >> 8)]
                    do {
                        let answer = try client.call(TestMethods.later, LoopbackTests.echoRequest(payload))
                        if payload[0] == 1 || answer.payload != payload { failures.wrappingAdd(1, ordering: .relaxed) }
                    } catch let error as RPCError {
                        if payload[0] != 1 || error.code != .failedPrecondition { failures.wrappingAdd(1, ordering: .relaxed) }
                    } catch {
                        failures.wrappingAdd(1, ordering: .relaxed)
                    }
                }
                done.record(thread, .success([]))
            }
        }
        #expect(done.wait(for: 16, seconds: 120).count == 16)
        #expect(failures.load(ordering: .relaxed) == 0)
    }

    @Test("past its deadline a call is DEADLINE_EXCEEDED, the handler sees the cancellation, and the connection serves the next call")
    func deadlineThenReuse() throws {
        let server = try LoopbackServer()
        let client = Self.client(server)
        let start = Date()
        do {
            _ = try client.call(TestMethods.gate, LoopbackTests.echoRequest([1]), options: CallOptions(timeoutMilliseconds: 100))
            Issue.record("the gate answered before it was opened")
        } catch let error as RPCError {
            #expect(error.code == .deadlineExceeded)
        }
        #expect(Date().timeIntervalSince(start) < 2)
        let seen = Date().addingTimeInterval(2)
        while server.probe.cancellationsSeen.load(ordering: .relaxed) == 0 && Date() < seen { usleep(5_000) }
        #expect(server.probe.cancellationsSeen.load(ordering: .relaxed) == 1)
        // A call the server holds past its deadline, answered late: the next call still gets its own answer.
        #expect(throws: RPCError.self) { _ = try client.call(TestMethods.held, LoopbackTests.echoRequest([7]), options: CallOptions(timeoutMilliseconds: 100)) }
        for (_, respond) in server.probe.held.withLock({ $0 }) {
            var late = RpcV1.EchoResponse()
            late.payload = [7, 7, 7]
            respond(.success(late))
        }
        usleep(50_000)
        #expect(try client.call(TestMethods.sleepy, LoopbackTests.echoRequest([0, 42])).payload == [0, 42])
        #expect(try client.call(TestMethods.sleepy, LoopbackTests.echoRequest([0, 43])).payload == [0, 43])
    }

    @Test("a connection the server closed while idle is replaced; an instance that stops is skipped")
    func idleCloseAndFailover() throws {
        var limits = RPCLimits()
        limits.idleTimeoutMilliseconds = 200
        let a = try LoopbackServer(limits: limits)
        let client = Self.client(a)
        #expect(try client.call(RpcV1.Echo.echo, LoopbackTests.echoRequest([1])).payload == [1])
        usleep(700_000)  // the server closes the idle connection (its sweep runs every few ms)
        #expect(try client.call(RpcV1.Echo.echo, LoopbackTests.echoRequest([2])).payload == [2])

        let b = try LoopbackServer(secret: a.secret)
        let c = try LoopbackServer(secret: a.secret)
        let spread = Self.client(b, endpoints: [b.endpoint, c.endpoint, Endpoint(host: "127.0.0.1", port: 1)])
        for _ in 0..<30 { #expect(try spread.call(RpcV1.Echo.echo, LoopbackTests.echoRequest([3])).payload == [3]) }
        #expect(b.server.metrics.count(method: RpcV1.Echo.echo.path, code: "OK") > 0)
        #expect(c.server.metrics.count(method: RpcV1.Echo.echo.path, code: "OK") > 0)
        b.server.shutdown(gracePeriodMilliseconds: 100)
        for _ in 0..<10 { #expect(try spread.call(RpcV1.Echo.echo, LoopbackTests.echoRequest([4])).payload == [4]) }
    }

    @Test("closing the client fails a call in flight with UNAVAILABLE")
    func closeFailsCallInFlight() throws {
        let server = try LoopbackServer()
        let client = Self.client(server, timeout: 10_000)
        let done = Completions()
        Thread.detachNewThread {
            do {
                _ = try client.call(TestMethods.gate, LoopbackTests.echoRequest([5]))
                done.record(0, .success([]))
            } catch let error as RPCError {
                done.record(0, .failure(error))
            } catch {
                done.record(0, .failure(RPCError(.unknown, "\(error)")))
            }
        }
        while server.probe.gateEntered.load(ordering: .relaxed) == 0 { usleep(1_000) }
        let start = Date()
        client.close()
        let result = try #require(done.wait(for: 1, seconds: 5)[0])
        if case .failure(let error) = result { #expect(error.code == .unavailable) } else { Issue.record("the call succeeded") }
        #expect(Date().timeIntervalSince(start) < 3)
        server.probe.gateOpen.store(true, ordering: .releasing)
    }
}
