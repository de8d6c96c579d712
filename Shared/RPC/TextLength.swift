extension FieldViolation {
    /// `too_long` on `field`: "No máximo N caracteres." / "At most N characters."
    public static func tooLong(_ field: String, limit: Int) -> FieldViolation {
        FieldViolation(field: field, reason: "too_long", pt: "No máximo \(limit) caracteres.", en: "At most \(limit) characters.")
    }

    /// ``tooLong(_:limit:)`` when `text` has more than `limit` characters, else nil.
    ///
    /// ```swift
    /// if let long = FieldViolation.length(of: agent.name, "agent.name", limit: 200) { violations.append(long) }
    /// ```
    public static func length(of text: String, _ field: String, limit: Int) -> FieldViolation? {
        // Bytes first: a text of at most `limit` bytes has at most `limit` characters (no count needed).
        text.utf8.count <= limit || text.count <= limit ? nil : tooLong(field, limit: limit)
    }
}
