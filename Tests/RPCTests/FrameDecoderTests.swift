import Messages
import RPC
import Testing

@Suite("Frame decoder")
struct FrameDecoderTests {
    static func sampleFrame() -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.callID = 42
        frame.kind = .request
        frame.method = "/ocorrencias.rpc.v1.Echo/Echo"
        frame.timeoutMs = 1500
        frame.metadata = ["request-id": "abc", "trace-id": "t-1", "acentuação": "ção"]
        frame.payload = Array(0..<200).map { UInt8($0) }
        return frame
    }

    static func encoded(_ frames: [RpcV1.Frame]) -> [UInt8] {
        var bytes: [UInt8] = []
        for frame in frames { frame.appendLengthPrefixed(to: &bytes) }
        return bytes
    }

    @Test("a frame split at every byte boundary decodes once, identically")
    func splitAtEveryByte() throws {
        let frame = Self.sampleFrame()
        let bytes = Self.encoded([frame])
        for split in 0...bytes.count {
            var decoder = FrameDecoder(maxFrameSize: 1 << 20)
            decoder.append(Array(bytes[0..<split]))
            var decoded: [RpcV1.Frame] = []
            while let f = try decoder.next() { decoded.append(f) }
            if split < bytes.count {
                #expect(decoded.isEmpty, "decoded a frame from \(split) of \(bytes.count) bytes")
                decoder.append(Array(bytes[split...]))
                while let f = try decoder.next() { decoded.append(f) }
            }
            #expect(decoded == [frame])
            #expect(decoder.bufferedByteCount == 0)
        }
    }

    @Test("byte-by-byte delivery of many frames keeps them in order")
    func byteByByte() throws {
        let frames = (0..<20).map { i -> RpcV1.Frame in
            var f = Self.sampleFrame()
            f.callID = UInt64(i)
            f.payload = Array(repeating: UInt8(i), count: i * 7)
            return f
        }
        var decoder = FrameDecoder(maxFrameSize: 1 << 20)
        var decoded: [RpcV1.Frame] = []
        for byte in Self.encoded(frames) {
            decoder.append([byte])
            while let f = try decoder.next() { decoded.append(f) }
        }
        #expect(decoded == frames)
    }

    @Test("a zero-length frame is an empty Frame")
    func zeroLength() throws {
        var decoder = FrameDecoder(maxFrameSize: 1024)
        decoder.append([0, 0, 0, 0])
        let frame = try #require(try decoder.next())
        #expect(frame == RpcV1.Frame())
        #expect(try decoder.next() == nil)
    }

    @Test("an oversized length is rejected from the prefix alone, before the body arrives")
    func oversizedRejectedEarly() {
        var decoder = FrameDecoder(maxFrameSize: 4 << 20)
        decoder.append([0x7f, 0xff, 0xff, 0xff])
        #expect(throws: FrameDecodingError.frameTooLarge(length: 0x7fff_ffff, limit: 4 << 20)) { try decoder.next() }
        #expect(decoder.bufferedByteCount == 4, "nothing was allocated for the announced body")
        var exact = FrameDecoder(maxFrameSize: 10)
        exact.append([0, 0, 0, 11])
        #expect(throws: FrameDecodingError.self) { try exact.next() }
    }

    @Test("garbage bytes are a malformed frame, not a crash")
    func garbage() {
        var decoder = FrameDecoder(maxFrameSize: 1024)
        decoder.append([0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])
        #expect(throws: FrameDecodingError.malformedFrame(length: 6)) { try decoder.next() }
    }

    @Test("a partial frame is reported while incomplete")
    func partialFrame() throws {
        var decoder = FrameDecoder(maxFrameSize: 1024)
        #expect(!decoder.hasPartialFrame)
        decoder.append([0, 0])
        #expect(decoder.hasPartialFrame)
        #expect(try decoder.next() == nil)
    }
}
