import RPCTransport

/// Where a finished upload's bytes are kept.
enum UploadedContent {
    /// Small enough to be stored in the `contents` row itself, committed with the attachment row.
    case inline(sha256: String, bytes: [UInt8])
    /// Written to the ``ContentStore`` (flushed and renamed into place) before the row commits.
    case file(sha256: String)

    var sha256: String {
        switch self {
        case .inline(let sha, _), .file(let sha): sha
        }
    }
}

/// One upload in progress. Its first `inlineLimit` bytes are kept in memory; an upload that grows
/// past them spills to a ``ContentStore/Upload`` (a temporary file) and continues there.
///
/// Small files (pasted screenshots, logs, the bulk of what customers attach) then cost no file,
/// no `fsync` and no directory sync: their bytes go into the database in the transaction that
/// records the attachment, with exactly the durability of the ticket rows that will refer to
/// them, and a cut-off upload leaves nothing because nothing was written.
final class ContentUpload {
    private let store: ContentStore
    private let inlineLimit: Int64
    private var buffer: [UInt8] = []
    private var spilled: ContentStore.Upload?
    private(set) var size: Int64 = 0

    init(store: ContentStore, inlineLimit: Int64) {
        self.store = store
        self.inlineLimit = inlineLimit
    }

    /// Appends bytes; moves to a temporary file the first time the total passes the inline limit.
    func append(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { return }
        size += Int64(bytes.count)
        if let spilled {
            try spilled.append(bytes)
        } else if size <= inlineLimit {
            // The first chunk is kept as it is (no copy); later ones are appended.
            if buffer.isEmpty { buffer = bytes } else { buffer.append(contentsOf: bytes) }
        } else {
            let file = try store.beginUpload()
            spilled = file
            try file.append(buffer)
            buffer = []
            try file.append(bytes)
        }
    }

    /// Finishes the upload: checks the hash against `expected` and, for a file, flushes it and
    /// moves it under its content name.
    /// - Throws: ``ContentMismatch`` (keeping nothing) when the content's SHA-256 is not `expected`.
    func commit(expected: String) throws -> UploadedContent {
        if let spilled { return .file(sha256: try spilled.commit(expected: expected)) }
        let sha = Digest.hex(Digest.sha256(buffer))
        guard sha == expected.lowercased() else { throw ContentMismatch(actual: sha) }
        return .inline(sha256: sha, bytes: buffer)
    }

    /// Drops whatever was received (a no-op after a successful ``commit(expected:)`` of a file).
    func abort() {
        spilled?.abort()
        buffer = []
    }
}
