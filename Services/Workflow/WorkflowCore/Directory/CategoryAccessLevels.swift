import Messages
import RPC
import Storage

/// The access (confidentiality) level a new ticket of each category starts at
/// (`category_levels`; 0 for a category with no row). Routing reads it through `RoutingCache`.
public enum CategoryAccessLevels {
    /// Stores `level` for `category`.
    /// - Throws: `INVALID_ARGUMENT` for the unspecified category (`category`) or a negative
    ///   level (`access_level`); nothing is written then.
    public static func set(_ tx: any SQLExecutor, category: CommonV1.Category, level: Int32) throws {
        var violations: [FieldViolation] = []
        if category == .unspecified {
            violations.append(FieldViolation(field: "category", reason: "required", pt: "Informe a categoria.", en: "Give the category."))
        }
        if level < 0 {
            violations.append(FieldViolation(field: "access_level", reason: "negative", pt: "O nível não pode ser negativo.",
                                             en: "The level cannot be negative."))
        }
        guard violations.isEmpty else {
            throw RPCError(.invalidArgument, "nível de sigilo inválido / invalid access level", violations: violations)
        }
        try tx.execute("DELETE FROM category_levels WHERE category = ?", [.integer(Int64(category.rawValue))])
        try tx.execute("INSERT INTO category_levels (category, access_level) VALUES (?, ?)",
                       [.integer(Int64(category.rawValue)), .integer(Int64(level))])
    }

    /// Every category (not the unspecified one) with its level, in the enumeration's order.
    public static func list(_ tx: any SQLExecutor) throws -> [WorkflowV1.CategoryAccessLevel] {
        var stored: [Int64: Int64] = [:]
        for row in try tx.query("SELECT category, access_level FROM category_levels", []) { stored[row.i("category")] = row.i("access_level") }
        return CommonV1.Category.allCases.filter { $0 != .unspecified }.map { category in
            var level = WorkflowV1.CategoryAccessLevel()
            level.category = category
            if let value = stored[Int64(category.rawValue)] {
                level.accessLevel = Int32(clamping: value)
                level.stored = true
            }
            return level
        }
    }
}
