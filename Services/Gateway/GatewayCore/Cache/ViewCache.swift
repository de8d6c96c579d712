import Foundation
import Observability
import RPC
import Synchronization

/// Assembled ticket views (`GET /v1/tickets/{id}`), kept per ticket reference and **exact**
/// caller identity: the key holds the serialized principal the gateway signs into its calls, so
/// a different role, organization, access level, locale or permission is a different entry, and
/// one caller's view is never answered to another. The services still decide visibility; the
/// cache only replays what they answered to that same principal.
///
/// Kept correct by:
/// - **Events.** ``invalidate(_:now:)`` drops a ticket's entries when intake or workflow
///   publishes anything about it (``ViewCacheFeed``), and when a write through this gateway
///   touches it (read-your-writes).
/// - **Races.** A view is stored only when no invalidation of its ticket happened since its
///   fetch began or in the `settle` window before (other services apply a ticket's events a
///   moment after the event itself), and no ``invalidateAll(now:)`` happened since.
/// - **Time.** Entries expire after `ttl` (changes that publish no ticket event: names of agents
///   and organizations, ...).
/// - **Size.** Least recently used entries go first when the counted bytes exceed `maxBytes`.
///
/// `@unchecked Sendable`: all state is guarded by `lock`.
public final class ViewCache: @unchecked Sendable {
    /// What identifies one cached answer.
    public struct Key: Hashable, Sendable {
        /// The ticket reference as written in the path (id or code).
        public var reference: String
        /// `AuthV1.Principal` serialized: the exact caller.
        public var principal: [UInt8]

        public init(reference: String, principal: [UInt8]) {
            self.reference = reference
            self.principal = principal
        }

        var cost: Int { reference.utf8.count + principal.count }
    }

    /// Taken before fetching a view, handed back to ``store(_:ticketID:body:fetch:now:)``.
    public struct Fetch: Sendable {
        let generation: UInt64
        let startedAt: UInt64
    }

    /// Counters for `/metrics`.
    public struct Stats: Sendable {
        public var hits = 0
        public var misses = 0
        public var stores = 0
        public var rejectedStores = 0
        public var invalidations = 0
        public var flushes = 0
        public var evictions = 0
        public var expirations = 0
        public var entries = 0
        public var bytes = 0
    }

    final class Entry {
        let key: Key
        let ticketID: String
        let body: [UInt8]
        let storedAt: UInt64
        let cost: Int
        var newer: Entry?
        var older: Entry?

        init(key: Key, ticketID: String, body: [UInt8], storedAt: UInt64) {
            self.key = key
            self.ticketID = ticketID
            self.body = body
            self.storedAt = storedAt
            // Body, key, ticket id and a flat allowance for the entry object and index slots.
            cost = body.count + key.cost + ticketID.utf8.count + 192
        }
    }

    /// The ticket id under which ticket listings (`GET /v1/tickets` pages) are stored: any
    /// event or write drops them all with `invalidate(ViewCache.listsKey)`.
    public static let listsKey = "*lists*"

    /// Entries older than this are expired (nanoseconds); 0 disables the cache.
    public let ttlNanoseconds: UInt64
    public let maxBytes: Int
    /// Nanoseconds after a ticket's invalidation during which its views are not stored.
    public let settleNanoseconds: UInt64
    /// A fetch that took longer than this is not stored (the invalidation log forgets after it).
    static let horizonNanoseconds: UInt64 = 30_000_000_000

    private let lock = NSLock()
    // Guarded by lock.
    private var entries: [Key: Entry] = [:]
    private var byTicket: [String: [Key]] = [:]
    /// Ticket reference (code) → ticket id, learned when storing.
    private var aliases: [String: String] = [:]
    private var newest: Entry?
    private var oldest: Entry?
    private var bytes = 0
    private var generation: UInt64 = 0
    /// Ticket id or reference → when it was last invalidated (monotonic nanoseconds).
    private var invalidatedAt: [String: UInt64] = [:]
    private var lastPrune: UInt64 = 0
    private var stats = Stats()

    public init(ttlMilliseconds: Int, maxBytes: Int, settleMilliseconds: Int) {
        ttlNanoseconds = UInt64(max(0, ttlMilliseconds)) * 1_000_000
        self.maxBytes = max(0, maxBytes)
        settleNanoseconds = UInt64(max(0, settleMilliseconds)) * 1_000_000
    }

    /// False when the TTL or the size bound is 0.
    public var isEnabled: Bool { ttlNanoseconds > 0 && maxBytes > 0 }

    /// The cached answer for `key`, if fresh; marks it recently used.
    public func lookup(_ key: Key, now: UInt64 = MonotonicClock.nanoseconds()) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard let entry = entries[key] else {
            stats.misses += 1
            return nil
        }
        if now &- entry.storedAt >= ttlNanoseconds {
            remove(entry)
            stats.expirations += 1
            stats.misses += 1
            return nil
        }
        moveToNewest(entry)
        stats.hits += 1
        return entry.body
    }

    /// Marks the start of a fetch (before the first call to a service).
    public func beginFetch(now: UInt64 = MonotonicClock.nanoseconds()) -> Fetch {
        lock.lock()
        defer { lock.unlock() }
        return Fetch(generation: generation, startedAt: now)
    }

    /// Stores an answer fetched since `fetch`, unless its ticket was invalidated meanwhile.
    /// - Returns: whether it was stored.
    @discardableResult
    public func store(_ key: Key, ticketID: String, body: [UInt8], fetch: Fetch, now: UInt64 = MonotonicClock.nanoseconds()) -> Bool {
        guard isEnabled else { return false }
        lock.lock()
        defer { lock.unlock() }
        let entry = Entry(key: key, ticketID: ticketID, body: body, storedAt: fetch.startedAt)
        let notBefore = fetch.startedAt &- min(fetch.startedAt, settleNanoseconds)
        if fetch.generation != generation || now &- fetch.startedAt > Self.horizonNanoseconds || entry.cost > maxBytes
            || invalidated(ticketID, after: notBefore) || invalidated(key.reference, after: notBefore) {
            stats.rejectedStores += 1
            return false
        }
        if let existing = entries[key] { remove(existing) }
        entries[key] = entry
        byTicket[ticketID, default: []].append(key)
        if key.reference != ticketID {
            aliases[key.reference] = ticketID
            if aliases.count > 2 * entries.count + 1_024 {
                aliases = [:]
                for entry in entries.values where entry.key.reference != entry.ticketID { aliases[entry.key.reference] = entry.ticketID }
            }
        }
        link(entry)
        bytes += entry.cost
        stats.stores += 1
        while bytes > maxBytes, let victim = oldest {
            remove(victim)
            stats.evictions += 1
        }
        return true
    }

    /// Drops every entry of a ticket (by id, or by a reference seen before) and remembers when,
    /// so a fetch in flight is not stored.
    public func invalidate(_ ticket: String, now: UInt64 = MonotonicClock.nanoseconds()) {
        lock.lock()
        defer { lock.unlock() }
        stats.invalidations += 1
        let id = aliases[ticket] ?? ticket
        invalidatedAt[ticket] = now
        invalidatedAt[id] = now
        if let keys = byTicket.removeValue(forKey: id) {
            for key in keys {
                if let entry = entries[key] { remove(entry, unindex: false) }
            }
        }
        pruneLog(now: now)
    }

    /// Whether `reference` names a ticket this cache knows (an id with entries, or a code seen).
    public func knows(_ reference: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return byTicket[reference] != nil || aliases[reference] != nil
    }

    /// Drops everything; fetches begun before are not stored.
    public func invalidateAll(now: UInt64 = MonotonicClock.nanoseconds()) {
        lock.lock()
        defer { lock.unlock() }
        generation &+= 1
        entries.removeAll()
        byTicket.removeAll()
        aliases.removeAll()
        newest = nil
        oldest = nil
        bytes = 0
        stats.flushes += 1
    }

    /// Counters and sizes now.
    public var currentStats: Stats {
        lock.lock()
        defer { lock.unlock() }
        var copy = stats
        copy.entries = entries.count
        copy.bytes = bytes
        return copy
    }

    // MARK: internals (lock held)

    private func invalidated(_ ticket: String, after instant: UInt64) -> Bool {
        guard let at = invalidatedAt[ticket] else { return false }
        return at >= instant
    }

    private func pruneLog(now: UInt64) {
        guard invalidatedAt.count > 4_096, now &- lastPrune > 1_000_000_000 else { return }
        lastPrune = now
        let horizon = Self.horizonNanoseconds + settleNanoseconds
        invalidatedAt = invalidatedAt.filter { now &- $0.value <= horizon }
    }

    private func link(_ entry: Entry) {
        entry.older = newest
        entry.newer = nil
        newest?.newer = entry
        newest = entry
        if oldest == nil { oldest = entry }
    }

    private func unlink(_ entry: Entry) {
        if let newer = entry.newer { newer.older = entry.older } else { newest = entry.older }
        if let older = entry.older { older.newer = entry.newer } else { oldest = entry.newer }
        entry.newer = nil
        entry.older = nil
    }

    private func moveToNewest(_ entry: Entry) {
        guard newest !== entry else { return }
        unlink(entry)
        link(entry)
    }

    private func remove(_ entry: Entry, unindex: Bool = true) {
        unlink(entry)
        entries.removeValue(forKey: entry.key)
        bytes -= entry.cost
        if unindex, var keys = byTicket[entry.ticketID] {
            keys.removeAll { $0 == entry.key }
            byTicket[entry.ticketID] = keys.isEmpty ? nil : keys
        }
    }
}
