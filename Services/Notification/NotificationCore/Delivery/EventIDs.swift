import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Event ids in `UUID().uuidString`'s form (upper-case), many at once, time-ordered: version 7
/// (RFC 9562: 48 bits of Unix time in milliseconds, then the id's place in its batch in the 12
/// bits of `rand_a`, then 62 random bits).
///
/// Time-ordered because each id goes into the outbox's unique index of event ids: random (version
/// 4) ids land on a different leaf page each, so a batch of 128 `EmailSent` rows dirtied (and
/// wrote to the WAL, and checkpointed) about as many index pages as rows; ids that follow the
/// clock land on the last page or two.
///
/// Foundation's `UUID()` reads the system's random source once per id (on this platform an
/// `open`, a `read` and a `close` of `/dev/urandom`, about a tenth of the recorder's time in a
/// profile); the recorder needs one id per `EmailSent` event of a batch, so it takes the random
/// bytes of the whole batch in one call.
enum EventIDs {
    typealias GetRandom = @convention(c) (UnsafeMutableRawPointer, Int, UInt32) -> Int

    /// glibc's `getrandom` (<sys/random.h> is not part of the Glibc module), looked up by name.
    private static let getrandom: GetRandom? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getrandom") else { return nil }
        return unsafeBitCast(symbol, to: GetRandom.self)
        #else
        return nil
        #endif
    }()

    /// `count` fresh ids, increasing within the batch.
    static func make(_ count: Int, now: Date = Date()) -> [String] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * 16)
        var filled = 0
        if let getrandom = Self.getrandom {
            bytes.withUnsafeMutableBytes { buffer in
                while filled < buffer.count {
                    let n = getrandom(buffer.baseAddress! + filled, buffer.count - filled, 0)
                    if n <= 0 { break }
                    filled += n
                }
            }
        }
        if filled < bytes.count {
            // No getrandom (or it failed): Foundation's ids.
            return (0..<count).map { _ in UUID().uuidString }
        }
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var ids: [String] = []
        ids.reserveCapacity(count)
        for index in 0..<count {
            var raw = bytes[(index * 16)..<(index * 16 + 16)].map { $0 }
            for position in 0..<6 { raw[position] = UInt8(truncatingIfNeeded: milliseconds >> (8 * (5 - position))) }
            let place = UInt64(index % 4_096)
            raw[6] = 0x70 | UInt8(truncatingIfNeeded: place >> 8)  // version 7, then rand_a: the place in the batch
            raw[7] = UInt8(truncatingIfNeeded: place)
            raw[8] = (raw[8] & 0x3f) | 0x80  // RFC 9562 variant
            ids.append(String(unsafeUninitializedCapacity: 36) { out in
                var at = 0
                for (position, byte) in raw.enumerated() {
                    if position == 4 || position == 6 || position == 8 || position == 10 {
                        out[at] = UInt8(ascii: "-")
                        at += 1
                    }
                    out[at] = hex[Int(byte >> 4)]
                    out[at + 1] = hex[Int(byte & 0x0f)]
                    at += 2
                }
                return at
            })
        }
        return ids
    }
}
