/// Random (version 4) UUIDs as text for row ids, formatted as Foundation's `UUID().uuidString`
/// (upper case; ``lowercased()`` where rows used the lower-case form), from the system's random
/// generator (`getrandom`): Foundation's `UUID()` opens, reads and closes `/dev/urandom` on each call on Linux
/// (three system calls; two or three per opened ticket).
enum RowID {
    private static let upper: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lower: [UInt8] = Array("0123456789abcdef".utf8)

    /// A new random UUID, upper case (`"1B4E28BA-2FA1-41D2-883F-0016D3CCA427"`).
    static func uuid() -> String { make(upper) }

    /// ``uuid()`` in lower case (timer ids).
    static func lowercased() -> String { make(lower) }

    private static func make(_ digits: [UInt8]) -> String {
        // The standard library's generator asks the kernel (getrandom) for each value.
        var generator = SystemRandomNumberGenerator()
        var bytes: (UInt64, UInt64) = (generator.next(), generator.next())
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = (raw[6] & 0x0F) | 0x40  // version 4
            raw[8] = (raw[8] & 0x3F) | 0x80  // RFC 4122 variant
            return String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for index in 0..<16 {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits[Int(raw[index] >> 4)]
                    out[position + 1] = digits[Int(raw[index] & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }
}
