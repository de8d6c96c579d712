import Messages

/// Why a byte stream is not a valid sequence of frames. Every case but ``shapeRefused(callID:_:)``
/// ends the connection.
public enum FrameDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The length prefix announces more than the configured maximum; detected before allocating.
    case frameTooLarge(length: Int, limit: Int)
    /// The frame bytes are not a valid `ocorrencias.rpc.v1.Frame`.
    case malformedFrame(length: Int)
    /// The frame's wire tags show more than ``FrameShape/Limits`` allow (metadata entries or
    /// bytes, fields); it was skipped without being decoded, and the stream is still in step:
    /// a server answers call `callID` with the error and reads on.
    case shapeRefused(callID: UInt64, FrameShape.Violation)

    public var description: String {
        switch self {
        case .frameTooLarge(let length, let limit): "frame of \(length) bytes exceeds the limit of \(limit) bytes"
        case .malformedFrame(let length): "malformed frame of \(length) bytes"
        case .shapeRefused(_, let v):
            "quadro recusado sem decodificar: \(v.count) \(Self.portuguese(v.what)), limite \(v.limit) / "
                + "frame refused before decoding: \(v.what) \(v.count) over the limit of \(v.limit)"
        }
    }

    private static func portuguese(_ what: String) -> String {
        switch what {
        case "metadata entries": "entradas de metadados"
        case "metadata bytes": "bytes de metadados"
        case "status entries": "entradas de status"
        case "fields per entry": "campos numa entrada"
        default: "campos"
        }
    }

    /// The status a peer is told before the connection closes.
    public var statusCode: RPCStatusCode {
        switch self {
        case .frameTooLarge: .resourceExhausted
        case .malformedFrame: .invalidArgument
        case .shapeRefused: .resourceExhausted
        }
    }
}

/// Splits a byte stream into frames: a 4-byte big-endian length, then that many bytes of a
/// protobuf `Frame`. A pure value with no I/O, so it can be tested byte by byte and fuzzed.
///
/// ```swift
/// var decoder = FrameDecoder(maxFrameSize: 4 << 20)
/// decoder.append(bytesFromSocket)
/// while let frame = try decoder.next() { handle(frame) }
/// ```
public struct FrameDecoder: Sendable {
    /// Largest accepted frame body, in bytes. A server lowers it until its peer authenticated
    /// (the handshake's frames are small), then raises it to the configured limit.
    public var maxFrameSize: Int
    /// What a frame may hold, checked on its wire tags before it is decoded (``FrameShape``).
    public var shapeLimits: FrameShape.Limits
    private var buffer: [UInt8] = []
    private var readIndex = 0

    public init(maxFrameSize: Int, shapeLimits: FrameShape.Limits = FrameShape.Limits()) {
        self.maxFrameSize = maxFrameSize
        self.shapeLimits = shapeLimits
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// True while bytes are buffered that were not returned as frames yet (whole frames included).
    public var hasPartialFrame: Bool { bufferedByteCount > 0 }

    /// True while the frame at the front has started to arrive and is not complete: its length
    /// prefix, or its body, is still missing bytes (slow-loris detection). Whole frames waiting
    /// to be taken (a reader that paused) do not count.
    public var hasIncompleteFrame: Bool {
        let buffered = bufferedByteCount
        guard buffered > 0 else { return false }
        guard buffered >= 4 else { return true }
        let length = Int(buffer[readIndex]) << 24 | Int(buffer[readIndex + 1]) << 16
            | Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
        return buffered < 4 + length
    }

    /// Adds bytes read from the peer.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compactIfNeeded()
        buffer.append(contentsOf: bytes.bindMemory(to: UInt8.self))
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The next complete frame, or `nil` when more bytes are needed.
    /// - Throws: ``FrameDecodingError``; the stream cannot continue after it, except after
    ///   ``FrameDecodingError/shapeRefused(callID:_:)`` (that frame was skipped).
    public mutating func next() throws(FrameDecodingError) -> RpcV1.Frame? {
        guard let length = try peekLength() else { return nil }
        guard bufferedByteCount >= 4 + length else { return nil }
        let start = readIndex + 4
        let limits = shapeLimits
        var refused: (UInt64, FrameShape.Violation)?
        let frame: RpcV1.Frame? = buffer.withUnsafeBytes { all in
            let body = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
            // Tags first: a frame of a hundred thousand tiny entries is refused for the price of
            // reading its bytes once, not decoded into as many allocations.
            guard let scan = FrameShape.scan(body, limits: limits) else { return nil }
            if let violation = scan.violation {
                refused = (scan.callID, violation)
                return nil
            }
            return try? RpcV1.Frame(serializedBytes: body)
        }
        readIndex = start + length
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 20)
            readIndex = 0
        }
        if let (callID, violation) = refused { throw .shapeRefused(callID: callID, violation) }
        guard let frame else { throw .malformedFrame(length: length) }
        return frame
    }

    /// The length of the frame at the front, checked against the limit, once its prefix has arrived.
    private func peekLength() throws(FrameDecodingError) -> Int? {
        guard bufferedByteCount >= 4 else { return nil }
        let length = Int(buffer[readIndex]) << 24 | Int(buffer[readIndex + 1]) << 16
            | Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
        if length > maxFrameSize { throw .frameTooLarge(length: length, limit: maxFrameSize) }
        return length
    }

    private mutating func compactIfNeeded() {
        if readIndex > 0 && readIndex >= buffer.count / 2 {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
