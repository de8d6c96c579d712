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

    /// ``InactivityPolicyStore/active(_:stage:)`` over the snapshot: the stage's active policy.
    func activeInactivityPolicy(stage: String) -> InactivityPolicy? {
        inactivityPolicies.first { $0.stage == stage && $0.active }
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
            return TimeConfigSnapshot(policies: try SLAPolicyStore.all(tx), calendars: calendars,
                                      inactivityPolicies: try InactivityPolicyStore.all(tx))
        }
    }
}
