import Foundation
import Storage
import Testing

/// A value shared between test threads, guarded by a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }

    var current: Value { withLock { $0 } }
}

/// Lets `parties` threads wait for each other.
final class Barrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0

    init(parties: Int) { self.parties = parties }

    /// Blocks until every party has arrived (or 10 s have passed).
    func arriveAndWait() {
        condition.lock()
        defer { condition.unlock() }
        arrived += 1
        condition.broadcast()
        let deadline = Date(timeIntervalSinceNow: 10)
        while arrived < parties {
            if !condition.wait(until: deadline) { return }
        }
    }
}

/// Runs `body(0..<count)` on `count` new threads at once and waits for all of them.
/// - Throws: The first error any thread threw.
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) throws -> Void) throws {
    let errors = Locked<[any Error]>([])
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            defer { group.leave() }
            do { try body(index) } catch { errors.withLock { $0.append(error) } }
        }.start()
    }
    group.wait()
    if let first = errors.current.first { throw first }
}

/// Runs `body` on a new thread and returns its result, or `nil` when it takes longer than
/// `timeout` seconds (the thread is left to finish on its own).
func onOtherThread<T: Sendable>(timeout: TimeInterval = 10, _ body: @escaping @Sendable () throws -> T) -> Result<T, any Error>? {
    let result = Locked<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Thread {
        let value = Result { try body() }
        result.withLock { $0 = value }
        done.signal()
    }.start()
    guard done.wait(timeout: .now() + timeout) == .success else { return nil }
    return result.current
}

/// Asserts that `body` throws a ``StorageError`` of `kind`.
func expectStorageError<T>(_ kind: StorageError.Kind, sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () throws -> T) {
    do {
        _ = try body()
        Issue.record("expected StorageError.\(kind), nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as StorageError {
        #expect(error.kind == kind, "got \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected StorageError.\(kind), got \(error)", sourceLocation: sourceLocation)
    }
}

/// A test-only error.
struct InjectedFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String = "injected failure") { self.description = description }
}

extension Migration {
    /// `CREATE TABLE` with engine-specific column types written as `{INT}`, `{REAL}`, `{BLOB}`.
    static func table(version: Int, name: String, _ sql: String) -> Migration {
        Migration(version: version, name: name,
                  sqlite: sql.replacingOccurrences(of: "{INT}", with: "INTEGER").replacingOccurrences(of: "{REAL}", with: "REAL")
                      .replacingOccurrences(of: "{BLOB}", with: "BLOB"),
                  postgres: sql.replacingOccurrences(of: "{INT}", with: "BIGINT").replacingOccurrences(of: "{REAL}", with: "DOUBLE PRECISION")
                      .replacingOccurrences(of: "{BLOB}", with: "BYTEA"))
    }
}
