/// A small deterministic pseudo-random generator (SplitMix64) for benchmark and test data: the
/// same seed gives the same data on every run and machine.
///
/// ```swift
/// var random = SplitMix64(state: 7)
/// let stage = stages[random.below(stages.count)]
/// ```
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(state: UInt64) {
        self.state = state
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (0 when `n` is 0).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(1, n))) }

    /// A coin toss.
    public mutating func flag() -> Bool { next() & 1 == 1 }
}
