import Messages
import RPC
import Storage

/// The executor the opens of one group-commit batch run on (``GroupCommit``), on both engines. It
/// takes work that every open of the batch repeats out of the opens and does it once per batch:
///
/// - **Reads fetched ahead** (PostgreSQL): queries answered from results fetched earlier in the
///   same transaction (each result once, for exactly the same SQL and values), everything else
///   runs on `base`. The group commit reads the organization and contact of every open of a batch
///   in one round trip this way (``SQLExecutor/queryPipelined(_:)``), instead of one per open. Safe
///   because an open changes neither the organization nor the contact it reads except the
///   contact's `linked` flag, which a later open of the batch then merely sets again; the
///   contact's row lock (`FOR UPDATE`) is taken by the early read, in the same transaction.
/// - **Numbering**: this year's code counter row is read once per batch (on PostgreSQL with the
///   reads fetched ahead, locked `FOR UPDATE`; on SQLite, whose single writer the batch holds, when
///   the first open asks), each open takes the next number in memory, an open that fails gives its
///   number back, and ``finish()`` writes the last number once before `COMMIT`: codes stay
///   consecutive and without gaps.
/// - **Deferred rows**: an open whose rows cannot fail on a constraint (a new ticket without
///   uploads to link and without an e-mail Message-ID: its id is new, its code comes from the
///   locked counter, its outbox rows have new event ids; the files carried in its request are new
///   attachment rows and contents inserted only when missing) hands its ticket row, `TicketOpened`
///   outbox rows and those files' rows to the batch (``deferTicket(_:outbox:contents:attachments:)``),
///   and ``finish()`` writes those of all opens in multi-row `INSERT`s (on PostgreSQL one statement
///   per chunk, all chunks and the counter in one round trip). A failure there ends the
///   transaction: no open of the batch is acknowledged or stored.
/// - **Savepoints only when needed**: an open's `SAVEPOINT` is set just before its first statement
///   that could change something (on PostgreSQL: its first statement sent to the server at all,
///   since an error there would abort the transaction). An open answered from memory and deferred
///   rows writes nothing, so it needs none; a failing open that wrote nothing only gives back what
///   it took in memory (its number, its deferred rows, its double-submission entry).
/// - **Double submissions within the batch**: the check of an open also counts the earlier opens of
///   its batch (whose rows may not be written yet), answered with the ticket from memory.
final class OpenBatch: SQLExecutor {
    /// This year's counter, locked for the batch (PostgreSQL, read ahead with the batch).
    static let counterSQL = "SELECT last_value FROM counters WHERE name = ? FOR UPDATE"
    /// The counter read by the first open of a SQLite batch that needs a number (the batch holds
    /// the database's write lock, so nobody else changes it).
    static let sqliteCounterSQL = "SELECT last_value FROM counters WHERE name = ?"
    /// The savepoint name of an open (one open at a time, released before the next one starts).
    static let savepoint = "open"

    private struct Key: Hashable {
        var sql: String
        var params: [SQLValue]
    }

    /// Rows of one open (or upload) written by ``finish()``.
    private struct Deferred {
        /// The ticket's row (`nil` for an upload's rows alone).
        var ticket: [SQLValue]?
        var outbox: [OutboxEvent]
        var contents: [DeferredContent] = []
        /// Attachment rows, the values of ``IntakeContext/attachmentColumns``.
        var attachments: [[SQLValue]] = []
        /// Pending uploads put on the ticket.
        var links: [DeferredLink] = []
    }

    /// A pending upload an open puts on its new ticket, at `position` among its files: its row
    /// was read (on PostgreSQL locked, ``IntakeContext/pendingQuery(ids:uploaderID:engine:)``)
    /// and claimed in the batch (``claim(_:)``), so the `UPDATE` ``finish()`` sends cannot miss it.
    struct DeferredLink {
        var attachmentID: String
        var ticketID: String
        var organizationID: String
        var position: Int64
    }

    /// A content an open carried in its request (``OpenTicketFiles``), stored in its row.
    struct DeferredContent {
        var sha256: String
        var sizeBytes: Int64
        var bytes: [UInt8]
        /// The batch's attachment rows naming it (its `contents.ref_count` share; set by ``finish()``).
        var references: Int64 = 1
    }

    /// Called by ``finish()`` with the deferred contents whose row was already there (stored
    /// earlier, by another transaction or by another open of the batch): counts the batch's
    /// attachments on each and makes sure each is readable (``IntakeContext/ensureStored(_:_:)``).
    var existingContents: ((any SQLExecutor, [DeferredContent]) throws -> Void)?

    /// What the open running now can give back (kept small: copying the batch's dictionaries for
    /// every open would cost more than the open).
    private struct State {
        /// Counters changed by this open, with their values before it.
        var counters: [(name: String, value: Int64?)] = []
        var sibling: Submission?
        var deferred: Int
        /// Pending uploads this open claimed (``claim(_:)``).
        var claims: [String] = []
    }

    private let base: any SQLExecutor
    private var results: [Key: [[Row]]] = [:]
    /// Organization and contact → their row of ``DirectoryStore/forOpeningStatement(organizationID:contactID:lockContact:)``
    /// read ahead and parsed (`nil`: no row), and how many opens of the batch still take it.
    private var openings: [Submission: (opening: DirectoryStore.Opening?, remaining: Int)] = [:]
    /// Counter name → the last number given in this batch.
    private var counters: [String: Int64] = [:]
    private var changedCounters: Set<String> = []
    private struct Submission: Hashable {
        var contactID: String
        var hash: String
    }

    /// Contact and submission → the ticket an earlier open of the batch made.
    private var siblings: [Submission: IntakeV1.Ticket] = [:]
    private var deferred: [Deferred] = []
    /// Pending uploads put on a ticket by an open of this batch (linked already or deferred): a
    /// later open naming one finds it used, as it would after the first open's `UPDATE`.
    private var claimed: Set<String> = []
    /// What the open running now found when it started.
    private var saved: State?
    /// Whether the open running now has set its savepoint.
    private var savepointSet = false

    /// Counter name → its value when the batch read (and locked) its row ahead (PostgreSQL).
    private var lockedCounters: [String: Int64] = [:]
    /// SQLite: the double-submission check's memory, caught up at the start of the batch, and the
    /// highest `tickets` rowid it then knew.
    private var recent: RecentSubmissions?
    private var recentKnownAtStart: Int64 = 0
    /// What ``finish()`` found the batch wrote to `tickets`, added to ``recent`` once the batch
    /// committed (``recentToAdd``).
    private(set) var recentToAdd: (opened: [RecentSubmissions.Opened], knownRowID: Int64)?

    init(_ base: any SQLExecutor) {
        self.base = base
    }

    // MARK: Double-submission memory (SQLite)

    /// Catches `recent` up with the tickets committed since it last looked; before the batch
    /// writes anything.
    func mirror(_ recent: RecentSubmissions, now: Int64) throws {
        self.recent = recent
        recentKnownAtStart = try recent.catchUp(base, now: now)
    }

    // MARK: Reads ahead

    /// A query an open runs first, which a batch reads for all its opens at its start.
    enum Read: Sendable {
        /// The organization and the contact (locked), ``DirectoryStore/forOpeningStatement(organizationID:contactID:lockContact:)``.
        case opening(organizationID: String, contactID: String)
        /// The double-submission check, ``IntakeContext/duplicateSQL``.
        case duplicate(contactID: String, submissionHash: String, since: Int64)
        /// A code counter's row (locked), ``counterSQL``.
        case counter(String)
        /// The pending uploads an open names (PostgreSQL: locked),
        /// ``IntakeContext/pendingQuery(ids:uploaderID:engine:)``.
        case pendingAttachments(ids: [String], uploaderID: String)
    }

    /// The reads of every open of a batch, in three statements whatever the number of opens (on
    /// PostgreSQL in one round trip; on SQLite two, the counter being read by the first open that
    /// needs it): the organizations and contacts of all opens (on PostgreSQL every contact locked, `FOR
    /// UPDATE`, and every organization share-locked, ``DirectoryStore/openingLocks(contact:organization:)``), then every double-submission check (a statement after the locks, so it sees what
    /// a concurrent identical submission committed before a lock was granted; one index scan per
    /// open, a `LATERAL` or correlated subquery), then the code counters (locked). Each open then gets, from memory, exactly the rows its own statement
    /// would have returned. The lists are padded to a power of two (by repeating the last entry),
    /// so a connection prepares at most seven shapes of each statement.
    static func readingAhead(_ tx: any SQLExecutor, _ reads: [[Read]]) throws -> OpenBatch {
        struct Check: Hashable {
            var contactID: String
            var hash: String
            var since: Int64
        }
        var openings: [Submission] = [], checks: [Check] = [], counters: [String] = []
        var pending: [(sql: String, params: [SQLValue])] = []
        for read in reads.joined() {
            switch read {
            case .opening(let organizationID, let contactID): openings.append(Submission(contactID: contactID, hash: organizationID))
            case .duplicate(let contactID, let hash, let since): checks.append(Check(contactID: contactID, hash: hash, since: since))
            case .counter(let name): counters.append(name)
            case .pendingAttachments(let ids, let uploaderID):
                if let query = IntakeContext.pendingQuery(ids: ids, uploaderID: uploaderID, engine: tx.engine) { pending.append(query) }
            }
        }
        openings = unique(openings)
        checks = unique(checks)
        counters = unique(counters)
        // The lists join as VALUES rows, so each row is looked up by its own index scan whatever
        // plan the prepared statement gets.
        func values(_ count: Int, _ types: [String]) -> String {
            let first = "(" + types.map { "CAST(? AS \($0))" }.joined(separator: ", ") + ")"
            let other = "(" + Array(repeating: "?", count: types.count).joined(separator: ", ") + ")"
            return ([first] + Array(repeating: other, count: count - 1)).joined(separator: ", ")
        }
        let postgres = tx.engine == .postgres
        var statements: [(sql: String, params: [SQLValue])] = []
        if !openings.isEmpty {
            let padded = paddedToPowerOfTwo(openings)
            statements.append(("""
                WITH v (organization_id, contact_id) AS (VALUES \(values(padded.count, ["TEXT", "TEXT"])))
                SELECT \(DirectoryStore.openingSelect), COALESCE((SELECT last_value FROM counters WHERE name = ?), 0) AS catalog_version
                FROM v JOIN organizations o ON o.id = v.organization_id JOIN contacts c ON c.id = v.contact_id\(DirectoryStore.openingLocks(contact: postgres, organization: postgres))
                """, padded.flatMap { [SQLValue.text($0.hash), .text($0.contactID)] } + [.text(CatalogCache.versionCounter)]))
        }
        if !checks.isEmpty {
            let padded = paddedToPowerOfTwo(checks)
            let first = """
                SELECT id FROM tickets t
                WHERE t.contact_id = v.contact_id AND t.submission_hash = v.submission_hash AND t.opened_at >= v.since
                    AND t.\(TicketStore.firstOfDuplicates)
                ORDER BY t.opened_at LIMIT 1
                """
            statements.append(("""
                WITH v (contact_id, submission_hash, since) AS (VALUES \(values(padded.count, ["TEXT", "TEXT", "BIGINT"])))
                \(postgres ? "SELECT v.contact_id, v.submission_hash, v.since, d.id FROM v CROSS JOIN LATERAL (\(first)) d"
                            : "SELECT v.contact_id, v.submission_hash, v.since, (\(first)) AS id FROM v")
                """, padded.flatMap { [SQLValue.text($0.contactID), .text($0.hash), .integer($0.since)] }))
        }
        // Each open's pending uploads (locked on PostgreSQL, after the contacts, before the counter).
        statements += pending
        // SQLite: the batch holds the single writer; the first open that needs a number reads it.
        if postgres { for name in counters { statements.append((counterSQL, [.text(name)])) } }
        var fetched = try tx.queryPipelined(statements)[...]
        let batch = OpenBatch(tx)

        if !openings.isEmpty {
            // Each open's row as its own statement returns it (same columns, same order), parsed
            // once per organization and contact; each open that read it takes it once.
            var byPair: [Submission: Row] = [:]
            byPair.reserveCapacity(openings.count)
            for row in fetched.removeFirst() {
                guard case .text(let organizationID) = row[0], case .text(let contactID) = row[DirectoryStore.openingOrganizationCount] else { continue }
                byPair[Submission(contactID: contactID, hash: organizationID)] = row
            }
            batch.openings.reserveCapacity(openings.count)
            var organizations: [String: IntakeV1.Organization] = [:]
            for read in reads.joined() {
                guard case .opening(let organizationID, let contactID) = read, !organizationID.isEmpty, !contactID.isEmpty else { continue }
                let pair = Submission(contactID: contactID, hash: organizationID)
                // One hash of the pair per open (its two strings), not three.
                if let index = batch.openings.index(forKey: pair) {
                    batch.openings.values[index].remaining += 1
                } else {
                    batch.openings[pair] = (try byPair[pair].map { try DirectoryStore.opening($0, organizations: &organizations) }, 1)
                }
            }
        }
        if !checks.isEmpty {
            var found: [Check: SQLValue] = [:]
            for row in fetched.removeFirst() {
                guard case .text(let contactID) = row["contact_id"], case .text(let hash) = row["submission_hash"],
                      row["id"] != .null else { continue }
                found[Check(contactID: contactID, hash: hash, since: try row.int("since"))] = row["id"]
            }
            for read in reads.joined() {
                guard case .duplicate(let contactID, let hash, let since) = read else { continue }
                let first = found[Check(contactID: contactID, hash: hash, since: since)]
                batch.answer(IntakeContext.duplicateSQL, IntakeContext.duplicateParameters(contactID: contactID, submissionHash: hash, since: since),
                             with: first.map { [Row(columns: ["id"], values: [$0])] } ?? [])
            }
        }
        for query in pending { batch.answer(query.sql, query.params, with: fetched.removeFirst()) }
        for name in counters where postgres {
            // No row yet (the year's first ticket): the opens number through the counter itself.
            if let row = fetched.removeFirst().first { batch.lockedCounters[name] = try row.int("last_value") }
        }
        return batch
    }

    /// The organization and contact an open reads first (``DirectoryStore/forOpening(_:organizationID:contactID:lockContact:readAhead:)``),
    /// when the batch read them ahead for it: `.some(nil)` if that statement found no row, `nil`
    /// if it was not read ahead (or every open that read it has taken it).
    func takeOpening(organizationID: String, contactID: String) -> DirectoryStore.Opening?? {
        guard let index = openings.index(forKey: Submission(contactID: contactID, hash: organizationID)) else { return nil }
        let entry = openings.values[index]
        if entry.remaining <= 1 { openings.remove(at: index) } else { openings.values[index].remaining -= 1 }
        return .some(entry.opening)
    }

    /// Makes the next `query(sql, params)` of an open return `rows` without asking the server.
    private func answer(_ sql: String, _ params: [SQLValue], with rows: [Row]) {
        results[Key(sql: sql, params: params), default: []].append(rows)
    }

    private static func unique<T: Hashable>(_ values: [T]) -> [T] {
        var seen = Set<T>(minimumCapacity: values.count)
        return values.filter { seen.insert($0).inserted }
    }

    private static func paddedToPowerOfTwo<T>(_ values: [T]) -> [T] {
        var size = 1
        while size < values.count { size *= 2 }
        return values + Array(repeating: values[values.count - 1], count: size - values.count)
    }

    var engine: DatabaseEngine { base.engine }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int {
        try setSavepoint()
        return try base.execute(sql, params)
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] {
        // (Without results waiting, as on SQLite, nothing to hash.)
        if !results.isEmpty, case let key = Key(sql: sql, params: params), var waiting = results[key], !waiting.isEmpty {
            let rows = waiting.removeFirst()
            results[key] = waiting.isEmpty ? nil : waiting
            return rows
        }
        if !Self.isPlainRead(sql, engine) { try setSavepoint() }
        return try base.query(sql, params)
    }

    func executeDeferred(_ sql: String) throws {
        try setSavepoint()
        try base.executeDeferred(sql)
    }

    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        try setSavepoint()
        return try base.queryPipelined(statements)
    }

    /// A statement that neither changes anything nor, when it fails, ends the transaction: on
    /// SQLite a `SELECT` (a failing statement is undone alone); on PostgreSQL nothing, since any
    /// error aborts the transaction unless a savepoint catches it.
    static func isPlainRead(_ sql: String, _ engine: DatabaseEngine) -> Bool {
        guard engine == .sqlite else { return false }
        let start = sql.utf8.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x09 || $0 == 0x0D }.prefix(6)
        return start.count == 6 && zip(start, "SELECT".utf8).allSatisfy { $0 | 0x20 == $1 | 0x20 }
    }

    // MARK: Opens

    /// An open starts: what it takes from here on can be given back (``rollBackOpen()``).
    func beginOpen() {
        saved = State(sibling: nil, deferred: deferred.count)
        savepointSet = false
    }

    /// The open succeeded: its savepoint, if any, is released (with the next statement on PostgreSQL).
    func endOpen() throws {
        if savepointSet { try base.executeDeferred("RELEASE \(Self.savepoint)") }
        savepointSet = false
    }

    /// The open failed with `error`: what it wrote is rolled back to its savepoint, and its
    /// number, its deferred rows and its double-submission entry are given back.
    /// - Throws: `error` itself when it is a database error and the open had no savepoint (a
    ///   failed read): whether the transaction is still usable is then unknown, so the batch fails
    ///   as a whole (nothing of it is stored or acknowledged).
    func rollBackOpen(after error: any Error) throws {
        if !savepointSet && error is StorageError { throw error }
        if let saved {
            for (name, value) in saved.counters.reversed() { counters[name] = value }
            if let key = saved.sibling { siblings[key] = nil }
            deferred.removeSubrange(saved.deferred...)
            for id in saved.claims { claimed.remove(id) }
        }
        if savepointSet {
            savepointSet = false
            try base.execute("ROLLBACK TO \(Self.savepoint)", [])
            try base.executeDeferred("RELEASE \(Self.savepoint)")
        }
    }

    private func setSavepoint() throws {
        guard !savepointSet, saved != nil else { return }
        savepointSet = true
        try base.executeDeferred("SAVEPOINT \(Self.savepoint)")
    }

    // MARK: Numbering

    /// Whether this batch numbers `counter` itself: on PostgreSQL its row was read (and locked)
    /// with the batch; on SQLite its row exists (the first ticket of a year creates it through
    /// ``DirectoryStore/nextCounter(_:_:)``).
    func numbers(_ counter: String) throws -> Bool {
        if counters[counter] != nil { return true }
        switch engine {
        case .postgres:
            guard let value = lockedCounters[counter] else { return false }  // not read ahead, or no row yet
            setCounter(counter, value)
        case .sqlite:
            guard let row = try query(Self.sqliteCounterSQL, [.text(counter)]).first else { return false }  // no row yet
            setCounter(counter, try row.int("last_value"))
        }
        return true
    }

    /// The next number of `counter` (after ``numbers(_:)`` said yes).
    func nextNumber(_ counter: String) -> Int64 {
        let number = (counters[counter] ?? 0) + 1
        setCounter(counter, number)
        changedCounters.insert(counter)
        return number
    }

    private func setCounter(_ name: String, _ value: Int64) {
        if saved != nil, !saved!.counters.contains(where: { $0.name == name }) { saved!.counters.append((name, counters[name])) }
        counters[name] = value
    }

    // MARK: Double submissions

    /// The ticket an earlier open of this batch made for the same contact and submission.
    func sibling(contactID: String, submissionHash: String) -> IntakeV1.Ticket? {
        siblings[Submission(contactID: contactID, hash: submissionHash)]
    }

    /// Records the ticket an open made, for the double-submission check of the later opens.
    func opened(contactID: String, submissionHash: String, ticket: IntakeV1.Ticket) {
        let key = Submission(contactID: contactID, hash: submissionHash)
        if siblings.isEmpty { siblings.reserveCapacity(64) }
        if siblings[key] == nil {
            siblings[key] = ticket
            saved?.sibling = key
        }
    }

    // MARK: Deferred rows

    /// Queues a new ticket's row (the values of ``TicketStore/insertValues(_:submissionHash:attachmentBytes:snapshot:registeredByIntegration:)``)
    /// and its outbox rows, written by ``finish()``. Only for rows that cannot fail on a
    /// constraint: new ids, a code from the counter the batch holds, no e-mail Message-ID.
    ///
    /// An open whose files came in its request (``OpenTicketFiles``) also hands over their
    /// contents and attachment rows: new attachment ids, and contents inserted with `ON CONFLICT
    /// DO NOTHING` (a content already there is checked by ``existingContents``), so nothing can fail
    /// on a constraint there either.
    func deferTicket(_ ticket: [SQLValue], outbox: [OutboxEvent], contents: [DeferredContent] = [], attachments: [[SQLValue]] = [],
                     links: [DeferredLink] = []) {
        if deferred.isEmpty { deferred.reserveCapacity(64) }
        deferred.append(Deferred(ticket: ticket, outbox: outbox, contents: contents, attachments: attachments, links: links))
    }

    /// Hands the batch an upload's rows, its content (stored in its row) and its pending
    /// attachment row, to be written by ``finish()`` with the batch's other rows: neither can fail
    /// on a constraint (a new attachment id; the content inserted only when missing, else counted
    /// and checked by ``existingContents``).
    func deferFiles(contents: [DeferredContent], attachments: [[SQLValue]]) {
        if deferred.isEmpty { deferred.reserveCapacity(64) }
        deferred.append(Deferred(ticket: nil, outbox: [], contents: contents, attachments: attachments))
    }

    // MARK: Pending uploads

    /// Records that the open running now puts the pending uploads `ids` on its ticket (linked at
    /// once, or deferred): a later open of the batch naming one of them finds it used. Given back
    /// if the open fails.
    func claim(_ ids: [String]) {
        for id in ids where claimed.insert(id).inserted { saved?.claims.append(id) }
    }

    /// Whether an open of this batch put the pending upload `id` on its ticket.
    func isClaimed(_ id: String) -> Bool { claimed.contains(id) }

    /// Writes the deferred rows (multi-row `INSERT`s in chunks of 64, 32, … 1 opens, so a
    /// connection prepares at most seven shapes of each) and each counter this batch numbered
    /// from, before `COMMIT`. On PostgreSQL all of it goes out in one round trip: with `COMMIT`
    /// itself when no result is read back (no file contents, no uploads to link), otherwise just
    /// before it.
    func finish() throws {
        var statements: [(sql: String, params: [SQLValue])] = []
        var start = 0
        var chunk = 64
        let withTickets = deferred.filter { $0.ticket != nil }
        while start < withTickets.count {
            while chunk > withTickets.count - start { chunk /= 2 }
            let rows = withTickets[start..<start + chunk]
            let tickets = TicketStore.insertStatement(rows: rows.compactMap(\.ticket))
            let outbox = Outbox.insertStatement(rows.flatMap(\.outbox))
            if engine == .postgres {
                statements.append(("WITH ticket AS (\(tickets.sql)) \(outbox.sql)", tickets.values + outbox.values))
            } else {
                statements.append((tickets.sql, tickets.values))
                statements.append((outbox.sql, outbox.values))
            }
            start += chunk
        }
        // The files of the batch's opens, after the tickets they are on: their contents (each
        // once), then their attachment rows, in chunks like the tickets.
        // Each content's `ref_count` is the number of the batch's attachment rows naming it.
        let attachments = deferred.flatMap(\.attachments)
        var references: [String: Int64] = [:]
        for row in attachments { references[Self.text(row[1]), default: 0] += 1 }
        var contents: [DeferredContent] = []
        var seen = Set<String>()
        for row in deferred {
            for var content in row.contents where seen.insert(content.sha256).inserted {
                content.references = references[content.sha256] ?? 0
                contents.append(content)
            }
        }
        let contentStatements = statements.count
        for rows in Self.chunked(contents) {
            var values: [SQLValue] = []
            values.reserveCapacity(rows.count * 5)
            for content in rows {
                values += [.text(content.sha256), .integer(content.sizeBytes), .integer(Self.now()), .blob(content.bytes), .integer(content.references)]
            }
            statements.append(("INSERT INTO contents (sha256, size_bytes, stored_at, data, ref_count) VALUES \(Self.marks(rows: rows.count, columns: 5)) ON CONFLICT (sha256) DO NOTHING RETURNING sha256",
                               values))
        }
        let contentChunks = statements.count - contentStatements
        for rows in Self.chunked(attachments) {
            statements.append(("INSERT INTO attachments (\(IntakeContext.attachmentColumns)) VALUES \(Self.marks(rows: rows.count, columns: IntakeContext.attachmentColumnCount))",
                               Array(rows.joined())))
        }
        // Pending uploads put on the new tickets, in chunks, each chunk one UPDATE naming the rows
        // it changed; rows read (and on PostgreSQL locked) by their opens in this transaction.
        let links = deferred.flatMap(\.links)
        let linkStatements = statements.count
        for rows in Self.chunked(links) {
            statements.append((Self.linkSQL(rows: rows.count),
                               rows.flatMap { [SQLValue.text($0.attachmentID), .text($0.ticketID), .text($0.organizationID), .integer($0.position)] }))
        }
        let linkChunks = statements.count - linkStatements
        // The batch's new tickets for the double-submission memory: the deferred rows, unless
        // opens of the batch also inserted tickets themselves (files, e-mail), when they are read back.
        // (Their rowids follow the batch's start in the order written, when they are all it wrote:
        // checked below.)
        let mirrored = recent == nil ? [] : withTickets.compactMap(\.ticket).enumerated().map { index, ticket in
            RecentSubmissions.Opened(key: RecentSubmissions.Key(contactID: Self.text(ticket[3]), hash: Self.text(ticket[8])),
                                     openedAt: Self.integer(ticket[7]), ticketID: Self.text(ticket[0]),
                                     rowID: recentKnownAtStart + 1 + Int64(index))
        }
        deferred.removeAll()
        for name in changedCounters.sorted() {
            guard let last = counters[name] else { continue }
            statements.append(("UPDATE counters SET last_value = ? WHERE name = ?", [.integer(last), .text(name)]))
        }
        changedCounters.removeAll()
        if !statements.isEmpty {
            if linkChunks == 0 && contentChunks == 0 {
                // Nothing to read back: on PostgreSQL the rows go out with `COMMIT`, in its round
                // trip (a failure there fails the batch as it would here); on SQLite they run now.
                for statement in statements { try base.executeDeferred(statement.sql, statement.params) }
            } else if statements.count == 1 {
                try base.execute(statements[0].sql, statements[0].params)
            } else {
                let results = try base.queryPipelined(statements)
                let linked = results[linkStatements..<(linkStatements + linkChunks)].reduce(0) { $0 + $1.count }
                if linked != links.count { throw RPCError(.aborted, "anexo usado ao mesmo tempo / attachment used concurrently") }
                if contentChunks > 0 {
                    var inserted = Set<String>()
                    for rows in results[contentStatements..<(contentStatements + contentChunks)] {
                        for row in rows { inserted.insert(try row.text("sha256")) }
                    }
                    let existing = contents.filter { !inserted.contains($0.sha256) }
                    if !existing.isEmpty, let existingContents { try existingContents(base, existing) }
                }
            }
        }
        if let recent {
            let highest = try base.queryOne("SELECT COALESCE(MAX(rowid), 0) AS r FROM tickets", [])?.int("r") ?? 0
            if highest - recentKnownAtStart == Int64(mirrored.count) {
                recentToAdd = (mirrored, highest)
            } else {
                // Not only deferred rows: read back every ticket this transaction wrote (the batch
                // holds the single writer, so every row above the start is its own).
                let own = try recent.rows(base, after: recentKnownAtStart)
                recentToAdd = (own, highest)
            }
        }
    }

    /// `values` in chunks of 64, 32, … 1, so a connection prepares at most seven shapes of a statement.
    /// Puts pending uploads on tickets: `rows` rows of (attachment id, ticket id, organization id,
    /// position), returning the ids of the rows changed (the same statement on both engines).
    static func linkSQL(rows: Int) -> String {
        let first = "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))"
        let values = ([first] + Array(repeating: "(?, ?, ?, ?)", count: rows - 1)).joined(separator: ", ")
        return """
            WITH v (attachment_id, ticket_id, organization_id, position) AS (VALUES \(values))
            UPDATE attachments SET ticket_id = v.ticket_id, organization_id = v.organization_id, message_id = '', position = v.position
            FROM v WHERE attachments.id = v.attachment_id AND attachments.ticket_id IS NULL RETURNING id
            """
    }

    private static func chunked<T>(_ values: [T]) -> [ArraySlice<T>] {
        var chunks: [ArraySlice<T>] = []
        var start = 0
        var chunk = 64
        while start < values.count {
            while chunk > values.count - start { chunk /= 2 }
            chunks.append(values[start..<start + chunk])
            start += chunk
        }
        return chunks
    }

    /// `(?, ?), (?, ?)` for `rows` rows of `columns` values.
    private static func marks(rows: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: rows).joined(separator: ", ")
    }

    private static func now() -> Int64 { IntakeContext.now() }

    private static func text(_ value: SQLValue) -> String {
        if case .text(let text) = value { return text }
        return ""
    }

    private static func integer(_ value: SQLValue) -> Int64 {
        if case .integer(let number) = value { return number }
        return 0
    }
}
