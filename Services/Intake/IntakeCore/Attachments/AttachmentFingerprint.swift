import Foundation
import Messages
import RPCTransport
import Storage

/// What an idempotency key remembers of a request that names uploaded files.
///
/// A multipart open, reply or discussion entry with a file too large to travel inside the call
/// is uploaded first, and each upload gets a new id: a client retrying the form with the same
/// `Idempotency-Key` sends the same files under new ids. So the fingerprint does not hash the
/// ids but what they stand for — the file's name, type, size and SHA-256 — and the retry is the
/// same request: it gets the first answer, and the new uploads, named by nothing, are removed by
/// the garbage collection. Another file under the same key is still another request.
extension IntakeContext {
    /// The SHA-256 of `request` with `ids` (its `attachment_ids`) each replaced by
    /// `file:<sha256>:<size>:<type>:<name>` (an id intake does not know stays as `id:<id>`), read
    /// in a read transaction of its own (a blocking call's thread).
    /// - Parameter replace: puts the replaced list into a copy of the request.
    func idempotencyFingerprint<Request: ProtoMessage>(_ request: Request, ids: [String],
                                                       replace: (inout Request, [String]) -> Void) throws -> [UInt8] {
        // (More uploads than a call may name: refused anyway, nothing to read.)
        guard !ids.isEmpty, ids.count <= Self.maxNamedUploads else { return Digest.sha256(request.serializedBytes()) }
        return try database.read { tx in try idempotencyFingerprint(tx, request, ids: ids, replace: replace) }
    }

    /// ``idempotencyFingerprint(_:ids:replace:)`` read with `tx` (the open's own transaction, so
    /// an open queued from the RPC event loop reads nothing there).
    func idempotencyFingerprint<Request: ProtoMessage>(_ tx: any SQLExecutor, _ request: Request, ids: [String],
                                                       replace: (inout Request, [String]) -> Void) throws -> [UInt8] {
        // (More uploads than a call may name: refused anyway, nothing to read.)
        guard !ids.isEmpty, ids.count <= Self.maxNamedUploads else { return Digest.sha256(request.serializedBytes()) }
        let unique = Array(Set(ids))
        let placeholders = Array(repeating: "?", count: unique.count).joined(separator: ", ")
        let files = try tx.query("SELECT id, sha256, size_bytes, content_type, file_name FROM attachments WHERE id IN (\(placeholders))",
                                 unique.map { SQLValue.text($0) })
            .reduce(into: [String: String]()) { found, row in
                found[try row.text("id")] = "file:\(try row.text("sha256")):\(try row.int("size_bytes")):"
                    + "\(try row.text("content_type")):\(try row.text("file_name"))"
            }
        var normalized = request
        replace(&normalized, ids.map { files[$0] ?? "id:\($0)" })
        return Digest.sha256(normalized.serializedBytes())
    }
}
