import Messages
import Storage

/// Chooses the group whose queue receives a new ticket, by rules kept as rows
/// (`routing_rules`): the first rule, by position, whose non-empty fields all match.
public enum Routing {
    /// The routed group and the category's default access level (`category_levels`, 0 when
    /// unset), read in one statement.
    static func groupAndLevel(_ tx: any SQLExecutor, plan: String, product: String, module: String,
                              category: CommonV1.Category, priority: CommonV1.Priority) throws -> (group: String, level: Int64) {
        // One row per rule in order, or one row of NULL rule columns when there is no rule; the
        // level rides on every row.
        let rows = try tx.query("""
            SELECT (SELECT access_level FROM category_levels WHERE category = ?) AS category_level,
                   r.id AS rule_id, r.plan, r.product, r.module, r.category, r.priority, r.group_id
            FROM (SELECT 1 AS one) o LEFT JOIN routing_rules r ON 1 = 1
            ORDER BY r.position, r.id
            """, [.integer(Int64(category.rawValue))])
        let level = rows.first?.i("category_level") ?? 0
        let rules = rows.filter { !$0["rule_id"].isNull }
        return (firstMatch(rules, plan: plan, product: product, module: module, category: category, priority: priority), level)
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
