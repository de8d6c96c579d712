import Foundation
import RPCTransport
import Storage

/// Files stored once per content, named by their SHA-256, under the service's data directory:
/// `<root>/ab/cd/abcd…` for the content whose hex SHA-256 starts with `abcd`.
///
/// An upload is written to `<root>/tmp/<uuid>` while it streams, hashed as it goes, flushed with
/// `fsync`, and only then renamed into place (and the directory synced), so a cut-off upload never
/// leaves a partial file under a content name, and a content name always holds exactly that
/// content. A content that is already stored is not written twice: the temporary file is dropped.
public final class ContentStore: Sendable {
    public let root: String

    /// Creates `root` and its `tmp` directory (temporary files a crash left behind are removed by
    /// ``removeStaleUploads(olderThanMilliseconds:)``).
    public init(root: String) throws {
        self.root = root
        try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
    }

    /// A store read where it is, creating nothing (e.g. the live store a backup copies from).
    public init(reading root: String) {
        self.root = root
    }

    /// Removes leftovers of uploads cut off by a crash: temporary files last written more than
    /// `age` milliseconds ago. Returns how many.
    ///
    /// Not every temporary file: the store may be shared by several intake processes (a shared
    /// attachment directory, docs/DEPLOYMENT.md), and one starting up used to remove the others'
    /// uploads in progress with its own leftovers (their rename then failed). An upload in progress
    /// writes its file as its chunks arrive, so one unwritten for the grace period is dead.
    @discardableResult
    public func removeStaleUploads(olderThanMilliseconds age: Int64) -> Int {
        let directory = root + "/tmp"
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - age
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] {
            var info = stat()
            let path = directory + "/" + name
            guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000 < cutoff else { continue }
            if unlink(path) == 0 { removed += 1 }
        }
        return removed
    }

    /// Where the content with hex SHA-256 `sha256` lives.
    public func path(of sha256: String) -> String {
        root + "/" + Self.relativePath(of: sha256)
    }

    /// Where the content with hex SHA-256 `sha256` lives below any store's root: `ab/cd/abcd…`.
    public static func relativePath(of sha256: String) -> String {
        let a = sha256.prefix(2), b = sha256.dropFirst(2).prefix(2)
        return "\(a)/\(b)/\(sha256)"
    }

    public func contains(_ sha256: String) -> Bool {
        FileManager.default.fileExists(atPath: path(of: sha256))
    }

    /// Removes a stored content's file (nothing when it is already gone).
    /// - Throws: ``ContentStoreError`` when the file exists but cannot be removed.
    public func remove(_ sha256: String) throws {
        if unlink(path(of: sha256)) != 0 && errno != ENOENT {
            throw ContentStoreError("cannot remove content \(sha256): errno \(errno)")
        }
    }

    /// Starts writing a new upload.
    public func beginUpload() throws -> Upload {
        try Upload(store: self)
    }

    /// Temporary files currently open or left behind (for tests and health checks).
    public func pendingUploads() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: root + "/tmp")) ?? []
    }

    /// Reads `length` bytes at `offset` of a stored content.
    public func read(_ sha256: String, offset: Int64, length: Int) throws -> [UInt8] {
        let fd = open(path(of: sha256), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ContentStoreError.failed("conteúdo ausente / missing content \(sha256)") }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: length)
        var filled = 0
        while filled < length {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, length - filled, off_t(offset) + off_t(filled)) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw ContentStoreError.failed("read failed") }
            if n == 0 { break }
            filled += n
        }
        buffer.removeSubrange(filled...)
        return buffer
    }

    /// One upload in progress: append chunks, then ``commit()`` or ``abort()``.
    public final class Upload {
        let store: ContentStore
        let temporaryPath: String
        private var fd: Int32
        private var hash = Digest.SHA256Stream()
        public private(set) var size: Int64 = 0
        private var finished = false

        init(store: ContentStore) throws {
            self.store = store
            temporaryPath = "\(store.root)/tmp/\(UUID().uuidString)"
            fd = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ContentStoreError.failed("cannot create \(temporaryPath)") }
        }

        /// Appends bytes to the file and to the running hash.
        public func append(_ bytes: [UInt8]) throws {
            guard !bytes.isEmpty else { return }
            hash.update(bytes)
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    let code = n < 0 ? errno : ENOSPC
                    throw ContentStoreError.failed("write failed", code: code)
                }
                written += n
            }
            size += Int64(bytes.count)
        }

        /// Flushes the file, moves it under its content name (or drops it when that content is
        /// already stored) and returns the hex SHA-256.
        /// - Throws: ``ContentMismatch`` (and keeps nothing) when `expected` is not the content's hash.
        public func commit(expected: String? = nil) throws -> String {
            let sha = Digest.hex(hash.finish())
            if let expected, expected.lowercased() != sha {
                abort()
                throw ContentMismatch(actual: sha)
            }
            guard fsync(fd) == 0 else { throw ContentStoreError.failed("fsync failed") }
            close(fd)
            fd = -1
            finished = true
            let destination = store.path(of: sha)
            if store.contains(sha) {
                unlink(temporaryPath)
                return sha
            }
            let directory = (destination as NSString).deletingLastPathComponent
            // The directories made now (`ab/cd/`, or only `cd/`), innermost first.
            var creating: [String] = []
            var missing = directory
            while !missing.isEmpty && missing != "/" && !FileManager.default.fileExists(atPath: missing) {
                creating.append(missing)
                missing = (missing as NSString).deletingLastPathComponent
            }
            // Outermost first; one made meanwhile by a concurrent upload is fine. (The upload is
            // finished here: its temporary file goes now, abort() would leave it.)
            for made in creating.reversed() {
                guard mkdir(made, 0o755) != 0 else { continue }
                let code = errno
                guard code != EEXIST else { continue }
                unlink(temporaryPath)
                throw ContentStoreError.failed("cannot create \(made)", code: code)
            }
            guard rename(temporaryPath, destination) == 0 else {
                let code = errno
                unlink(temporaryPath)
                throw ContentStoreError.failed("rename failed", code: code)
            }
            // The name in its directory, and each directory made now in its parent, outlive a
            // crash before the row naming the content commits.
            try FileSync.flush(directory)
            for made in creating { try FileSync.flush((made as NSString).deletingLastPathComponent) }
            return sha
        }

        /// Drops the upload: nothing of it stays.
        public func abort() {
            guard !finished else { return }
            finished = true
            if fd >= 0 { close(fd); fd = -1 }
            unlink(temporaryPath)
        }

        deinit { abort() }
    }
}

/// The uploaded bytes do not hash to the announced SHA-256.
public struct ContentMismatch: Error {
    public var actual: String
}

public struct ContentStoreError: Error, CustomStringConvertible {
    public var description: String
    /// The `errno` of the call that failed (`ENOSPC`: the disk is full), 0 when unknown.
    public var code: Int32
    init(_ description: String, code: Int32 = 0) {
        self.description = description
        self.code = code
    }

    /// `what` failed with `code` (by default the `errno` the failing call just set).
    static func failed(_ what: String, code: Int32 = errno) -> ContentStoreError {
        ContentStoreError("\(what): errno \(code)", code: code)
    }
}
