/// How many items a list call returns, read the same way by every service: 0 (unset) means the
/// call's default, more than its maximum is capped at the maximum, and a negative count is
/// refused with `INVALID_ARGUMENT` naming the field (it used to mean "the default" on some
/// routes and "refused" on others).
///
/// ```swift
/// let size = try PageSize.resolve(request.pageSize, field: "page_size", default: 50, maximum: 500)
/// ```
public enum PageSize {
    /// The number of items to return for `requested`.
    /// - Throws: `INVALID_ARGUMENT` with a violation on `field` when `requested` is negative.
    public static func resolve(_ requested: Int32, field: String, default defaultSize: Int, maximum: Int) throws -> Int {
        guard requested >= 0 else {
            throw RPCError(.invalidArgument, "\(field) negativo / negative \(field)", violations: [
                FieldViolation(field: field, reason: "negative",
                               pt: "Não pode ser negativo: 0 usa o padrão (\(defaultSize)), o máximo é \(maximum).",
                               en: "Cannot be negative: 0 uses the default (\(defaultSize)), the most is \(maximum)."),
            ])
        }
        return requested == 0 ? defaultSize : min(Int(requested), maximum)
    }
}
