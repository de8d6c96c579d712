import Storage
import Synchronization

/// The double-submission check on SQLite, answered from memory instead of an index.
///
/// The check asks for the first ticket of a contact with the same subject and text (its
/// submission hash) opened within the window. The index that answered it on SQLite,
/// `tickets (contact_id, submission_hash, opened_at)`, is keyed by contact: each open inserted its
/// entry on a page of its own (another contact's page than the open before), so a group-commit
/// batch of N opens changed N pages of that index, each written whole to the WAL and again by the
/// checkpoint — about half of what an open wrote (docs/BENCHMARKS-intake.md, seventh pass). No key
/// that answers "this contact, this text" can be appended to; memory can answer it.
///
/// What is kept: for every ticket of the window (its contact, submission hash, opening time and
/// id), mirrored from the `tickets` table by rowid. SQLite has one writer, and every transaction
/// that checks runs under it:
/// - at the start of a write transaction that checks (before it writes any ticket), the tickets
///   committed since the last look (`rowid >` the highest seen) are read — those of another
///   intake process on the same file, or of an open that did not record its own — and at the
///   first use the tickets of the whole window are read (from the newest rowid back);
/// - a group-commit batch records its own new tickets and, once its `COMMIT` succeeded, adds them
///   and the highest rowid it saw (``OpenBatch``); a transaction that fails adds nothing.
/// A hit is confirmed against the row itself (same contact, same hash, within the window), so a
/// ticket whose contact was changed since does not count. Entries older than the window are
/// dropped as new ones come in. Rows are never deleted from `tickets`, so rowids only grow.
///
/// Memory: about 250 bytes per ticket opened within the window (600 s at 100 opens/s: 60,000
/// tickets, ≈ 15 MiB), and at most `capacity` tickets (`INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX`).
/// Beyond it the oldest entries (in rowid order) are evicted, and a check whose window reaches
/// back to an evicted ticket also reads the evicted part of the window from the table itself —
/// a rowid range scan (`tickets` has no index on contact on SQLite), from a rowid known to be older
/// than the window (with the minute of clock slack the first read assumes too) up to the newest
/// evicted rowid. The evicted part and what memory holds together cover every ticket of the
/// window, so no double submission the unbounded memory would catch goes through; it only costs
/// a scan proportional to how far over the cap the window is.
final class RecentSubmissions: Sendable {
    struct Key: Hashable, Sendable {
        var contactID: String
        var hash: String
    }

    /// A ticket of the window.
    struct Opened: Sendable {
        var key: Key
        var openedAt: Int64
        var ticketID: String
        /// Its `tickets` rowid.
        var rowID: Int64
    }

    /// A ticket's rowid and opening time, to bound a scan of the table.
    private struct Mark {
        var rowID: Int64
        var openedAt: Int64
    }

    private struct State {
        /// The tickets of each contact and submission, oldest first.
        var tickets: [Key: [(openedAt: Int64, ticketID: String)]] = [:]
        /// Everything in ``tickets``, in the order it was added, which is rowid order (to drop
        /// what leaves the window, and to evict the oldest beyond the capacity).
        var order: [(key: Key, openedAt: Int64, ticketID: String, rowID: Int64)] = []
        var orderStart = 0
        /// How many tickets ``tickets`` holds.
        var live = 0
        /// The highest `tickets` rowid mirrored; `nil` until the window was first read.
        var knownRowID: Int64?
        /// Lower bounds for a scan of the table, in rowid order: where the first read stopped (a
        /// page older than the window), then every 256th ticket that left ``order`` (dropped from
        /// the window or evicted). The oldest are pruned once a newer one is older than the
        /// window by more than three minutes.
        var marks: [Mark] = []
        var consumed = 0
        /// Evicted beyond the capacity: the highest rowid and the newest opening time.
        var evictedRowID: Int64 = 0
        var evictedNewest = Int64.min
        var evictedCount = 0
    }

    private let state = Mutex(State())
    let windowMilliseconds: Int64
    /// The most tickets held in memory.
    let capacity: Int

    init(windowMilliseconds: Int64, capacity: Int = 500_000) {
        self.windowMilliseconds = windowMilliseconds
        self.capacity = max(1, capacity)
    }

    private static let columns = "rowid AS r, id, contact_id, submission_hash, opened_at"

    /// Reads the tickets committed since the last look (at first use, the window's). Call at the
    /// start of a write transaction, before it writes any ticket. Returns the highest rowid now
    /// mirrored.
    @discardableResult
    func catchUp(_ tx: any SQLExecutor, now: Int64) throws -> Int64 {
        let known = state.withLock { $0.knownRowID }
        var found: [Opened] = []
        var highest: Int64
        if let known {
            highest = known
            for row in try tx.query("SELECT \(Self.columns) FROM tickets WHERE rowid > ? ORDER BY rowid", [.integer(known)]) {
                highest = max(highest, try row.int("r"))
                found.append(try Self.opened(row))
            }
        } else {
            // The window, newest first, a page at a time, until a whole page is older than the
            // window by more than a minute (rowids follow opening times, give or take the clocks
            // of several processes).
            let since = now - windowMilliseconds
            highest = try tx.queryOne("SELECT COALESCE(MAX(rowid), 0) AS r FROM tickets", [])?.int("r") ?? 0
            var below = highest + 1
            var floor: Mark?
            while true {
                let rows = try tx.query("SELECT \(Self.columns) FROM tickets WHERE rowid < ? ORDER BY rowid DESC LIMIT 1000", [.integer(below)])
                var newest = Int64.min
                let top = try rows.first?.int("r")
                for row in rows {
                    below = try row.int("r")
                    let opened = try Self.opened(row)
                    newest = max(newest, opened.openedAt)
                    if opened.openedAt >= since { found.append(opened) }
                }
                if rows.count < 1000 { break }
                if newest < since - 60_000 {
                    // Every ticket of this page is older than the window by more than a minute.
                    floor = Mark(rowID: top ?? 0, openedAt: newest)
                    break
                }
            }
            found.reverse()
            if let floor { state.withLock { if $0.knownRowID == nil { $0.marks = [floor] } } }
        }
        add(found, knownRowID: highest, now: now)
        return highest
    }

    /// Adds tickets a transaction committed and the highest rowid it saw, and drops those that
    /// left the window.
    func add(_ opened: [Opened], knownRowID: Int64, now: Int64) {
        let cutoff = now - windowMilliseconds - 60_000
        state.withLock { state in
            for ticket in opened where ticket.openedAt >= cutoff {
                // Changed in place: one lookup of the key, and no copy of its list.
                Self.insert((ticket.openedAt, ticket.ticketID), into: &state.tickets[ticket.key, default: []])
                state.order.append((ticket.key, ticket.openedAt, ticket.ticketID, ticket.rowID))
                state.live += 1
            }
            state.knownRowID = max(state.knownRowID ?? 0, knownRowID)
            // Drop what left the window (with a minute to spare for clocks).
            func consume(_ entry: (key: Key, openedAt: Int64, ticketID: String, rowID: Int64)) {
                if state.consumed % 256 == 0 { state.marks.append(Mark(rowID: entry.rowID, openedAt: entry.openedAt)) }
                state.consumed += 1
            }
            while state.orderStart < state.order.count && state.order[state.orderStart].openedAt < cutoff {
                let entry = state.order[state.orderStart]
                state.orderStart += 1
                consume(entry)
                if var list = state.tickets[entry.key] {
                    let before = list.count
                    list.removeAll { $0.openedAt < cutoff }
                    state.live -= before - list.count
                    state.tickets[entry.key] = list.isEmpty ? nil : list
                }
            }
            // Beyond the capacity, the oldest go (``first(_:contactID:hash:since:)`` then reads
            // their part of the window from the table).
            while state.live > capacity && state.orderStart < state.order.count {
                let entry = state.order[state.orderStart]
                state.orderStart += 1
                consume(entry)
                guard var list = state.tickets[entry.key], let index = list.firstIndex(where: { $0.ticketID == entry.ticketID }) else { continue }
                list.remove(at: index)
                state.live -= 1
                state.tickets[entry.key] = list.isEmpty ? nil : list
                state.evictedCount += 1
                state.evictedRowID = max(state.evictedRowID, entry.rowID)
                state.evictedNewest = max(state.evictedNewest, entry.openedAt)
            }
            // A check's window starts at most a few moments before now: a mark older than the window
            // by three minutes serves every check, and older ones are not needed any more.
            while state.marks.count >= 2 && state.marks[1].openedAt < cutoff - 120_000 { state.marks.removeFirst() }
            if state.orderStart > 4096 && state.orderStart * 2 > state.order.count {
                state.order.removeFirst(state.orderStart)
                state.orderStart = 0
            }
        }
    }

    /// Adds `entry` to a key's list, kept in order of opening time.
    private static func insert(_ entry: (openedAt: Int64, ticketID: String), into list: inout [(openedAt: Int64, ticketID: String)]) {
        if let last = list.last, last.openedAt > entry.openedAt {
            list.insert(entry, at: list.firstIndex { $0.openedAt > entry.openedAt } ?? list.count)
        } else {
            list.append(entry)
        }
    }

    /// A remembered ticket is still the first of a double submission: the same contact and
    /// submission, in the window, not cancelled since.
    private static let confirmSQL = """
        SELECT 1 AS found FROM tickets WHERE id = ? AND contact_id = ? AND submission_hash = ? AND opened_at >= ?
            AND \(TicketStore.firstOfDuplicates)
        """

    /// The id of the first ticket of `contactID` with `hash` opened at or after `since`, not
    /// cancelled, confirmed against its row.
    func first(_ tx: any SQLExecutor, contactID: String, hash: String, since: Int64) throws -> String? {
        let (candidates, evicted) = state.withLock { state -> ([(openedAt: Int64, ticketID: String)], (after: Int64, upTo: Int64)?) in
            let candidates = state.tickets[Key(contactID: contactID, hash: hash)] ?? []
            // Tickets evicted beyond the capacity that may be in the window: read from the table,
            // between a rowid older than the window (a minute of clock slack) and the newest evicted.
            guard state.evictedNewest >= since else { return (candidates, nil) }
            var after: Int64 = 0
            for mark in state.marks where mark.openedAt < since - 60_000 { after = max(after, mark.rowID) }
            return (candidates, (after, state.evictedRowID))
        }
        if let evicted, let id = try tx.queryOne("""
            SELECT id FROM tickets WHERE rowid > ? AND rowid <= ? AND contact_id = ? AND submission_hash = ? AND opened_at >= ?
                AND \(TicketStore.firstOfDuplicates)
            ORDER BY opened_at LIMIT 1
            """, [.integer(evicted.after), .integer(evicted.upTo), .text(contactID), .text(hash), .integer(since)])?.text("id") {
            return id
        }
        for candidate in candidates where candidate.openedAt >= since {
            if try tx.queryOne(Self.confirmSQL, [.text(candidate.ticketID), .text(contactID), .text(hash), .integer(since)]) != nil {
                return candidate.ticketID
            }
        }
        return nil
    }

    /// The tickets above rowid `after` (a transaction's own, read back before its `COMMIT`).
    func rows(_ tx: any SQLExecutor, after: Int64) throws -> [Opened] {
        try tx.query("SELECT \(Self.columns) FROM tickets WHERE rowid > ? ORDER BY rowid", [.integer(after)]).map(Self.opened)
    }

    /// How many tickets are mirrored (for tests).
    var count: Int { state.withLock { $0.tickets.values.reduce(0) { $0 + $1.count } } }

    /// How many tickets were evicted beyond the capacity (for tests).
    var evicted: Int { state.withLock { $0.evictedCount } }

    private static func opened(_ row: Row) throws -> Opened {
        Opened(key: Key(contactID: try row.text("contact_id"), hash: try row.text("submission_hash")),
               openedAt: try row.int("opened_at"), ticketID: try row.text("id"), rowID: try row.int("r"))
    }
}
