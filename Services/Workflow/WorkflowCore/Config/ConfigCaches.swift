import Storage

/// Routing rules and category levels, as ``Routing/groupAndLevel(_:cache:plan:product:module:category:priority:)`` reads them.
struct RoutingSnapshot: Sendable {
    /// `routing_rules` by position then id (columns `plan`, `product`, `module`, `category`, `priority`, `group_id`).
    var rules: [Row]
    /// `category_levels`: category → default access level.
    var levels: [Int64: Int64]
}

/// SLA policies, calendars and inactivity policies, as the SLA and inactivity engines read them.
struct TimeConfigSnapshot: Sendable {
    var policies: [SLAPolicy]
    /// Stored calendars by id.
    var calendars: [String: BusinessCalendar]
    /// Every inactivity policy (`wf_inactivity_policies`), by stage then id.
    var inactivityPolicies: [InactivityPolicy]
    /// Each inactivity policy's revision (``InactivityPolicyStore/allRevised(_:)``), by id, read by the
    /// same statement as ``inactivityPolicies``.
    var inactivityRevisions: [String: Int64] = [:]

    /// ``InactivityPolicyStore/active(_:stage:)`` over the snapshot: the stage's active policy.
    func activeInactivityPolicy(stage: String) -> InactivityPolicy? {
        inactivityPolicies.first { $0.stage == stage && $0.active }
    }

    /// The stage's active policy and the revision a countdown planned under it records
    /// (`wf_inactivity_tickets.planned_revision`); revision 0 without a policy.
    func inactivityPlan(stage: String) -> (policy: InactivityPolicy?, revision: Int64) {
        guard let policy = activeInactivityPolicy(stage: stage) else { return (nil, 0) }
        return (policy, inactivityRevisions[policy.id] ?? 0)
    }

    /// ``SLAPolicyStore/resolve(_:plan:priority:)`` over the snapshot.
    func policy(plan: String, priority: Int32) -> SLAPolicy {
        SLAPolicyStore.resolve(policies, plan: plan, priority: priority)
    }

    /// ``CalendarStore/load(_:id:)``, or the default calendar when there is no such calendar.
    func calendar(_ id: String) -> BusinessCalendar {
        calendars[id.isEmpty ? BusinessCalendar.defaultID : id] ?? .default
    }
}

/// The routing configuration cached per ``ConfigVersion``.
typealias RoutingCache = VersionedCache<RoutingSnapshot>
/// The SLA and inactivity configuration cached per ``ConfigVersion``.
typealias TimeConfigCache = VersionedCache<TimeConfigSnapshot>

extension VersionedCache where Snapshot == RoutingSnapshot {
    convenience init() {
        self.init { tx in
            let rules = try tx.query("""
                SELECT id AS rule_id, plan, product, module, category, priority, group_id FROM routing_rules ORDER BY position, id
                """, [])
            var levels: [Int64: Int64] = [:]
            for row in try tx.query("SELECT category, access_level FROM category_levels", []) {
                levels[try row.int("category")] = try row.int("access_level")
            }
            return RoutingSnapshot(rules: rules, levels: levels)
        }
    }
}

extension VersionedCache where Snapshot == TimeConfigSnapshot {
    convenience init() {
        self.init { tx in
            var calendars: [String: BusinessCalendar] = [:]
            for id in try CalendarStore.ids(tx) {
                if let calendar = try CalendarStore.load(tx, id: id) { calendars[id] = calendar }
            }
            let inactivity = try InactivityPolicyStore.allRevised(tx)
            return TimeConfigSnapshot(policies: try SLAPolicyStore.all(tx), calendars: calendars,
                                      inactivityPolicies: inactivity.map(\.policy),
                                      inactivityRevisions: Dictionary(inactivity.map { ($0.policy.id, $0.revision) }) { _, last in last })
        }
    }
}
