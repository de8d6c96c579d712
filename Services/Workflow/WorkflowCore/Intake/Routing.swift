import Messages
import Storage

/// Chooses the group whose queue receives a new ticket, by rules kept as rows
/// (`routing_rules`): the first rule, by position, whose non-empty fields all match.
public enum Routing {
    /// The routed group and the category's default access level (`category_levels`, 0 when
    /// unset) in `snapshot` (``RoutingCache``).
    static func groupAndLevel(_ snapshot: RoutingSnapshot, plan: String, product: String, module: String,
                              category: CommonV1.Category, priority: CommonV1.Priority) -> (group: String, level: Int64) {
        let level = snapshot.levels[Int64(category.rawValue)] ?? 0
        return (firstMatch(snapshot.rules, plan: plan, product: product, module: module, category: category, priority: priority), level)
    }

    private static func firstMatch(_ rules: [Row], plan: String, product: String, module: String,
                                   category: CommonV1.Category, priority: CommonV1.Priority) -> String {
        for rule in rules {
            func matches(_ column: String, _ value: String) -> Bool {
                let wanted = rule.s(column)
                return wanted.isEmpty || wanted.caseInsensitiveCompare(value) == .orderedSame
            }
            let ruleCategory = Int32(rule.i("category")), rulePriority = Int32(rule.i("priority"))
            if matches("plan", plan) && matches("product", product) && matches("module", module)
                && (ruleCategory == 0 || ruleCategory == category.rawValue) && (rulePriority == 0 || rulePriority == priority.rawValue) {
                return rule.s("group_id")
            }
        }
        return ""
    }
}
