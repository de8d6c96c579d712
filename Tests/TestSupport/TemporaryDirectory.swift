import Foundation

/// A fresh directory under the system temporary directory, removed with everything in it when
/// the object is released (or by ``remove()``).
///
/// ```swift
/// let directory = try TemporaryDirectory()
/// let path = directory.file("intake.sqlite")
/// ```
public final class TemporaryDirectory: Sendable {
    /// The absolute path of the directory.
    public let path: String

    /// Creates the directory (`mkdtemp`), named `<prefix>-XXXXXX`.
    /// - Throws: When the directory cannot be created.
    public init(prefix: String = "ocorrencias-test") throws {
        path = try Self.create(prefix: prefix)
    }

    /// Creates a uniquely named directory (`mkdtemp`) that nobody removes automatically.
    static func create(prefix: String) throws -> String {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        var template = Array("\(base)\(prefix)-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestSupportError("mkdtemp failed for prefix \(prefix): errno \(errno)")
        }
        return String(cString: created)
    }

    /// The path of `name` inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    /// Deletes the directory and its contents now. Idempotent.
    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    deinit { remove() }
}

/// A failure of the test infrastructure itself (not of the code under test).
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension TemporaryDirectory {
    /// Creates a directory that stays until the test process exits, then is deleted (for data
    /// whose users outlive any one object, like a database whose connections open lazily).
    public static func untilExit(prefix: String = "ocorrencias-test") throws -> String {
        let path = try create(prefix: prefix)
        ExitCleanup.removeAtExit(path)
        return path
    }
}

/// Deletes registered paths when the process exits normally.
enum ExitCleanup {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var paths: [String] = []  // guarded by lock
    nonisolated(unsafe) private static var installed = false  // guarded by lock

    static func removeAtExit(_ path: String) {
        lock.lock()
        defer { lock.unlock() }
        paths.append(path)
        if !installed {
            installed = true
            atexit { ExitCleanup.run() }
        }
    }

    private static func run() {
        lock.lock()
        let pending = paths
        paths.removeAll()
        lock.unlock()
        for path in pending { try? FileManager.default.removeItem(atPath: path) }
    }
}
