import Messages
import ServiceKit
import Storage

/// PostgreSQL: a transaction's consecutive `TicketOpened` events applied by **one** statement
/// (issue 7).
///
/// One opening is one statement with a dozen data-modifying CTEs (the ticket, its search row,
/// request version, history line, SLA, inactivity and metric rows); each run pays the executor's
/// start-up — every node built, every table and index opened and locked, `ticket_search`'s
/// generated `tsvector` expressions parsed again — about as much as its rows. Inside
/// ``around(_:lifecycle:_:)`` (a delivery's transaction), the opening handler only collects its
/// event (``collect(_:)``); the collected openings are applied together before any other event's
/// handler runs (``flush(_:)``) and at the end of the transaction's handlers, by
/// ``TicketIntake/openTogether(_:_:_:)``: one statement whose text does not depend on how many
/// tickets it writes (each table's rows travel as one JSON parameter), then each ticket's own
/// remaining writes in order. The events' order, what is stored and what is published are those
/// of one opening after the other; if anything fails, the transaction fails as before (and the
/// consumer applies the delivery again one event per transaction, where a group has one
/// opening). SQLite (its statements cost no start-up of this kind, and a delivery group's
/// openings share one transaction already) opens each at once.
///
/// Notification's `EmailSent` events (one per opened ticket: its confirmation e-mail's history
/// line) are collected the same way and their lines written by one insert
/// (``TicketIntake/emailsSent(_:_:_:)``).
enum OpeningGroup {
    /// The openings — or notification's `EmailSent` events — waiting in the transaction running
    /// on this thread (never both: each kind is applied before the other is collected).
    final class Pending: @unchecked Sendable {
        let lifecycle: TicketLifecycle
        var events: [IntakeV1.TicketOpened] = []
        var emails: [NotificationV1.EmailSent] = []

        init(lifecycle: TicketLifecycle) {
            self.lifecycle = lifecycle
        }
    }

    @TaskLocal static var pending: Pending?

    /// The `TicketRouted` outbox rows of a group's tickets, written together once every ticket of
    /// the group has had its other writes (``write(_:)``): a few multi-row inserts instead of one
    /// statement per ticket. Each ticket's events keep their order — its `TicketRouted` was
    /// already the last thing its opening published, and the group is written before the
    /// transaction's next event is handled; only tickets of the group interleave differently in
    /// the outbox (the relay keeps order per key, not across keys).
    final class RoutedRows {
        private(set) var rows: [OutboxEvent] = []

        func add(_ more: [OutboxEvent]) {
            rows += more
        }

        /// Writes the rows with the transaction's next statement or its commit (deferred), their
        /// keys being the new tickets' (no per-key lock), in statements of a few fixed sizes
        /// (``EventPublisher/statementSizes(_:)``).
        func write(_ tx: any SQLExecutor) throws {
            var start = 0
            for size in EventPublisher.statementSizes(rows.count) {
                try Outbox.enqueue(tx, Array(rows[start..<start + size]), keysAreNew: true, deferred: true)
                start += size
            }
            rows = []
        }
    }

    /// Runs `body` (a transaction's event handlers) collecting its openings, then applies those
    /// still waiting (PostgreSQL; elsewhere, or inside another scope, it only runs `body`).
    static func around(_ tx: any SQLExecutor, lifecycle: TicketLifecycle, _ body: () throws -> Void) throws {
        guard tx.engine == .postgres, pending == nil else { return try body() }
        let openings = Pending(lifecycle: lifecycle)
        try $pending.withValue(openings) {
            try body()
            try flush(tx)
        }
    }

    /// Keeps `event` for the transaction's group, once the `EmailSent` events collected before
    /// it are applied. - Returns: `false` outside a scope (open it now).
    static func collect(_ tx: any SQLExecutor, _ event: IntakeV1.TicketOpened) throws -> Bool {
        guard let pending else { return false }
        try flushEmails(tx)
        pending.events.append(event)
        return true
    }

    /// Keeps notification's `event` for one history insert with the consecutive others, once the
    /// openings collected before it are applied. - Returns: `false` outside a scope (record it now).
    static func collect(_ tx: any SQLExecutor, _ event: NotificationV1.EmailSent) throws -> Bool {
        guard let pending else { return false }
        try flushOpenings(tx)
        pending.emails.append(event)
        return true
    }

    /// Applies what was collected so far (call before handling any other event).
    static func flush(_ tx: any SQLExecutor) throws {
        try flushOpenings(tx)
        try flushEmails(tx)
    }

    private static func flushOpenings(_ tx: any SQLExecutor) throws {
        guard let pending, !pending.events.isEmpty else { return }
        let events = pending.events
        pending.events = []
        try TicketIntake.openTogether(tx, events, pending.lifecycle)
    }

    private static func flushEmails(_ tx: any SQLExecutor) throws {
        guard let pending, !pending.emails.isEmpty else { return }
        let emails = pending.emails
        pending.emails = []
        try TicketIntake.emailsSent(tx, emails, pending.lifecycle)
    }
}

extension TicketIntake {
    /// Opens `events` in order, as ``open(_:_:_:)`` one after the other would: on PostgreSQL, with
    /// a cached configuration and two or more of them, the tickets and the observers' rows that
    /// can join (``OpeningWriter``) in one statement, then each ticket's other writes
    /// (``finishOpening(_:_:_:_:at:joined:)``). A ticket named twice is written by its first
    /// event; the later one finds it, as it would after a commit.
    static func openTogether(_ tx: any SQLExecutor, _ events: [IntakeV1.TicketOpened], _ lifecycle: TicketLifecycle) throws {
        guard events.count > 1, tx.engine == .postgres, ConfigVersion.current == nil, let cached = lifecycle.routing.cached else {
            for event in events { try open(tx, event, lifecycle) }
            return
        }
        var seen = Set<String>(), group: [IntakeV1.TicketOpened] = [], repeated: [IntakeV1.TicketOpened] = []
        for event in events {
            if seen.insert(event.ticketID).inserted { group.append(event) } else { repeated.append(event) }
        }
        if group.count == 1 {
            try open(tx, group[0], lifecycle)
        } else {
            let done = try ConfigVersion.scoped(cached.version) {
                try insertTogether(tx, group, lifecycle, routing: cached.snapshot, expectedVersion: cached.version)
            }
            // The configuration changed since it was cached: nothing was written; one by one, as
            // after such a change.
            if !done { for event in group { try open(tx, event, lifecycle) } }
        }
        for event in repeated { try open(tx, event, lifecycle) }
    }

    /// The columns of the openings' recordset `o`: ``ticketColumns``, then the search row's texts
    /// and the history line's id.
    private static let openingColumns: [GroupedGuardedWrites.Column] = {
        let integers: Set<String> = ["origin", "declared_category", "declared_priority", "category", "priority", "stage_since", "access_level",
                                     "opened_at", "updated_at", "last_interaction_at"]
        return ticketColumns.map { integers.contains($0) ? .bigint($0) : .text($0) }
            + [.text("search_subject"), .text("search_request"), .text("history_id")]
    }()

    /// The group statement's own part: the tickets written (`t`), their search rows, request
    /// versions and "opened" history lines, as the single opening's statement writes them.
    private static let ticketCTEs = """
        t AS (\(insertTicketColumns) SELECT \(ticketColumns.joined(separator: ", ")) FROM o
              WHERE (SELECT version FROM cv) = CAST(? AS BIGINT) ON CONFLICT (id) DO NOTHING RETURNING *),
        s AS (INSERT INTO ticket_search (ticket_id, subject, request) SELECT o.id, o.search_subject, o.search_request FROM o JOIN t ON t.id = o.id),
        v AS (INSERT INTO text_versions (ticket_id, field, version, text, author_id, author_name, at)
              SELECT o.id, 'request', 1, o.request_text, o.contact_id, o.contact_name, o.opened_at FROM o JOIN t ON t.id = o.id),
        g AS (SELECT t.id, t.group_id, sg.name FROM t LEFT JOIN staff_groups sg ON sg.id = t.group_id),
        h AS (INSERT INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
              SELECT o.history_id, g.id, o.opened_at, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = g.id),
                     'opened', '', \(TicketLifecycle.describeNewSQL), o.channel, o.contact_id, o.contact_name FROM g JOIN o ON o.id = g.id)
        """

    /// Writes `events` (distinct tickets) in one statement. - Returns: `false` when the
    /// configuration version is not `expectedVersion` (nothing written).
    private static func insertTogether(_ tx: any SQLExecutor, _ events: [IntakeV1.TicketOpened], _ lifecycle: TicketLifecycle,
                                       routing: RoutingSnapshot, expectedVersion: Int64) throws -> Bool {
        var openings = GroupedGuardedWrites(tickets: "t")
        openings.declare("o", columns: openingColumns, sql: "SELECT * FROM {rows}")
        var observers = GroupedGuardedWrites(tickets: "t")
        let positions = lifecycle.declareGroupOpening(&observers)
        var finishes: [[(Set<String>) throws -> Void]] = [], instants: [Int64] = []
        finishes.reserveCapacity(events.count)
        instants.reserveCapacity(events.count)
        for event in events {
            let opening = OpeningValues(event, lifecycle, routing: routing)
            openings.append("o", opening.ticketParams + opening.searchParams + [.text(RandomID.timeOrdered())])
            // The observers' rows are computed from the ticket as it is about to be written.
            let ticket = TicketRecord(Row(columns: ticketColumns, values: opening.ticketParams))
            finishes.append(try lifecycle.addGroupOpening(tx, ticket, at: opening.at, to: &observers))
            instants.append(opening.at)
        }
        let (openingCTE, openingParams) = openings.ctes, (observerCTEs, observerParams) = observers.ctes
        let counts = observers.guards.isEmpty ? "" : ", " + observers.insertedCounts
        let rows = try tx.query("""
            WITH cv AS (SELECT version FROM wf_config_version WHERE id = 1),
            \(openingCTE),
            \(ticketCTEs)\(observerCTEs.isEmpty ? "" : ",\n" + observerCTEs)
            SELECT (SELECT version FROM cv) AS config_version\(counts), t.*, g.name AS holder_group_name
            FROM (SELECT 1 AS one) AS one LEFT JOIN t ON true LEFT JOIN g ON g.id = t.id
            """, openingParams + [.integer(expectedVersion), .text(TicketLifecycle.describeNone)] + observerParams)
        guard let first = rows.first, first["config_version"].integerValue == expectedVersion else { return false }
        var written: [String: Row] = [:]
        for row in rows { if case .text(let id) = row["id"] { written[id] = row } }
        let routed = OpeningGroup.RoutedRows()
        for (index, event) in events.enumerated() {
            // Not written: the ticket existed, and is left as it is.
            guard let row = written[event.ticketID] else { continue }
            let joined = JoinedWrites(positions: positions, finish: finishes[index], inserted: observers.inserted(row))
            try finishOpening(tx, event, TicketRecord(row), lifecycle, at: instants[index], joined: joined, routedRows: routed)
        }
        try routed.write(tx)
        return true
    }
}
