import Storage

/// Ids of the rows workflow appends (history lines, timers, discussion entries, transfers).
///
/// Time-ordered (UUID version 7, ``Storage/RandomID/timeOrdered(milliseconds:)``): rows written
/// together sort together, so a transaction's new rows share the last leaf of each primary-key
/// index instead of dirtying a random leaf each (on SQLite every dirty page is one more WAL
/// frame at the commit and one more page copied at the checkpoint). Nothing orders by these ids
/// but as a tie-breaker; they are unique like random ones (74 random bits per millisecond).
enum RowID {
    /// A new id stamped with the current wall-clock millisecond.
    static func make() -> String {
        RandomID.timeOrdered()
    }
}
