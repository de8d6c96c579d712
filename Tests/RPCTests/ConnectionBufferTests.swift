import CSystem
import Dispatch
import Foundation
import Messages
import RPC
import RPCTransport
import Testing

/// One connection's streaming requests waiting for their handlers are bounded across its calls
/// (`OCORRENCIAS_RPC_MAX_CONNECTION_BUFFER_BYTES`, docs/PROTOCOL.md "Back-pressure and limits"):
/// past the budget the server stops reading the connection instead of buffering
/// 512 calls × 16 messages × 4 MiB.
@Suite("Connection buffer budget", .serialized)
struct ConnectionBufferTests {
    static func upload(id: UInt64, chunks: Int, size: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var request = RpcV1.Frame()
        request.kind = .request
        request.callID = id
        request.method = TestMethods.gatedUpload.path
        request.appendLengthPrefixed(to: &bytes)
        for _ in 0..<chunks {
            var message = RpcV1.Frame()
            message.kind = .message
            message.callID = id
            message.payload = LoopbackTests.echoRequest([UInt8](repeating: 5, count: size)).serializedBytes()
            message.appendLengthPrefixed(to: &bytes)
        }
        var end = RpcV1.Frame()
        end.kind = .message
        end.callID = id
        end.endStream = true
        end.appendLengthPrefixed(to: &bytes)
        return bytes
    }

    @Test("with a 1 MiB budget, four uploads of 2 MiB each whose handlers read nothing yet stop the server reading the connection (a PING behind them is not answered) without an error; once the handlers read, every upload completes whole and the PING is answered")
    func budgetPushesBack() throws {
        var limits = RPCLimits()
        limits.maxBufferedStreamBytesPerConnection = 1 << 20
        let server = try LoopbackServer(limits: limits)
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        var bytes: [UInt8] = []
        for id in 1...4 { bytes += Self.upload(id: UInt64(id), chunks: 8, size: 256 << 10) }
        bytes += HostilePeerTests.ping(8, id: 99)
        let all = bytes
        let sent = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            peer.send(all)
            sent.signal()
        }
        var tv = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(peer.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var early: [RpcV1.Frame] = []
        while let frame = peer.receive() { early.append(frame) }
        #expect(!early.contains { $0.kind == .pong || $0.kind == .response },
                "nothing answered while the handlers read nothing: \(early.map(\.kind))")

        server.probe.gateOpen.store(true, ordering: .releasing)
        tv = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(peer.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var responses: [UInt64: String] = [:]
        var ponged = false
        while responses.count < 4 || !ponged, let frame = peer.receive() {
            if frame.kind == .pong { ponged = true }
            if frame.kind == .response {
                #expect(frame.status == nil, "\(frame.status?.message ?? "")")
                responses[frame.callID] = String(decoding: (try? RpcV1.EchoResponse(serializedBytes: frame.payload))?.payload ?? [], as: UTF8.self)
            }
        }
        #expect(ponged)
        #expect(responses == [1: "2097152", 2: "2097152", 3: "2097152", 4: "2097152"])
        #expect(sent.wait(timeout: .now() + 5) == .success)
    }

    @Test("the budget's setting is read from the environment")
    func setting() {
        #expect(RPCLimits().maxBufferedStreamBytesPerConnection == 64 << 20)
        #expect(RPCLimits(environment: ["OCORRENCIAS_RPC_MAX_CONNECTION_BUFFER_BYTES": "1048576"]).maxBufferedStreamBytesPerConnection == 1 << 20)
    }
}
