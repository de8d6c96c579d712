import Observability
import Storage
import Synchronization

/// ``GuardedWrites`` for many tickets in **one** PostgreSQL statement whose text does not depend
/// on how many there are (issue 7: a delivery's openings), or on SQLite in one statement per part
/// (``runSQLite(_:ticketIDs:)``).
///
/// Each part is declared once with its columns and gets one row per ticket (or none, or
/// several); its rows travel as one JSON parameter read back with `json_to_recordset` as `x`, so
/// the statement is prepared once and its executor is started once per group instead of once per
/// ticket. A guard is an insert per ticket that does nothing on a conflict or when its ticket is
/// not in ``tickets`` (the CTE of the tickets the statement wrote), returning `ticket_id`
/// exactly for the rows it wrote; writes declared after it take only their rows whose `ticket_id`
/// it returned (`WHERE x.ticket_id IN (SELECT ticket_id FROM guard)`, not a join: on SQLite a
/// join of two `json_each` reads the rows again for every id), so they happen only for those
/// tickets. ``insertedCounts`` answers, per written ticket, which guards
/// inserted.
///
/// SQLite has no data-modifying CTEs: there (``runSQLite(_:ticketIDs:)``) each part with rows is
/// a statement of its own, in declaration order, the tickets written and each guard run before
/// it given as plain CTEs of ticket ids (the guard's `RETURNING ticket_id` answers), so every
/// part's SQL is the same text on both engines. Its rows are bound values, not JSON: a `VALUES`
/// CTE `x` of up to 16 rows per statement (``sqliteChunks``). Reading a row's columns with `->>`
/// from `json_each` re-renders the row's JSON for every column: measured with the sqlite3
/// module on a 32-column table, ≈ 49 µs per row instead of ≈ 10 one row per statement, ≈ 8.4
/// with `VALUES`.
///
/// ```swift
/// var writes = GroupedGuardedWrites(tickets: "t", engine: .postgres)
/// writes.declareGuard("sla", into: "wf_sla_tickets", columns: [.text("ticket_id"), .bigint("version")], conflict: "ticket_id")
/// writes.declare("sla_events", columns: [.text("ticket_id"), .bigint("at")],
///                sql: "INSERT INTO wf_sla_events (ticket_id, seq, at) SELECT x.ticket_id, 1, x.at FROM {rows} WHERE x.ticket_id IN (SELECT ticket_id FROM sla)")
/// writes.append("sla", [.text(id), .integer(1)])
/// writes.append("sla_events", [.text(id), .integer(at)])
/// ```
struct GroupedGuardedWrites {
    /// A column of a part's rows: its name and PostgreSQL type.
    struct Column: Sendable {
        let name: String
        let type: String

        static func text(_ name: String) -> Column { Column(name: name, type: "text") }
        static func bigint(_ name: String) -> Column { Column(name: name, type: "bigint") }
        static func integer(_ name: String) -> Column { Column(name: name, type: "integer") }
    }

    private struct Part {
        let name: String
        /// The part's SQL with `{rows}` where its rows are read.
        let sql: String
        let columns: [Column]
        let keys: [String]
        /// Whether it is a guard (answers the ticket ids it wrote).
        let isGuard: Bool
        /// The guards declared before it (SQLite: each a CTE of the ticket ids it wrote).
        let earlierGuards: [String]
        /// PostgreSQL: the rows as a JSON array (without its closing bracket).
        var json = "["
        /// SQLite: the rows' values, row after row.
        var values: [SQLValue] = []
        var count = 0
    }

    private var parts: [Part] = []
    private(set) var guards: [String] = []
    /// The CTE whose `id` column lists the tickets the statement wrote; guards require it.
    let tickets: String
    /// Where the writes run: PostgreSQL (``ctes``) or SQLite (``runSQLite(_:ticketIDs:)``).
    let engine: DatabaseEngine

    init(tickets: String, engine: DatabaseEngine) {
        self.tickets = tickets
        self.engine = engine
    }

    /// SQLite: how many rows one statement of a part takes at most, and the sizes a part's rows
    /// are cut into (largest first), so each part has a few statement texts in the connection's
    /// statement cache whatever the group's size.
    static let sqliteChunks = [16, 4, 1]

    /// `json_to_recordset(CAST(? AS json)) AS x(<columns>)`: a part's rows as the relation `x`.
    static func recordset(_ columns: [Column]) -> String {
        "json_to_recordset(CAST(? AS json)) AS x(\(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")))"
    }

    /// SQLite's ``recordset(_:)``: `x(<columns>) AS (VALUES (?, …), …)` with `rows` rows, a CTE
    /// the part's SQL reads as `x` where it says `{rows}`.
    static func sqliteValues(_ columns: [Column], rows: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        return "x(\(columns.map(\.name).joined(separator: ", "))) AS (VALUES \(Array(repeating: row, count: rows).joined(separator: ", ")))"
    }

    /// What a SQLite statement of a part is made of (its text depends on nothing else).
    private struct SQLiteText: Hashable {
        let tickets: String
        let name: String
        let sql: String
        let columns: [String]
        let earlierGuards: [String]
        let rows: Int
    }

    /// SQLite statement texts made so far: putting one together (the `{rows}` replacement, the
    /// CTE list, the `VALUES` rows) cost more than its look-up (≈ 9 % of workflow's CPU per
    /// end-to-end open when made for every group). A few dozen texts: the parts of the openings.
    private static let sqliteTexts = Mutex<[SQLiteText: String]>([:])

    /// The text of a SQLite statement of `part` with `rows` rows (``runSQLite(_:ticketIDs:)``).
    private func sqliteText(_ part: Part, rows: Int) -> String {
        let key = SQLiteText(tickets: tickets, name: part.name, sql: part.sql, columns: part.columns.map(\.name),
                             earlierGuards: part.earlierGuards, rows: rows)
        if let known = Self.sqliteTexts.withLock({ $0[key] }) { return known }
        var ctes: [String] = []
        if part.name != tickets { ctes.append("\(tickets)(id) AS (SELECT value FROM json_each(?))") }
        for name in part.earlierGuards where name != tickets { ctes.append("\(name)(ticket_id) AS (SELECT value FROM json_each(?))") }
        ctes.append(Self.sqliteValues(part.columns, rows: rows))
        let text = "WITH \(ctes.joined(separator: ", "))\n\(part.sql.replacingOccurrences(of: "{rows}", with: "x"))"
        Self.sqliteTexts.withLock { $0[key] = text }
        return text
    }

    /// Declares the guard `name`: one insert into `table` of its rows (`columns`, one named
    /// `ticket_id`), skipping a row on a conflict on `conflict` or when its ticket is not in
    /// ``tickets``, returning `ticket_id` for the rows written.
    mutating func declareGuard(_ name: String, into table: String, columns: [Column], conflict: String) {
        let list = columns.map(\.name).joined(separator: ", ")
        declare(name, columns: columns, sql: """
            INSERT INTO \(table) (\(list)) SELECT \(list) FROM {rows} WHERE x.ticket_id IN (SELECT id FROM \(tickets))
            ON CONFLICT (\(conflict)) DO NOTHING RETURNING ticket_id
            """, isGuard: true)
    }

    /// Declares the guard `name` with its own `sql` (reading its rows as `x` where it says
    /// `{rows}`), which must answer `ticket_id` exactly for the rows it wrote (SQLite: e.g. the
    /// tickets' own insert, named as ``tickets``, `RETURNING id AS ticket_id`).
    mutating func declareGuard(_ name: String, columns: [Column], sql: String) {
        declare(name, columns: columns, sql: sql, isGuard: true)
    }

    /// Declares the write `name`: `sql` reads its rows (`columns`) as `x` where it says `{rows}`
    /// and may name the guards declared before it.
    mutating func declare(_ name: String, columns: [Column], sql: String) {
        declare(name, columns: columns, sql: sql, isGuard: false)
    }

    private mutating func declare(_ name: String, columns: [Column], sql: String, isGuard: Bool) {
        precondition(!parts.contains { $0.name == name }, "part \(name) declared twice")
        // The JSON keys of PostgreSQL's rows (SQLite binds the values).
        let keys = engine == .postgres ? columns.map { JSONText.quote($0.name) + ":" } : []
        parts.append(Part(name: name, sql: sql, columns: columns, keys: keys, isGuard: isGuard, earlierGuards: guards))
        if isGuard { guards.append(name) }
    }

    /// Adds a row (its values in the order of the part's columns; texts, integers or NULL).
    mutating func append(_ name: String, _ row: [SQLValue]) {
        guard let index = parts.firstIndex(where: { $0.name == name }) else { preconditionFailure("part \(name) not declared") }
        precondition(row.count == parts[index].columns.count, "part \(name) takes \(parts[index].columns.count) values")
        parts[index].count += 1
        if engine == .sqlite {
            parts[index].values += row
            return
        }
        var json = parts[index].count == 1 ? "{" : ",{"
        for (position, value) in row.enumerated() {
            if position > 0 { json += "," }
            json += parts[index].keys[position]
            switch value {
            case .null: json += "null"
            case .integer(let number): json += String(number)
            case .text(let text): json += JSONText.quote(text)
            case .real(let number): json += number.isFinite ? String(number) : "null"
            case .blob: preconditionFailure("blobs do not travel in a recordset")
            }
        }
        parts[index].json += json + "}"
    }

    /// The parts as data-modifying CTEs in declaration order (`name AS (...)`, comma-separated)
    /// and their parameters (one JSON array each).
    var ctes: (sql: String, params: [SQLValue]) {
        (parts.map { "\($0.name) AS (\($0.sql.replacingOccurrences(of: "{rows}", with: Self.recordset($0.columns))))" }.joined(separator: ",\n"),
         parts.map { .text($0.json + "]") })
    }

    /// SQLite: runs the parts with rows in declaration order, each as statements of up to 16 rows
    /// (``sqliteChunks``): `WITH` the tickets written (``tickets``, with the column `id`:
    /// `ticketIDs`, or the ids written by the guard of that name when one is declared), each
    /// earlier guard (`ticket_id`: the ids it wrote) and the rows (`x`), then the part's SQL. A
    /// guard's `RETURNING ticket_id` tells which tickets it wrote for.
    /// - Returns: per ticket id, the guards that inserted for it.
    func runSQLite(_ tx: any SQLExecutor, ticketIDs: [String] = []) throws -> [String: Set<String>] {
        precondition(engine == .sqlite, "GroupedGuardedWrites made for PostgreSQL")
        var written: [String: [String]] = [:], inserted: [String: Set<String>] = [:]
        for part in parts where part.count > 0 {
            var params: [SQLValue] = []
            if part.name != tickets { params.append(.text(JSONText.array(written[tickets] ?? ticketIDs))) }
            for name in part.earlierGuards where name != tickets { params.append(.text(JSONText.array(written[name] ?? []))) }
            var ids: [String] = [], start = 0
            let width = part.columns.count
            while start < part.count {
                let rows = Self.sqliteChunks.first { $0 <= part.count - start } ?? 1
                let statement = sqliteText(part, rows: rows)
                let values = params + part.values[(start * width)..<((start + rows) * width)]
                start += rows
                guard part.isGuard else {
                    try tx.execute(statement, values)
                    continue
                }
                for row in try tx.query(statement, values) { ids.append(try row.text("ticket_id")) }
            }
            guard part.isGuard else { continue }
            written[part.name] = ids
            for id in ids { inserted[id, default: []].insert(part.name) }
        }
        return inserted
    }

    /// The `SELECT` list answering, per written ticket (`<tickets>.id`), how many rows each
    /// guard wrote for it.
    var insertedCounts: String {
        guards.map { "(SELECT COUNT(*) FROM \($0) WHERE \($0).ticket_id = \(tickets).id) AS \($0)" }.joined(separator: ", ")
    }

    /// The guards whose count in `row` (from ``insertedCounts``) says they inserted.
    func inserted(_ row: Row) -> Set<String> {
        Set(guards.filter { ((try? row.int($0)) ?? 0) > 0 })
    }
}
