import Foundation
import Messages
import RPC
import RPCTransport
import Testing

/// The wire-tag walk before decoding (docs/PROTOCOL.md, "Frame shape"): frames of many tiny
/// metadata entries or fields are refused for the price of reading their bytes, not decoded.
@Suite("Frame shape before decoding")
struct FrameShapeTests {
    /// A REQUEST whose metadata has `entries` distinct tiny keys.
    static func request(metadataEntries entries: Int, callID: UInt64 = 7) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = callID
        frame.method = RpcV1.Echo.echo.path
        var metadata: [String: String] = [:]
        for i in 0..<entries { metadata[String(i, radix: 36)] = "" }
        frame.metadata = metadata
        frame.endStream = true
        return frame
    }

    /// What `decoder.next()` refused: call id, what, count, limit (nil: it did not refuse).
    static func refusal(_ decoder: inout FrameDecoder) -> Refusal? {
        do {
            _ = try decoder.next()
            return nil
        } catch {
            guard case .shapeRefused(let callID, let v) = error else { return Refusal(callID: 0, what: "\(error)", count: 0, limit: 0) }
            return Refusal(callID: callID, what: v.what, count: v.count, limit: v.limit)
        }
    }

    struct Refusal: Equatable {
        let callID: UInt64
        let what: String
        let count: Int
        let limit: Int
    }

    static func bytes(_ frames: RpcV1.Frame...) -> [UInt8] {
        var bytes: [UInt8] = []
        for frame in frames { frame.appendLengthPrefixed(to: &bytes) }
        return bytes
    }

    @Test("64 metadata entries decode; the 65th refuses the frame (RESOURCE_EXHAUSTED naming the limit) with its call id, and the next frame decodes: the stream stays in step")
    func metadataEntries() throws {
        var decoder = FrameDecoder(maxFrameSize: 4 << 20)
        let fine = Self.request(metadataEntries: 64, callID: 1)
        let over = Self.request(metadataEntries: 65, callID: 2)
        decoder.append(Self.bytes(fine, over, fine))
        #expect(try decoder.next() == fine)
        var probe = decoder
        #expect(Self.refusal(&decoder) == Refusal(callID: 2, what: "metadata entries", count: 65, limit: 64))
        #expect(try decoder.next() == fine)
        do {
            _ = try probe.next()
        } catch {
            #expect(error.statusCode == .resourceExhausted)
            #expect(error.description.contains("metadata entries 65 over the limit of 64"))
            #expect(error.description.contains("entradas de metadados"))
        }
    }

    @Test("metadata over 16 KiB in all is refused, a few entries of it or one")
    func metadataBytes() throws {
        var frame = Self.request(metadataEntries: 0)
        frame.metadata = ["a": String(repeating: "x", count: 10_000), "b": String(repeating: "y", count: 10_000)]
        var decoder = FrameDecoder(maxFrameSize: 4 << 20)
        decoder.append(Self.bytes(frame))
        let refused = Self.refusal(&decoder)
        #expect(refused?.callID == 7 && refused?.what == "metadata bytes" && refused?.limit == 16 << 10)
    }

    /// Field `number` as a varint, `count` times: unknown fields a newer peer never sends in bulk.
    static func unknownFields(_ count: Int, number: UInt8 = 15) -> [UInt8] {
        var body: [UInt8] = [0x08, 0x05]  // call_id 5
        for _ in 0..<count { body += [number << 3, 0x01] }
        return [UInt8(body.count >> 24), UInt8(body.count >> 16 & 0xff), UInt8(body.count >> 8 & 0xff), UInt8(body.count & 0xff)] + body
    }

    @Test("a few unknown fields (a newer peer) decode; thousands are refused before decoding; a client's frame may not carry a status of many entries; groups and truncated tags stay malformed")
    func otherFields() throws {
        var decoder = FrameDecoder(maxFrameSize: 4 << 20)
        decoder.append(Self.unknownFields(10))
        #expect(try decoder.next()?.callID == 5)
        decoder.append(Self.unknownFields(100_000))
        #expect(Self.refusal(&decoder) == Refusal(callID: 5, what: "fields", count: 65, limit: 64))

        var status = RpcV1.Frame()
        status.kind = .response
        status.callID = 9
        var s = RpcV1.Status()
        s.code = 3
        s.violations = (0..<100).map { _ in var v = RpcV1.FieldViolation(); v.field = "f"; return v }
        status.status = s
        var server = FrameDecoder(maxFrameSize: 4 << 20, shapeLimits: .fromClients)
        server.append(Self.bytes(status))
        #expect(Self.refusal(&server) == Refusal(callID: 9, what: "status entries", count: 17, limit: 16))
        var client = FrameDecoder(maxFrameSize: 4 << 20)
        client.append(Self.bytes(status))
        #expect(try client.next() == status, "a server's error may name many fields")

        let group: [UInt8] = [0, 0, 0, 2, 0x7b, 0x7c]  // field 15 start group, end group
        var malformed = FrameDecoder(maxFrameSize: 4 << 20)
        malformed.append(group)
        #expect(throws: FrameDecodingError.malformedFrame(length: 2)) { try malformed.next() }
    }

    /// The review's hostile frame: a 4 MiB frame of about 424,000 tiny metadata entries.
    static func hostileFrame() -> [UInt8] {
        // Entry: tag 5/LEN (0x2a), length 4, key tag (0x0a) len 1 'k', value tag (0x12) len 0.
        let entry: [UInt8] = [0x2a, 0x05, 0x0a, 0x01, 0x6b, 0x12, 0x00]
        var body: [UInt8] = [0x08, 0x03, 0x10, 0x01]  // call_id 3, REQUEST
        body.reserveCapacity(4 << 20)
        while body.count + entry.count <= (4 << 20) - 4 { body += entry }
        let n = body.count
        return [UInt8(n >> 24), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)] + body
    }

    @Test("the review's hostile frame (about 600,000 tiny metadata entries in 4 MiB) is refused in well under a millisecond per megabyte, not decoded (it took 0.32 s of the event loop)")
    func hostileFrameIsCheap() throws {
        let frame = Self.hostileFrame()
        var decoder = FrameDecoder(maxFrameSize: 4 << 20)
        decoder.append(frame)
        let started = Date()
        #expect(Self.refusal(&decoder) == Refusal(callID: 3, what: "metadata entries", count: 65, limit: 64))
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 0.05, "refused in \(elapsed) s")
        #expect(decoder.bufferedByteCount == 0)
        // What the same frame costs decoded whole (the transport before the walk), for docs/PROTOCOL.md.
        let decodeStarted = Date()
        let decoded = frame.withUnsafeBytes { try? RpcV1.Frame(serializedBytes: UnsafeRawBufferPointer(rebasing: $0[4...])) }
        print("hostile frame of \(frame.count) bytes: refused in \(elapsed) s; decoded whole in \(Date().timeIntervalSince(decodeStarted)) s (\(decoded?.metadata.count ?? -1) distinct keys)")
    }

    @Test("over the wire: a call whose REQUEST carries 100 metadata entries is answered RESOURCE_EXHAUSTED naming the limit, and the connection goes on serving calls")
    func refusedCallAlone() throws {
        let server = try LoopbackServer()
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        var hostile = Self.request(metadataEntries: 100, callID: 11)
        hostile.payload = LoopbackTests.echoRequest([1, 2, 3]).serializedBytes()
        peer.send(hostile)
        let refused = try #require(peer.receive())
        #expect(refused.kind == .response && refused.callID == 11)
        #expect(refused.status?.code == RPCStatusCode.resourceExhausted.rawValue)
        #expect(refused.status?.message.contains("limit of 64") == true)
        var fine = Self.request(metadataEntries: 3, callID: 12)
        fine.payload = LoopbackTests.echoRequest([4, 5]).serializedBytes()
        peer.send(fine)
        let answer = try #require(peer.receive())
        #expect(answer.callID == 12 && answer.status == nil)
        #expect(try RpcV1.EchoResponse(serializedBytes: answer.payload).payload == [4, 5])
    }
}
