import Observability
import Storage

/// ``GuardedWrites`` for many tickets in **one** PostgreSQL statement whose text does not depend
/// on how many there are (issue 7: a delivery's openings).
///
/// Each part is declared once with its columns and gets one row per ticket (or none, or
/// several); its rows travel as one JSON parameter read back with `json_to_recordset` as `x`, so
/// the statement is prepared once and its executor is started once per group instead of once per
/// ticket. A guard is an insert per ticket that does nothing on a conflict or when its ticket is
/// not in ``tickets`` (the CTE of the tickets the statement wrote), returning `ticket_id`
/// exactly for the rows it wrote; writes declared after it join it on `ticket_id`, so they happen
/// only for those tickets. ``insertedCounts`` answers, per written ticket, which guards
/// inserted.
///
/// ```swift
/// var writes = GroupedGuardedWrites(tickets: "t")
/// writes.declareGuard("sla", into: "wf_sla_tickets", columns: [.text("ticket_id"), .bigint("version")], conflict: "ticket_id")
/// writes.declare("sla_events", columns: [.text("ticket_id"), .bigint("at")],
///                sql: "INSERT INTO wf_sla_events (ticket_id, seq, at) SELECT x.ticket_id, 1, x.at FROM {rows} JOIN sla USING (ticket_id)")
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
        let sql: String
        let width: Int
        let keys: [String]
        var json = "["
        var count = 0
    }

    private var parts: [Part] = []
    private(set) var guards: [String] = []
    /// The CTE whose `id` column lists the tickets the statement wrote; guards require it.
    let tickets: String

    init(tickets: String) {
        self.tickets = tickets
    }

    /// `json_to_recordset(CAST(? AS json)) AS x(<columns>)`: a part's rows as the relation `x`.
    static func recordset(_ columns: [Column]) -> String {
        "json_to_recordset(CAST(? AS json)) AS x(\(columns.map { "\($0.name) \($0.type)" }.joined(separator: ", ")))"
    }

    /// Declares the guard `name`: one insert into `table` of its rows (`columns`, one named
    /// `ticket_id`), skipping a row on a conflict on `conflict` or when its ticket is not in
    /// ``tickets``, returning `ticket_id` for the rows written.
    mutating func declareGuard(_ name: String, into table: String, columns: [Column], conflict: String) {
        let list = columns.map(\.name).joined(separator: ", ")
        declare(name, columns: columns, sql: """
            INSERT INTO \(table) (\(list)) SELECT \(list) FROM {rows} WHERE x.ticket_id IN (SELECT id FROM \(tickets))
            ON CONFLICT (\(conflict)) DO NOTHING RETURNING ticket_id
            """)
        guards.append(name)
    }

    /// Declares the write `name`: `sql` reads its rows (`columns`) as `x` where it says `{rows}`
    /// and may name the guards declared before it.
    mutating func declare(_ name: String, columns: [Column], sql: String) {
        precondition(!parts.contains { $0.name == name }, "part \(name) declared twice")
        let keys = columns.map { JSONText.quote($0.name) + ":" }
        parts.append(Part(name: name, sql: sql.replacingOccurrences(of: "{rows}", with: Self.recordset(columns)), width: columns.count,
                          keys: keys))
    }

    /// Adds a row (its values in the order of the part's columns; texts, integers or NULL).
    mutating func append(_ name: String, _ row: [SQLValue]) {
        guard let index = parts.firstIndex(where: { $0.name == name }) else { preconditionFailure("part \(name) not declared") }
        precondition(row.count == parts[index].width, "part \(name) takes \(parts[index].width) values")
        var json = parts[index].count == 0 ? "{" : ",{"
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
        parts[index].count += 1
    }

    /// The parts as data-modifying CTEs in declaration order (`name AS (...)`, comma-separated)
    /// and their parameters (one JSON array each).
    var ctes: (sql: String, params: [SQLValue]) {
        (parts.map { "\($0.name) AS (\($0.sql))" }.joined(separator: ",\n"), parts.map { .text($0.json + "]") })
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
