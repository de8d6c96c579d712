import Storage

/// `?, ?, ?`: the placeholders of an `IN (...)` list of `count` values (count ≥ 1).
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}

/// One placeholder per value, typed for PostgreSQL (`CAST(? AS BIGINT)` for integers, `CAST(? AS
/// TEXT)` otherwise): values in a `SELECT` list (not a `VALUES` row of a known table) need a type.
func typedPlaceholders(_ values: [SQLValue]) -> String {
    values.map { if case .integer = $0 { "CAST(? AS BIGINT)" } else { "CAST(? AS TEXT)" } }.joined(separator: ", ")
}
