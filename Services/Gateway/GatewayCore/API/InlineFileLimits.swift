import Foundation

/// Which of an open's or a reply's files travel *inside* intake's call (`files`, base64 in JSON:
/// one call, one transaction) and which are uploaded first (`POST /v1/attachments`) and named in
/// `attachment_ids`. The one source of these limits: the gateway's multipart open
/// (``TicketForm``) decides with them, and `GET /v1/file-limits` serves them to the portal and
/// to `ocorre`, which decide the same way instead of keeping numbers of their own.
///
/// A file goes inside when it is at most ``fileBytes`` and, with it, the call's inline files stay
/// within ``maxFiles`` and ``maxBytes``; the others are uploaded (at most ``uploadBytes`` each).
/// Keep these under intake's own limits (`INTAKE_INLINE_CONTENT_BYTES` 256 KiB per file,
/// `INTAKE_OPEN_FILES_MAX_COUNT` 16, `INTAKE_OPEN_FILES_MAX_BYTES` 3 MiB), or intake refuses
/// what the clients send inline.
///
/// ```swift
/// var budget = InlineFileLimits(fileBytes: 256 << 10, maxFiles: 8, maxBytes: 2 << 20, uploadBytes: 100 << 20).budget()
/// budget.take(1_000)    // true: inside the call
/// budget.take(300_000)  // false: upload it first
/// ```
public struct InlineFileLimits: Sendable, Equatable {
    /// The largest file sent inside the call (`GATEWAY_HTTP_INLINE_FILE_BYTES`; 0: every file is
    /// uploaded, empty ones too).
    public var fileBytes: Int
    /// At most this many files inside one call (`GATEWAY_HTTP_INLINE_MAX_FILES`).
    public var maxFiles: Int
    /// At most this many bytes of files inside one call (`GATEWAY_HTTP_INLINE_MAX_BYTES`).
    public var maxBytes: Int
    /// The largest upload the gateway relays (`GATEWAY_HTTP_MAX_UPLOAD_BYTES`).
    public var uploadBytes: Int

    public init(fileBytes: Int, maxFiles: Int, maxBytes: Int, uploadBytes: Int) {
        self.fileBytes = fileBytes
        self.maxFiles = maxFiles
        self.maxBytes = maxBytes
        self.uploadBytes = uploadBytes
    }

    /// What is left of one call's inline allowance as its files are decided in order.
    public struct Budget: Sendable {
        public let limits: InlineFileLimits
        public private(set) var files = 0
        public private(set) var bytes = 0

        /// Whether a file of `size` bytes would still go inside the call (nothing is counted).
        public func fits(_ size: Int) -> Bool {
            limits.fileBytes > 0 && size <= limits.fileBytes && files < limits.maxFiles && bytes + size <= limits.maxBytes
        }

        /// Counts a file of `size` bytes in when it fits; false means "upload it first".
        public mutating func take(_ size: Int) -> Bool {
            guard fits(size) else { return false }
            files += 1
            bytes += size
            return true
        }
    }

    /// A fresh allowance for one open or reply.
    public func budget() -> Budget { Budget(limits: self) }

    /// Which files of an open, reply or discussion entry (their `sizes`, in the order the person
    /// chose them) go inside the call, which places them (`file_positions` of intake's
    /// `OpenTicketRequest`, `ReplyRequest`, `AddFilesRequest`, ``positions(_:)``): each one that
    /// fits what is left of the allowance, wherever it stands; the others are uploaded.
    /// - Returns: for each file, whether it goes inside the call.
    public func placed(_ sizes: [Int]) -> [Bool] {
        var budget = budget()
        return sizes.map { budget.take($0) }
    }

    /// `file_positions` of a call's files chosen in order, `inside[i]` saying whether file `i`
    /// goes inside the call: the place of each one that does (its index); the uploads take the
    /// places left, in order. Empty when none goes inside.
    public static func positions(_ inside: [Bool]) -> [Int] {
        inside.indices.filter { inside[$0] }
    }

    /// The answer of `GET /v1/file-limits` (field names as in docs/openapi.yaml `FileLimits`).
    public var json: [String: Any] {
        ["inline_file_bytes": fileBytes, "max_inline_files": maxFiles, "max_inline_bytes": maxBytes, "max_upload_bytes": uploadBytes]
    }

    /// Reads an answer of `GET /v1/file-limits`; nil when a field is missing.
    public init?(json: [String: Any]) {
        func int(_ key: String) -> Int? { (json[key] as? NSNumber)?.intValue ?? (json[key] as? Int) }
        guard let fileBytes = int("inline_file_bytes"), let maxFiles = int("max_inline_files"), let maxBytes = int("max_inline_bytes"),
              let uploadBytes = int("max_upload_bytes") else { return nil }
        self.init(fileBytes: fileBytes, maxFiles: maxFiles, maxBytes: maxBytes, uploadBytes: uploadBytes)
    }
}
