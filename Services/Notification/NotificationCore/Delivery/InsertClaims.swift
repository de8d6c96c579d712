import Foundation
import Storage

/// Deliveries claimed by the transaction that inserts them: when a lane has room, the event's
/// transaction writes the new row already `sending`, claimed by this instance with a lease (as a
/// claim would), and the delivery goes to its lane as soon as that transaction has committed.
/// Without it every event cost a second write transaction (the coordinator's claim), a wake-up
/// of the coordinator and a rewrite of the row and of its entry in the due index.
///
/// The in-memory copy is sent only after the commit (``ClaimingDatabase``), so what is sent is
/// exactly what was stored: a transaction that is rolled back or retried hands nothing over (a
/// retry renders and claims again). When the commit's outcome is unknown, the rows (if written)
/// are `sending` under a lease nobody renews: they are taken over when it expires, as after a
/// crash.
final class InsertClaims {
    /// Asks whether a lane takes one more delivery now (with how many this transaction already
    /// claimed for it).
    let room: (String, Int) -> Bool
    let instance: String
    let leaseEnd: Date
    /// Claimed in this transaction, in order.
    private(set) var claimed: [(lane: String, delivery: ClaimedDelivery)] = []
    /// How many of ``claimed`` each lane has.
    private var claimedPerLane: [String: Int] = [:]
    /// Whether this transaction left a row `queued` (the coordinator has to claim it).
    var leftQueued = false

    init(instance: String, leaseEnd: Date, room: @escaping (String, Int) -> Bool) {
        self.instance = instance
        self.leaseEnd = leaseEnd
        self.room = room
    }

    /// Whether a new row of `lane` is to be inserted claimed.
    func wants(lane: String) -> Bool {
        room(lane, claimedPerLane[lane, default: 0])
    }

    func add(lane: String, _ delivery: ClaimedDelivery) {
        claimed.append((lane, delivery))
        claimedPerLane[lane, default: 0] += 1
    }

    /// Rows of this transaction not inserted yet (PostgreSQL): written together by ``flush(_:)``
    /// before the transaction commits, each with its claim when it was planned claimed.
    private(set) var pending: [(row: NewDelivery, claim: ClaimedDelivery?, now: Date)] = []

    /// Keeps `row` (created at `now`) for ``flush(_:)``; `claim` (when the row is written
    /// claimed) counts for its lane's room at once and goes to the lane if the row is inserted.
    func keep(_ row: NewDelivery, claim: ClaimedDelivery?, now: Date) {
        pending.append((row, claim, now))
        if claim != nil { claimedPerLane[row.lane, default: 0] += 1 }
    }

    /// Inserts the rows kept by ``keep(_:claim:now:)`` (``DeliveryStore/insertAll(_:_:)``: one
    /// round trip on PostgreSQL), then hands on the claims of the rows inserted, in order; a
    /// row that was not (its event, recipient and channel already had one) is neither sent nor
    /// counted. - Returns: rows inserted.
    @discardableResult
    func flush(_ tx: any SQLExecutor) throws -> Int {
        guard !pending.isEmpty else { return 0 }
        let rows = pending
        pending = []
        let inserted = try DeliveryStore.insertAll(tx, rows.map { ($0.row, $0.now) })
        for (row, claim, _) in rows {
            guard inserted.contains(row.id) else {
                if claim != nil { claimedPerLane[row.lane, default: 0] -= 1 }
                continue
            }
            if let claim { claimed.append((row.lane, claim)) } else { leftQueued = true }
        }
        return inserted.count
    }
}

/// The executor a handler gets inside ``ClaimingDatabase/write(_:)``: the transaction's own,
/// plus the transaction's ``InsertClaims``. One is made per transaction (and per attempt of a
/// retried one), so it also names the transaction: what planning reads once per transaction is
/// kept here (``planning``).
final class ClaimingExecutor: SQLExecutor {
    let base: any SQLExecutor
    let claims: InsertClaims
    /// The planning snapshot this transaction read (``PlanningCache/snapshot(_:)``): the
    /// configuration version is read by the transaction's first event, not by every event.
    var planning: PlanningCache.Snapshot?

    init(base: any SQLExecutor, claims: InsertClaims) {
        self.base = base
        self.claims = claims
    }

    var engine: DatabaseEngine { base.engine }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int { try base.execute(sql, params) }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] { try base.query(sql, params) }

    func executeDeferred(_ sql: String) throws { try base.executeDeferred(sql) }

    func executeDeferred(_ sql: String, _ params: [SQLValue]) throws { try base.executeDeferred(sql, params) }

    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        try base.queryPipelined(statements)
    }
}

/// The service's database as the event consumer sees it: each write transaction carries an
/// ``InsertClaims``; the rows its handlers kept for the end (PostgreSQL) are inserted at the end
/// of the transaction's body, inside it; once it committed, the deliveries it claimed go to their
/// lanes, and the coordinator is woken only when rows were left `queued`.
final class ClaimingDatabase: Database, @unchecked Sendable {
    let base: any Database
    let dispatcher: DeliveryDispatcher

    init(base: any Database, dispatcher: DeliveryDispatcher) {
        self.base = base
        self.dispatcher = dispatcher
    }

    var engine: DatabaseEngine { base.engine }

    func write<T>(_ body: (any SQLExecutor) throws -> T) throws -> T {
        var claims: InsertClaims?
        let result = try base.write { tx in
            // A fresh set per attempt: a retried transaction claims again.
            let attempt = dispatcher.insertClaims()
            claims = attempt
            let result = try body(ClaimingExecutor(base: tx, claims: attempt))
            // The rows the handlers left for the end of the transaction (PostgreSQL), inside it.
            try attempt.flush(tx)
            return result
        }
        if let claims { dispatcher.committed(claims) }
        return result
    }

    func read<T>(_ body: (any SQLExecutor) throws -> T) throws -> T { try base.read(body) }

    var writeHealth: WriteHealth { base.writeHealth }

    func ping() throws { try base.ping() }

    func close() { base.close() }
}
