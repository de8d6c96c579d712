import Messages
import RPC
import RPCTransport

/// A service's server stream relayed as an HTTP body while it arrives (an attachment's chunks,
/// a CSV export's), so the gateway holds one chunk at a time however long the whole is: the
/// caller awaits the first message before answering (a refusal is still a JSON error), hands it
/// here, and the rest is read from the service as the client takes the body.
final class StreamedChunks<Chunk: ProtoMessage>: HTTPBodySource, @unchecked Sendable {
    private let stream: ResponseStream<Chunk>
    private let bytes: @Sendable (Chunk) -> [UInt8]
    // Touched only by the server thread sending the body, one call at a time.
    private var chunk: [UInt8]
    private var offset = 0
    private var ended: Bool

    /// - Parameters:
    ///   - first: The first message's bytes, already received.
    ///   - ended: The stream had no first message.
    ///   - bytes: A message's part of the body.
    init(stream: ResponseStream<Chunk>, first: [UInt8], ended: Bool, bytes: @escaping @Sendable (Chunk) -> [UInt8]) {
        self.stream = stream
        self.bytes = bytes
        chunk = first
        self.ended = ended
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while offset == chunk.count {
            guard !ended, let next = try stream.receive() else {
                ended = true
                return 0
            }
            chunk = bytes(next)
            offset = 0
        }
        let count = min(buffer.count, chunk.count - offset)
        chunk.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + offset, byteCount: count)
        }
        offset += count
        return count
    }

    func close() {
        if !ended { stream.cancel() }
    }
}
