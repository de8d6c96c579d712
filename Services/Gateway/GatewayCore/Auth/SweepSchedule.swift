import Synchronization

/// Says when a periodic clean-up of shared tables is due: at most once per `interval` per
/// instance, and to one caller only when several ask at once.
struct SweepSchedule: ~Copyable, Sendable {
    let interval: Int64
    private let last = Atomic<Int64>(0)

    /// - Parameter interval: in the unit of the `now` later passed to ``isDue(now:)``.
    init(interval: Int64) {
        self.interval = interval
    }

    /// True (once) when `interval` has passed since the last time it answered true.
    func isDue(now: Int64) -> Bool {
        let previous = last.load(ordering: .relaxed)
        return now - previous >= interval
            && last.compareExchange(expected: previous, desired: now, ordering: .relaxed).exchanged
    }
}
