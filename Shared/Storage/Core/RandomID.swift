#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Random identifiers as RFC 9562 UUID text, from the kernel's generator (`getrandom`), for row
/// and event ids.
///
/// Foundation's `UUID()` opens, reads and closes `/dev/urandom` on every call on Linux (three
/// system calls per id; two or three ids per opened ticket in a service's hot path). Here one
/// `getrandom` call fills the bytes of 32 single ids (fetched ahead, each byte handed out once), or
/// of a whole batch with ``uuids(_:)``.
///
/// ```swift
/// let event = RandomID.uuid()            // "1B4E28BA-2FA1-41D2-883F-0016D3CCA427", like UUID().uuidString
/// let row = RandomID.uuid(lowercase: true)
/// let ticket = RandomID.timeOrdered(milliseconds: now)   // version 7: ids made together sort together
/// ```
public enum RandomID {
    /// A version 4 UUID: upper case like `UUID().uuidString`, or lower case.
    public static func uuid(lowercase: Bool = false) -> String {
        var bytes: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &bytes) { fill($0) }
        return withUnsafeMutableBytes(of: &bytes) { format($0, version: 0x40, lowercase: lowercase) }
    }

    /// `count` version 4 UUIDs (upper case) from one call for random bytes.
    public static func uuids(_ count: Int) -> [String] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * 16)
        return bytes.withUnsafeMutableBytes { buffer in
            fill(buffer)
            return (0..<count).map { index in
                format(UnsafeMutableRawBufferPointer(rebasing: buffer[(index * 16)..<(index * 16 + 16)]), version: 0x40, lowercase: false)
            }
        }
    }

    /// A version 7 UUID (lower case): `milliseconds` since the epoch in its first 48 bits, then
    /// a counter in the 12 bits of `rand_a`, then 62 random bits. Ids made one after another
    /// sort together, so rows inserted together share B-tree pages instead of landing on a random
    /// page each, and ids stamped with the current time sort in the order this process made them,
    /// from any thread (RFC 9562, 6.2, methods 1 and 3): the counter starts at a random value
    /// below 2,048 with each new millisecond and counts up; a time behind the latest id's (another
    /// thread got here first, or the counter ran the latest millisecond ahead of the clock) and a
    /// counter past 4,095 carry on from the latest id. A time more than 10 ms behind the clock (a
    /// backfill) gets its own millisecond and random bits. Ids made by other processes in the
    /// same millisecond interleave with these in no particular order.
    public static func timeOrdered(milliseconds: Int64) -> String {
        make(UInt64(max(0, milliseconds)))
    }

    /// A version 7 UUID (lower case) stamped with the current wall-clock millisecond, read while
    /// the sequence is held: however long the calling thread waited to get here, its id sorts
    /// after every id this process made before.
    public static func timeOrdered() -> String {
        make(nil)
    }

    /// The id of ``timeOrdered(milliseconds:)`` for `given`, or for the clock read under the lock.
    private static func make(_ given: UInt64?) -> String {
        var bytes: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            fill(raw)
            let fresh = (UInt16(raw[6]) << 8 | UInt16(raw[7])) & 0x07FF
            let (stamp, place) = sequence.withLock { state -> (UInt64, UInt16) in
                let clock = UInt64(max(0, nowMilliseconds()))
                let time = given ?? clock
                if time + 10 < clock {
                    return (time, fresh)
                } else if time > state.millisecond {
                    state = (time, fresh)
                } else if state.counter < 0x0FFF {
                    state.counter += 1
                } else {
                    state = (state.millisecond + 1, fresh)
                }
                return state
            }
            for index in 0..<6 { raw[index] = UInt8(truncatingIfNeeded: stamp >> (8 * (5 - UInt64(index)))) }
            raw[6] = UInt8(truncatingIfNeeded: place >> 8)
            raw[7] = UInt8(truncatingIfNeeded: place)
            return format(raw, version: 0x70, lowercase: true)
        }
    }

    /// The millisecond of the latest ``timeOrdered(milliseconds:)`` id (at least the latest time asked for), and its counter.
    private static let sequence = Mutex<(millisecond: UInt64, counter: UInt16)>((0, 0))

    /// The wall clock in milliseconds since the epoch (`clock_gettime`, no Foundation `Date`).
    public static func nowMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }

    /// `count` version 7 UUIDs stamped with `milliseconds`, increasing within the batch: each
    /// id's place in the batch (modulo 4,096) fills the 12 bits of `rand_a`, then 62 random bits.
    /// A batch's rows land on the last page or two of a unique index instead of a random leaf
    /// each.
    public static func timeOrdered(_ count: Int, milliseconds: Int64, lowercase: Bool = false) -> [String] {
        guard count > 0 else { return [] }
        var bytes = [UInt8](repeating: 0, count: count * 16)
        let stamp = UInt64(max(0, milliseconds))
        return bytes.withUnsafeMutableBytes { buffer in
            fill(buffer)
            return (0..<count).map { index in
                let raw = UnsafeMutableRawBufferPointer(rebasing: buffer[(index * 16)..<(index * 16 + 16)])
                for position in 0..<6 { raw[position] = UInt8(truncatingIfNeeded: stamp >> (8 * (5 - UInt64(position)))) }
                let place = UInt16(index % 4_096)
                raw[6] = UInt8(truncatingIfNeeded: place >> 8)
                raw[7] = UInt8(truncatingIfNeeded: place)
                return format(raw, version: 0x70, lowercase: lowercase)
            }
        }
    }

    // MARK: bytes and text

    typealias GetRandom = @convention(c) (UnsafeMutableRawPointer, Int, UInt32) -> Int

    /// glibc's `getrandom` (<sys/random.h> is not part of the Glibc module), looked up once.
    private static let getrandom: GetRandom? = {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getrandom") else { return nil }
        return unsafeBitCast(symbol, to: GetRandom.self)
        #else
        return nil
        #endif
    }()

    /// Random bytes fetched ahead for single ids: one `getrandom` call per 32 ids of 16 bytes
    /// instead of one per id (an opened ticket takes two or three ids on a service's hot path).
    /// Each byte is handed out once and zeroed in the pool as it is taken.
    private struct Pool {
        static let size = 512
        var bytes = [UInt8](repeating: 0, count: size)
        /// Bytes before `next` were handed out (or never filled); `next == size`: empty.
        var next = size
    }

    private static let pool = Mutex(Pool())

    /// Fills `buffer` with random bytes: up to 64 from ``Pool`` (refilled by one call when it runs
    /// short), more straight from ``fillFromKernel(_:)``.
    private static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        guard buffer.count <= 64 else { return fillFromKernel(buffer) }
        pool.withLock { pool in
            if Pool.size - pool.next < buffer.count {
                pool.bytes.withUnsafeMutableBytes { fillFromKernel($0) }
                pool.next = 0
            }
            pool.bytes.withUnsafeMutableBytes { bytes in
                let taken = UnsafeMutableRawBufferPointer(rebasing: bytes[pool.next..<(pool.next + buffer.count)])
                buffer.copyMemory(from: UnsafeRawBufferPointer(taken))
                taken.initializeMemory(as: UInt8.self, repeating: 0)
            }
            pool.next += buffer.count
        }
    }

    /// Fills `buffer` with random bytes: `getrandom` in as few calls as it takes, else the
    /// standard library's generator.
    private static func fillFromKernel(_ buffer: UnsafeMutableRawBufferPointer) {
        var filled = 0
        if let getrandom {
            while filled < buffer.count {
                let count = getrandom(buffer.baseAddress! + filled, buffer.count - filled, 0)
                if count <= 0 { break }
                filled += count
            }
        }
        guard filled < buffer.count else { return }
        var generator = SystemRandomNumberGenerator()
        for index in filled..<buffer.count { buffer[index] = UInt8.random(in: .min ... .max, using: &generator) }
    }

    private static let upperDigits: [UInt8] = Array("0123456789ABCDEF".utf8)
    private static let lowerDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// 16 bytes as UUID text with the version nibble and the RFC variant bits set.
    private static func format(_ raw: UnsafeMutableRawBufferPointer, version: UInt8, lowercase: Bool) -> String {
        raw[6] = (raw[6] & 0x0F) | version
        raw[8] = (raw[8] & 0x3F) | 0x80
        let digits = lowercase ? lowerDigits : upperDigits
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
