import ServiceKit

/// Multi-row statements over many items in slices of ``EventPublisher/statementSizes(_:)``
/// (a few fixed sizes, so the connection's statement cache keeps their texts).
enum StatementBatches {
    /// Calls `body` with each slice of `items` and its `?, ?, …` list (one mark per item).
    static func forEach<Item>(_ items: [Item], _ body: (ArraySlice<Item>, String) throws -> Void) rethrows {
        var start = 0
        for size in EventPublisher.statementSizes(items.count) {
            try body(items[start..<start + size], Array(repeating: "?", count: size).joined(separator: ", "))
            start += size
        }
    }
}
