import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension ServiceMain {
    /// `Stats/Outbox`, answered by every service: how many events wait in its transactional
    /// outbox and how old the oldest is, in all and per destination (the gateway's `/metrics`
    /// shows them as outbox lag). Bounded whatever the backlog: ``Outbox/stats(_:countLimit:)``.
    static func registerOutboxStats(in router: inout RPCRouter, database: any Database) {
        router.register(RpcV1.Stats.outbox) { _, _ in
            RpcV1.OutboxStatsResponse(try database.read { tx in try Outbox.stats(tx) })
        }
    }
}

extension RpcV1.OutboxStatsResponse {
    /// `stats` as `Stats/Outbox` answers it, ages taken at `now` (epoch milliseconds).
    public init(_ stats: OutboxStats, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) {
        self.init()
        pending = Int64(stats.pending)
        retrying = Int64(stats.retrying)
        countLimit = Int64(stats.countLimit)
        if let oldest = stats.oldestCreatedAt { oldestPendingAgeMs = max(0, now - oldest) }
        destinations = stats.destinations.map { destination in
            var entry = RpcV1.OutboxDestinationStats()
            entry.destination = destination.name
            entry.pending = Int64(destination.pending)
            entry.oldestPendingAgeMs = max(0, now - destination.oldestCreatedAt)
            return entry
        }
        destinationsComplete = stats.destinationsComplete
    }
}
