import Foundation

/// Batching of the writes of call responses finished together on one thread.
public enum RPCResponses {
    /// Runs `body`; responses of calls finished on this thread meanwhile (through the `respond`
    /// of ``RPCRouter/registerCompleting(_:_:)`` or any other unary completion) are queued on
    /// their connections and each connection is written once when `body` returns, instead of one
    /// `send` per response. For a thread that completes many calls at once (a group commit
    /// answering a batch): fewer system calls, and the clients are woken once per batch rather
    /// than once per response. Nested calls join the outer one.
    public static func flushingOnce<T>(_ body: () throws -> T) rethrows -> T {
        if pthread_getspecific(deferredFlushKey) != nil { return try body() }
        let pending = PendingFlushes()
        pthread_setspecific(deferredFlushKey, Unmanaged.passUnretained(pending).toOpaque())
        defer {
            pthread_setspecific(deferredFlushKey, nil)
            for connection in pending.connections { connection.flushDeferred() }
        }
        return try body()
    }

    /// Whether `connection`'s write is left to the enclosing ``flushingOnce(_:)`` of this thread
    /// (which then writes it); false when this thread is not inside one.
    static func deferFlush(_ connection: ServerConnection) -> Bool {
        guard let raw = pthread_getspecific(deferredFlushKey) else { return false }
        let pending = Unmanaged<PendingFlushes>.fromOpaque(raw).takeUnretainedValue()
        if !pending.connections.contains(where: { $0 === connection }) { pending.connections.append(connection) }
        return true
    }
}

/// The connections with responses waiting for the end of a ``RPCResponses/flushingOnce(_:)``
/// (only touched by the thread running it).
private final class PendingFlushes {
    var connections: [ServerConnection] = []
}

private let deferredFlushKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()
