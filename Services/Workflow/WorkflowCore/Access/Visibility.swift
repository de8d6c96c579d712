import Storage

/// The confidentiality rule as a SQL predicate, applied by every read of tickets.
///
/// - Agents see tickets at or below their maximum level, plus tickets they hold themselves. A
///   chefe's reach over their agents' tickets never goes above the chefe's own level, which the
///   first part already covers.
/// - Customers see their organization's tickets only.
/// - The service itself (timers, events) sees everything.
public enum Visibility {
    /// A predicate over the tickets alias `t` and its parameters.
    public static func predicate(_ actor: Actor, alias t: String = "t") -> (sql: String, params: [SQLValue]) {
        switch actor.kind {
        case .service:
            return ("1 = 1", [])
        case .customer:
            return organizations(actor, alias: t)
        case .agent:
            return ("(\(t).access_level <= ? OR \(t).agent_id = ?)", [.integer(Int64(actor.level)), .text(actor.id)])
        }
    }

    /// Customers' tickets: those of their organization(s); none when they have none.
    public static func organizations(_ actor: Actor, alias t: String = "t") -> (sql: String, params: [SQLValue]) {
        guard !actor.organizationIDs.isEmpty else { return ("1 = 0", []) }
        return ("\(t).organization_id IN (\(placeholders(actor.organizationIDs.count)))",
                actor.organizationIDs.map { .text($0) })
    }

    /// Whether `actor` may see a ticket with this level, holder and organization.
    public static func canSee(_ actor: Actor, level: Int32, agentID: String, organizationID: String) -> Bool {
        switch actor.kind {
        case .service: return true
        case .customer: return !organizationID.isEmpty && actor.organizationIDs.contains(organizationID)
        case .agent: return level <= actor.level || (agentID == actor.id && !agentID.isEmpty)
        }
    }
}
