import Foundation
import Storage
import Synchronization

/// The webhooks a dispatcher's lanes sign with, each read from the database at most
/// ``freshness`` before a send, so a send costs no read of its own while a rotation or removal
/// still reaches deliveries already claimed.
///
/// On the instance that rotates, removes or re-seals a webhook, ``forget()`` applies the change
/// to the next send at once (an `immediately` rotation stops the leaked secret there); another
/// instance sharing the database applies it within ``freshness``.
final class WebhookCache: Sendable {
    /// How old a record may be when a delivery is signed with it.
    let freshness: TimeInterval
    /// The records kept, and how many times ``forget()`` ran (a read that began before a
    /// ``forget()`` is used for its own send but not kept).
    private let state = Mutex<(entries: [String: (record: WebhookRecord?, readAt: Date)], generation: UInt64)>(([:], 0))

    init(freshness: TimeInterval = 1) {
        self.freshness = freshness
    }

    /// The webhook `id` (nil when there is none), read from `database` unless read less than
    /// ``freshness`` ago.
    /// - Throws: ``StorageError`` from the read.
    func webhook(_ id: String, in database: any Database, now: Date = Date()) throws -> WebhookRecord? {
        let (entry, generation) = state.withLock { ($0.entries[id], $0.generation) }
        if let entry, now.timeIntervalSince(entry.readAt) < freshness { return entry.record }
        let record = try database.read { try WebhookStore.find($0, id: id) }
        state.withLock { if $0.generation == generation { $0.entries[id] = (record, now) } }
        return record
    }

    /// Drops every record kept: the next send reads its webhook again.
    func forget() {
        state.withLock {
            $0.entries.removeAll()
            $0.generation &+= 1
        }
    }
}
