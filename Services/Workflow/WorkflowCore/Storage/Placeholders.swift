/// `?, ?, ?`: the placeholders of an `IN (...)` list of `count` values (count ≥ 1).
func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}
