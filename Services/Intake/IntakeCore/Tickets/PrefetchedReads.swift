import Storage

/// A transaction's executor that answers some queries from results fetched earlier in the same
/// transaction (each result once, for exactly the same SQL and values), and runs everything else
/// on `base`. The group commit on PostgreSQL reads the organization and contact of every open of a
/// batch in one round trip this way (``SQLExecutor/queryPipelined(_:)``), instead of one round
/// trip per open.
///
/// Safe because an open changes neither the organization nor the contact it reads except the
/// contact's `linked` flag, which a later open of the batch then merely sets again; the contact's
/// row lock (`FOR UPDATE`) is taken by the early read, in the same transaction.
///
/// It also numbers the batch's tickets: when this year's code counter row was read (and locked,
/// `FOR UPDATE`) with the batch, each open takes the next number in memory, an open that fails
/// gives its number back with its savepoint (``beginOpen()``/``rollBackOpen()``), and
/// ``finish()`` writes the last number once before `COMMIT`: codes stay consecutive and without
/// gaps, one round trip per open less. The double-submission check of an open also counts the
/// earlier opens of its batch (which the check read ahead with the batch cannot see).
final class PrefetchedReads: SQLExecutor {
    /// This year's counter, locked for the batch.
    static let counterSQL = "SELECT last_value FROM counters WHERE name = ? FOR UPDATE"

    private struct Key: Hashable {
        var sql: String
        var params: [SQLValue]
    }

    private let base: any SQLExecutor
    private var results: [Key: [[Row]]] = [:]
    /// Counter name → the last number given in this batch.
    private var counters: [String: Int64] = [:]
    private var changedCounters: Set<String> = []
    /// `contact|hash` → the ticket an earlier open of the batch made.
    private var siblings: [String: String] = [:]
    private var saved: (counters: [String: Int64], siblings: [String: String])?

    init(_ base: any SQLExecutor, _ fetched: [((sql: String, params: [SQLValue]), [Row])]) {
        self.base = base
        for ((sql, params), rows) in fetched { results[Key(sql: sql, params: params), default: []].append(rows) }
    }

    var engine: DatabaseEngine { base.engine }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int { try base.execute(sql, params) }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] {
        let key = Key(sql: sql, params: params)
        if var waiting = results[key], !waiting.isEmpty {
            let rows = waiting.removeFirst()
            results[key] = waiting.isEmpty ? nil : waiting
            return rows
        }
        return try base.query(sql, params)
    }

    func executeDeferred(_ sql: String) throws { try base.executeDeferred(sql) }

    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        try base.queryPipelined(statements)
    }

    // MARK: Numbering

    /// Whether this batch numbers `counter` itself: its row was read (and locked) with the batch.
    func numbers(_ counter: String) throws -> Bool {
        if counters[counter] != nil { return true }
        guard results[Key(sql: Self.counterSQL, params: [.text(counter)])] != nil,
              let row = try query(Self.counterSQL, [.text(counter)]).first else { return false }  // not read ahead, or no row yet
        counters[counter] = try row.int("last_value")
        return true
    }

    /// The next number of `counter` (after ``numbers(_:)`` said yes).
    func nextNumber(_ counter: String) -> Int64 {
        let number = (counters[counter] ?? 0) + 1
        counters[counter] = number
        changedCounters.insert(counter)
        return number
    }

    /// The ticket an earlier open of this batch made for the same contact and submission.
    func sibling(contactID: String, submissionHash: String) -> String? { siblings["\(contactID)|\(submissionHash)"] }

    func opened(contactID: String, submissionHash: String, ticketID: String) {
        let key = "\(contactID)|\(submissionHash)"
        if siblings[key] == nil { siblings[key] = ticketID }
    }

    /// An open starts (its savepoint is set).
    func beginOpen() { saved = (counters, siblings) }

    /// The open failed and rolled back to its savepoint: its number and its ticket are undone too.
    func rollBackOpen() {
        guard let saved else { return }
        counters = saved.counters
        siblings = saved.siblings
    }

    /// Writes each counter this batch numbered from, before `COMMIT`.
    func finish() throws {
        for name in changedCounters.sorted() {
            guard let last = counters[name] else { continue }
            try base.execute("UPDATE counters SET last_value = ? WHERE name = ?", [.integer(last), .text(name)])
        }
    }
}
