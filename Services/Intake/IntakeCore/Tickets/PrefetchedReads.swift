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
final class PrefetchedReads: SQLExecutor {
    private struct Key: Hashable {
        var sql: String
        var params: [SQLValue]
    }

    private let base: any SQLExecutor
    private var results: [Key: [[Row]]] = [:]

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
}
