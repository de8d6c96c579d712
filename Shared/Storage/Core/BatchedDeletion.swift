extension Database {
    /// Deletes in transactions of at most `batch` rows each, so a large backlog never holds one
    /// long write: `step` runs in a write transaction of its own with the batch size and returns
    /// how many rows it deleted; passes go on until one deletes fewer than `batch`.
    /// - Returns: The rows deleted by every pass.
    public func deleteInBatches(of batch: Int, _ step: (any SQLExecutor, Int) throws -> Int) throws -> Int {
        var total = 0
        while true {
            let deleted = try write { try step($0, batch) }
            total += deleted
            if deleted < batch { return total }
        }
    }
}
