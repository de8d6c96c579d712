import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension ServiceMain {
    /// `Stats/Outbox`, answered by every service: how many events wait in its transactional
    /// outbox and how old the oldest is (the gateway's `/metrics` shows them as outbox lag).
    static func registerOutboxStats(in router: inout RPCRouter, database: any Database) {
        router.register(RpcV1.Stats.outbox) { _, _ in
            let stats = try database.read { tx in try Outbox.stats(tx) }
            var response = RpcV1.OutboxStatsResponse()
            response.pending = Int64(stats.pending)
            response.retrying = Int64(stats.retrying)
            if let oldest = stats.oldestCreatedAt {
                response.oldestPendingAgeMs = max(0, Int64(Date().timeIntervalSince1970 * 1000) - oldest)
            }
            return response
        }
    }
}
