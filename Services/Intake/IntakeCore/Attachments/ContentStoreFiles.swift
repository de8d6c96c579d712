import Foundation

/// Walking the files stored under their content names (`ab/cd/abcd…`), for the scan that finds
/// files no `contents` row names (``IntakeContext/adoptOrphanFiles(olderThanMilliseconds:batchSize:)``).
extension ContentStore {
    /// A file under its content name, as ``forEachFile(under:_:)`` finds it.
    public struct StoredFile: Sendable, Equatable {
        /// Its name: the lower-case hex SHA-256 of its bytes.
        public var sha256: String
        public var sizeBytes: Int64
        /// When it was last written (milliseconds since 1970): for a content, when its upload's
        /// last byte was written (the rename into place keeps it).
        public var modifiedAtMilliseconds: Int64
    }

    /// The first-level directories (`ab`: two lower-case hex digits), in order; `tmp` and
    /// anything else found in the root are left out.
    public func topLevelDirectories() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { Self.isLowerHex($0, count: 2) }.sorted()
    }

    /// Calls `body` for every regular file below the first-level directory `top` that is named by
    /// a content where ``path(of:)`` puts it (`top/cd/<sha256>`, the name 64 lower-case hex
    /// digits starting with `top` and `cd`). One second-level directory is listed at a time,
    /// so a store of millions of files is never listed in memory at once.
    /// - Returns: How many entries were skipped: names that are not such a content name (in
    ///   `top` or in a second-level directory), and anything that is not a regular file.
    @discardableResult
    public func forEachFile(under top: String, _ body: (StoredFile) throws -> Void) rethrows -> Int {
        let manager = FileManager.default
        let topPath = root + "/" + top
        var skipped = 0
        for second in ((try? manager.contentsOfDirectory(atPath: topPath)) ?? []).sorted() {
            guard Self.isLowerHex(second, count: 2) else {
                skipped += 1
                continue
            }
            let directory = topPath + "/" + second
            let prefix = top + second
            for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] {
                var info = stat()
                guard Self.isLowerHex(name, count: 64), name.hasPrefix(prefix), lstat(directory + "/" + name, &info) == 0,
                      (info.st_mode & S_IFMT) == S_IFREG else {
                    skipped += 1
                    continue
                }
                try body(StoredFile(sha256: name, sizeBytes: Int64(info.st_size),
                                    modifiedAtMilliseconds: Int64(info.st_mtim.tv_sec) * 1000 + Int64(info.st_mtim.tv_nsec) / 1_000_000))
            }
        }
        return skipped
    }

    /// Whether `name` is exactly `count` lower-case hex digits (as ``Digest/hex(_:)`` writes them).
    static func isLowerHex(_ name: String, count: Int) -> Bool {
        name.utf8.count == count && name.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }
}
