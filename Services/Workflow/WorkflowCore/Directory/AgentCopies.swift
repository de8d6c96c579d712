import Foundation
import Storage

/// Which of a transfer's copies (`copy_to`, free text the transferring agent typed) are the
/// deployment's own agents: active, and cleared for the ticket's access level. Notification lets
/// those read the transfer's internal note (`Transferred.agent_copy_to`); every other address —
/// a supplier, someone at the customer, an agent below the ticket's level or no longer active —
/// is told of the transfer without it.
enum AgentCopies {
    /// How an address is compared with the agents' e-mails: trimmed, case-insensitively.
    static func normalized(_ address: String) -> String {
        address.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
    }

    /// The entries of `copyTo`, as typed and in order, that are e-mails of active agents whose
    /// `max_access_level` reaches `level`.
    static func entitled(_ tx: any SQLExecutor, copyTo: [String], level: Int32) throws -> [String] {
        let wanted = Array(Set(copyTo.map(normalized).filter { !$0.isEmpty })).sorted()
        guard !wanted.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: wanted.count).joined(separator: ", ")
        let rows = try tx.query("""
            SELECT email FROM agents WHERE active = 1 AND max_access_level >= CAST(? AS BIGINT)
                AND LOWER(TRIM(email)) IN (\(marks))
            """, [.integer(Int64(level))] + wanted.map { .text($0) })
        let agents = Set(rows.map { normalized($0.s("email")) })
        return copyTo.filter { agents.contains(normalized($0)) }
    }
}
