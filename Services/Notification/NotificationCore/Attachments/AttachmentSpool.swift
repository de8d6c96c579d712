import Foundation
import RPCTransport

/// An attachment fetched from intake, already encoded for MIME (base64 in CRLF-terminated lines
/// of 76 characters) in a temporary file, so its bytes are never all in memory.
struct SpooledAttachment: Sendable {
    var fileName: String
    var contentType: String
    /// The encoded content.
    var path: String
    /// Bytes of the file content before encoding.
    var size: Int
}

/// Temporary files for attachments being fetched (`<data-dir>/notification-spool/`), removed
/// once the message is stored in the database.
struct AttachmentSpool: Sendable {
    let directory: String

    init(dataDirectory: String) {
        directory = (dataDirectory as NSString).appendingPathComponent("notification-spool")
    }

    /// A new, empty file for writing.
    func create() throws -> (path: String, handle: FileHandle) {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let path = (directory as NSString).appendingPathComponent(UUID().uuidString.lowercased() + ".b64")
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path])
        }
        return (path, handle)
    }

    /// Deletes spool files older than `age` seconds: left by a process that stopped between
    /// fetching attachments and storing the message (called at start-up).
    /// - Returns: how many were deleted.
    @discardableResult
    func removeStale(olderThan age: TimeInterval, now: Date = Date()) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var removed = 0
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
                  now.timeIntervalSince(modified) > age else { continue }
            if (try? FileManager.default.removeItem(atPath: path)) != nil { removed += 1 }
        }
        return removed
    }

    /// Writes an attachment given in the request (`SendTicketEmail.attachments`) encoded for
    /// MIME into a new spool file, a slice at a time: the stored message is then written from
    /// the file in pieces (``PayloadChunks``) like a file fetched from intake, instead of the
    /// whole message being rendered in memory next to the request.
    func spool(fileName: String, contentType: String, content: [UInt8]) throws -> SpooledAttachment {
        let (path, handle) = try create()
        var kept = false
        defer {
            try? handle.close()
            if !kept { try? FileManager.default.removeItem(atPath: path) }
        }
        // Whole lines (57 input bytes each), about 76 KiB of output per write.
        let slice = 57 * 1_024
        var start = 0
        while start < content.count {
            let end = min(content.count, start + slice)
            try handle.write(contentsOf: MIMEEncoding.base64LineBytes(Array(content[start..<end])))
            start = end
        }
        kept = true
        return SpooledAttachment(fileName: fileName, contentType: contentType.isEmpty ? "application/octet-stream" : contentType,
                                 path: path, size: content.count)
    }

    static func remove(_ files: [SpooledAttachment]) {
        for file in files { try? FileManager.default.removeItem(atPath: file.path) }
    }
}

/// Base64 in lines of 76 characters (57 input bytes each), CRLF-terminated, fed piece by piece:
/// the output equals ``MIMEEncoding/base64Lines(_:)`` of the whole input.
struct Base64LineEncoder {
    private var pending: [UInt8] = []

    /// The complete lines `bytes` finishes (a remainder under 57 bytes waits for more).
    mutating func feed(_ bytes: [UInt8]) -> [UInt8] {
        pending += bytes
        let whole = pending.count / 57 * 57
        guard whole > 0 else { return [] }
        let out = MIMEEncoding.base64LineBytes(Array(pending[..<whole]))
        pending.removeFirst(whole)
        return out
    }

    /// The last, shorter line.
    mutating func finish() -> [UInt8] {
        defer { pending = [] }
        return pending.isEmpty ? [] : MIMEEncoding.base64LineBytes(pending)
    }
}
