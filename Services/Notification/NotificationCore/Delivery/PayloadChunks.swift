import Foundation
import ServiceKit
import Storage

/// Large rendered messages (on-demand e-mails with attachments fetched from intake) stored in
/// `notification_payload_chunks` in pieces of ``chunkBytes`` instead of the delivery row's
/// `payload`; the row's `payload_bytes` holds their total size. Written from the message's
/// segments (spool files read piece by piece) and read back one piece at a time while libcurl
/// uploads, so neither side holds the whole message in memory. Being in the database, the
/// pieces serve every instance, retries and resends (byte-identical).
enum PayloadChunks {
    static let chunkBytes = 256 << 10

    /// Stores `segments` for `deliveryID` in the caller's transaction.
    /// - Returns: the total size in bytes.
    @discardableResult
    static func write(_ tx: any SQLExecutor, deliveryID: String, segments: [MIMESegment]) throws -> Int {
        if segments.count == 1, case .bytes(let bytes) = segments[0], bytes.count <= chunkBytes {
            // One piece (every rendered message without fetched files): no copy into a buffer.
            try tx.execute("INSERT INTO notification_payload_chunks (delivery_id, seq, data) VALUES (?, 0, ?)",
                           [.text(deliveryID), .blob(bytes)])
            return bytes.count
        }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(chunkBytes)
        var seq: Int64 = 0
        var total = 0
        func flush() throws {
            guard !buffer.isEmpty else { return }
            try tx.execute("INSERT INTO notification_payload_chunks (delivery_id, seq, data) VALUES (?, ?, ?)",
                           [.text(deliveryID), .integer(seq), .blob(buffer)])
            seq += 1
            total += buffer.count
            buffer.removeAll(keepingCapacity: true)
        }
        func add(_ bytes: some Collection<UInt8>) throws {
            var rest = bytes[...]
            while !rest.isEmpty {
                let take = min(chunkBytes - buffer.count, rest.count)
                buffer += rest.prefix(take)
                rest = rest.dropFirst(take)
                if buffer.count == chunkBytes { try flush() }
            }
        }
        for segment in segments {
            switch segment {
            case .bytes(let bytes):
                try add(bytes)
            case .file(let path):
                guard let handle = FileHandle(forReadingAtPath: path) else {
                    throw CocoaError(.fileReadNoSuchFile, userInfo: [NSFilePathErrorKey: path])
                }
                defer { try? handle.close() }
                while let piece = try handle.read(upToCount: chunkBytes), !piece.isEmpty {
                    try add(piece)
                }
            }
        }
        try flush()
        return total
    }

    /// The size in bytes of the message `segments` make (files by their current size).
    static func size(of segments: [MIMESegment]) throws -> Int {
        try segments.reduce(0) { total, segment in
            switch segment {
            case .bytes(let bytes):
                return total + bytes.count
            case .file(let path):
                let attributes = try FileManager.default.attributesOfItem(atPath: path)
                guard let size = (attributes[.size] as? NSNumber)?.intValue else {
                    throw CocoaError(.fileReadUnknown, userInfo: [NSFilePathErrorKey: path])
                }
                return total + size
            }
        }
    }

    /// Piece `seq` of a delivery's stored message; nil past the end.
    static func read(_ database: any Database, deliveryID: String, seq: Int) throws -> [UInt8]? {
        try database.read { tx in
            try tx.queryOne("SELECT data FROM notification_payload_chunks WHERE delivery_id = ? AND seq = ?",
                            [.text(deliveryID), .integer(Int64(seq))]).map { try $0.blob("data") }
        }
    }

    /// The whole stored message (tests, small messages).
    static func readAll(_ database: any Database, deliveryID: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var seq = 0
        while let piece = try read(database, deliveryID: deliveryID, seq: seq) {
            bytes += piece
            seq += 1
        }
        return bytes
    }

    /// Deletes the pieces of `ids` (deliveries being pruned).
    static func delete(_ tx: any SQLExecutor, ids: [String]) throws {
        try StatementBatches.forEach(ids) { chunk, marks in
            try tx.execute("DELETE FROM notification_payload_chunks WHERE delivery_id IN (\(marks))", chunk.map(SQLValue.text))
        }
    }
}

/// Hands libcurl a stored message piece by piece (the read callback asks for more when the
/// current piece is used up).
final class ChunkedUpload: @unchecked Sendable {
    let database: any Database
    let deliveryID: String
    private var next = 0

    init(database: any Database, deliveryID: String) {
        self.database = database
        self.deliveryID = deliveryID
    }

    /// The next piece; nil at the end or when the database cannot be read (the upload then
    /// comes out short and libcurl fails the transfer: a transient failure, retried).
    func nextPiece() -> [UInt8]? {
        defer { next += 1 }
        return try? PayloadChunks.read(database, deliveryID: deliveryID, seq: next)
    }
}
