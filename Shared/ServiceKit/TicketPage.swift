import Foundation
import RPC
import Storage

/// One page of a ticket's long lists (intake's messages, workflow's discussion and history): the
/// newest items older than a cursor, at most ``limit`` of them and no more than ``byteBudget``
/// together, so an answer that carries a page always fits one RPC frame (``RPCLimits/maxFrameSize``,
/// 4 MiB unless `OCORRENCIAS_RPC_MAX_FRAME_BYTES` says otherwise) however long the ticket's
/// conversation grew. Items are keyed by one or more integer columns (a place on the
/// ticket, or a time and a place) that order them completely; a page is read newest first by key
/// (keyset paging, no offsets) and answered oldest first. The cursor that asks for the next older
/// page is the oldest answered item's key, opaque to callers (base64url of `p1|k1|k2…`).
public struct TicketPage: Sendable, Equatable {
    /// Items per page when the caller names no number.
    public static let defaultLimit = 50
    /// The largest number a caller may ask for (larger ones are lowered to it).
    public static let maxLimit = 200
    /// The largest ``byteBudget``, whatever the frame.
    public static let maxByteBudget = 1 << 20

    /// The byte budget of pages answered in frames of at most `maxFrameSize` bytes: a third of the
    /// frame (the rest of the answer, and what the items' measured `size` leaves out, get the
    /// other two), at most ``maxByteBudget``. With the default 4 MiB frame: 1 MiB.
    public static func byteBudget(maxFrameSize: Int) -> Int {
        max(1, min(maxByteBudget, maxFrameSize / 3))
    }

    /// At most this many items.
    public var limit: Int
    /// Only items whose key is below this one; `nil`: from the newest.
    public var before: [Int64]?
    /// The most a page's items may add up to (as measured by each list's `size`), the first item
    /// excepted: a page holds at least one item (a reply's text is at most 100,000 characters).
    /// ``byteBudget(maxFrameSize:)`` of the service's frame.
    public var byteBudget: Int

    /// The default page: the newest ``defaultLimit`` items.
    /// - Parameter maxFrameSize: The service's ``RPCLimits/maxFrameSize``, which the answer must fit.
    public init(maxFrameSize: Int) {
        limit = Self.defaultLimit
        before = nil
        byteBudget = Self.byteBudget(maxFrameSize: maxFrameSize)
    }

    /// The page a request asks for.
    /// - Parameters:
    ///   - limit: 0 for ``defaultLimit``; above ``maxLimit`` lowered to it.
    ///   - before: "" for the newest, else a cursor a previous page gave (``cursor(_:)``) with `keys` keys.
    ///   - limitField, beforeField: The request's field names, for the violations.
    ///   - maxFrameSize: The service's ``RPCLimits/maxFrameSize``, which the answer must fit.
    /// - Throws: `INVALID_ARGUMENT` with a violation per bad field: a negative limit, a cursor not
    ///   made here.
    public init(limit: Int32, before: String, keys: Int, limitField: String, beforeField: String, maxFrameSize: Int) throws {
        var violations: [FieldViolation] = []
        if limit < 0 {
            violations.append(FieldViolation(field: limitField, reason: "invalid", pt: "Use um número positivo (0: o padrão, \(Self.defaultLimit)).",
                                             en: "Use a positive number (0: the default, \(Self.defaultLimit))."))
        }
        let decoded = before.isEmpty ? nil : Self.keys(of: before)
        if !before.isEmpty && decoded?.count != keys {
            violations.append(FieldViolation(field: beforeField, reason: "invalid", pt: "Use o cursor devolvido pela página anterior.",
                                             en: "Use the cursor the previous page returned."))
        }
        guard violations.isEmpty else {
            throw RPCError(.invalidArgument, "página inválida / invalid page", violations: violations)
        }
        self.limit = limit == 0 ? Self.defaultLimit : min(Int(limit), Self.maxLimit)
        self.before = decoded
        byteBudget = Self.byteBudget(maxFrameSize: maxFrameSize)
    }

    /// The opaque cursor of a key.
    public static func cursor(_ keys: [Int64]) -> String {
        Data((["p1"] + keys.map(String.init)).joined(separator: "|").utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The key a cursor holds; `nil` when it is not one ``cursor(_:)`` made.
    static func keys(of cursor: String) -> [Int64]? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else { return nil }
        let parts = text.split(separator: "|", omittingEmptySubsequences: false)
        guard parts.count > 1, parts[0] == "p1" else { return nil }
        let keys = parts.dropFirst().compactMap { Int64($0) }
        return keys.count == parts.count - 1 ? keys : nil
    }

    /// `columns < keys` in the order of the columns (for `(at, seq)`: earlier, or as early with a
    /// smaller place), with its parameters; casts keep PostgreSQL's comparisons typed.
    static func olderThan(_ columns: [String], _ keys: [Int64]) -> (sql: String, values: [SQLValue]) {
        var alternatives: [String] = []
        var values: [SQLValue] = []
        for (index, column) in columns.enumerated() {
            let equal = columns[..<index].map { "\($0) = CAST(? AS BIGINT)" }
            alternatives.append((equal + ["\(column) < CAST(? AS BIGINT)"]).joined(separator: " AND "))
            values += keys[...index].map { .integer($0) }
        }
        return ("(" + alternatives.map { "(\($0))" }.joined(separator: " OR ") + ")", values)
    }

    /// What ``read(_:from:_:columns:keyColumns:item:)`` answers: the items oldest first, how many
    /// older ones were left out, and the cursor that asks for them ("" when none were).
    public struct Result<Item> {
        public var items: [Item]
        public var older: Int32
        public var before: String
    }

    /// Reads the page.
    /// - Parameters:
    ///   - from: `FROM … WHERE …`: the list's rows (one ticket's, those the caller may see).
    ///   - values: `from`'s parameters.
    ///   - columns: What to select (the key columns among them).
    ///   - keyColumns: The key, most significant first; together unique within `from`.
    ///   - item: An item of a row, with its key and its size in bytes (its text and a flat
    ///     allowance for the rest is close enough: the budget is at most a third of the frame).
    public func read<Item>(_ tx: any SQLExecutor, from: String, _ values: [SQLValue], columns: String, keyColumns: [String],
                           item: (Row) throws -> (item: Item, key: [Int64], size: Int)) throws -> Result<Item> {
        var sql = "SELECT \(columns) \(from)"
        var parameters = values
        if let before {
            let older = Self.olderThan(keyColumns, before)
            sql += " AND " + older.sql
            parameters += older.values
        }
        sql += " ORDER BY " + keyColumns.map { "\($0) DESC" }.joined(separator: ", ") + " LIMIT \(limit)"
        var kept: [(item: Item, key: [Int64], size: Int)] = []
        var bytes = 0
        let rows = try tx.query(sql, parameters)
        for row in rows {
            let next = try item(row)
            if !kept.isEmpty && bytes + next.size > byteBudget { break }
            kept.append(next)
            bytes += next.size
        }
        guard let oldest = kept.last, kept.count < rows.count || rows.count == limit else {
            return Result(items: kept.reversed().map(\.item), older: 0, before: "")
        }
        let older = Self.olderThan(keyColumns, oldest.key)
        let count = try tx.queryOne("SELECT COUNT(*) AS n \(from) AND \(older.sql)", values + older.values)?.int("n") ?? 0
        return Result(items: kept.reversed().map(\.item), older: Int32(clamping: count), before: count > 0 ? Self.cursor(oldest.key) : "")
    }
}
