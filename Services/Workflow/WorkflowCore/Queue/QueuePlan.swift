import Messages
import Storage

extension TicketQueries {
    /// The queue's statement: visibility and filters, the keyset cursor, and one row more than
    /// the page (to know whether another page follows).
    func queueStatement(_ request: WorkflowV1.ListQueueRequest, actor: Actor, tx: any SQLExecutor) throws
        -> (sql: String, params: [SQLValue], size: Int) {
        var (clauses, params) = try conditions(request.filter, actor: actor, tx: tx)
        if !request.cursor.isEmpty {
            let cursor = try Cursor.decode(request.cursor)
            clauses.append(request.newestFirst ? "(t.opened_at, t.id) < (?, ?)" : "(t.opened_at, t.id) > (?, ?)")
            params += [.integer(cursor.time), .text(cursor.id)]
        }
        let direction = request.newestFirst ? "DESC" : "ASC"
        let size = try Self.pageSize(request.pageSize)
        let sql = TicketRecord.select + " WHERE " + clauses.joined(separator: " AND ")
            + " ORDER BY t.opened_at \(direction), t.id \(direction) LIMIT \(size + 1)"
        return (sql, params, size)
    }

    /// The engine's plan for ``listQueue(_:_:actor:)`` with `request` (for benchmarks and
    /// operators): SQLite's `EXPLAIN QUERY PLAN` details, or PostgreSQL's `EXPLAIN` lines.
    public func explainQueue(_ tx: any SQLExecutor, _ request: WorkflowV1.ListQueueRequest, actor: Actor) throws -> [String] {
        let (sql, params, _) = try queueStatement(request, actor: actor, tx: tx)
        switch tx.engine {
        case .sqlite:
            return try tx.query("EXPLAIN QUERY PLAN " + sql, params).map { try $0.text("detail") }
        case .postgres:
            return try tx.query("EXPLAIN " + sql, params).map { try $0.text("QUERY PLAN") }
        }
    }
}
