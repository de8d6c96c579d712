import Foundation
import Storage

/// Event ids in `UUID().uuidString`'s form (upper-case), many at once, time-ordered: version 7
/// (RFC 9562: 48 bits of Unix time in milliseconds, then the id's place in its batch in the 12
/// bits of `rand_a`, then 62 random bits; ``Storage/RandomID/timeOrdered(_:milliseconds:lowercase:)``).
///
/// Time-ordered because each id goes into the outbox's unique index of event ids: random (version
/// 4) ids land on a different leaf page each, so a batch of 128 `EmailSent` rows dirtied (and
/// wrote to the WAL, and checkpointed) about as many index pages as rows; ids that follow the
/// clock land on the last page or two. The random bytes of a whole batch come from one call.
enum EventIDs {
    /// `count` fresh ids, increasing within the batch.
    static func make(_ count: Int, now: Date = Date()) -> [String] {
        RandomID.timeOrdered(count, milliseconds: Int64(now.timeIntervalSince1970 * 1000))
    }
}
