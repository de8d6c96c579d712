import TestSupport

/// Fuzz input from a seeded ``SplitMix64``, so a failing fuzz run can be repeated.
extension SplitMix64 {
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }

    /// `bytes` with a few random flips, insertions, deletions or truncation.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var out = bytes
        for _ in 0..<Int.random(in: 1...4, using: &self) {
            switch Int.random(in: 0..<5, using: &self) {
            case 0 where !out.isEmpty: out[Int.random(in: 0..<out.count, using: &self)] ^= UInt8.random(in: 1...255, using: &self)
            case 1: out.insert(UInt8.random(in: 0...255, using: &self), at: Int.random(in: 0...out.count, using: &self))
            case 2 where !out.isEmpty: out.remove(at: Int.random(in: 0..<out.count, using: &self))
            case 3 where !out.isEmpty: out = Array(out.prefix(Int.random(in: 0..<out.count, using: &self)))
            default: out += self.bytes(Int.random(in: 1...16, using: &self))
            }
        }
        return out
    }
}
