import Messages
import Storage

/// Chooses the group whose queue receives a new ticket, by rules kept as rows
/// (`routing_rules`): the first rule, by position, whose non-empty fields all match.
public enum Routing {
    public static func group(_ tx: any SQLExecutor, plan: String, product: String, module: String,
                             category: CommonV1.Category, priority: CommonV1.Priority) throws -> String {
        for rule in try tx.query("SELECT * FROM routing_rules ORDER BY position, id") {
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
