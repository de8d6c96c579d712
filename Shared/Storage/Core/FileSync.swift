import Foundation

/// Makes what was written to a file, or a directory's entries (a file renamed or created in it),
/// durable: `fsync` of the path.
public enum FileSync {
    /// `fsync` of the file or directory at `path`.
    /// - Throws: ``StorageError`` when it cannot be opened or flushed: then what was written
    ///   there may not survive a crash, and the caller must not acknowledge it.
    public static func flush(_ path: String) throws {
        let fd = Foundation.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError(.other, "cannot open '\(path)' to flush it: errno \(errno)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw StorageError(.other, "cannot flush '\(path)': errno \(errno)") }
    }
}
