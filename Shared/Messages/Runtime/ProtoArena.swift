import CMessages

#if canImport(Glibc)
import Glibc
#endif

/// Bytes of stack the codec gives every encode and decode as the arena's first block.
///
/// 1 KiB holds the C structs and strings of a typical ticket (about 500 bytes); larger messages
/// continue in `malloc`ed blocks. `withUnsafeTemporaryAllocation` puts up to 1 KiB on the stack
/// without asking the runtime whether the stack is deep enough (which is slow on Linux).
@usableFromInline let _protoStackArenaSize = 1024

/// Memory for the C structs of one encode or decode: a bump allocator released in one go.
///
/// Everything a generated `_fill` stores in a C struct (strings, byte buffers, arrays, nested
/// structs) and everything `protobuf_c_message_unpack` allocates through
/// ``_unpackAllocator(_:)`` comes from here. The first block is caller-provided (the codec passes
/// stack memory); when it is full, blocks are `malloc`ed and chained, and freed by `deinit`.
/// Nothing is freed individually, nothing is zeroed (C structs are initialised by their
/// `*__init` function, strings and byte buffers are copied in full).
///
/// The arena is non-copyable, so it cannot outlive its scope or be freed twice; generated code
/// receives it `inout`. Every allocation is 8-byte aligned, which suffices for protobuf-c structs.
public struct ProtoArena: ~Copyable {
    @usableFromInline var cursor: UnsafeMutableRawPointer
    @usableFromInline var end: UnsafeMutableRawPointer
    /// The most recently `malloc`ed block; each block starts with a pointer to the one before.
    @usableFromInline var blocks: UnsafeMutableRawPointer?
    @usableFromInline var nextBlockSize: Int
    /// An upper bound of the packed size of what `_fill` stored so far (see ``packedSizeBound``).
    @usableFromInline var _packedSizeBound: Int = 0

    @usableFromInline static let blockHeader = 16
    @usableFromInline static let firstHeapBlock = 4096
    @usableFromInline static let largestHeapBlock = 1 << 20

    /// The most bytes protobuf-c writes for one field or one element of a repeated field, apart
    /// from the bytes of a string, of `bytes` or of a sub-message: a tag (field numbers stay
    /// below 2²⁹: at most 5 bytes) and either a length (protobuf-c lengths are 32-bit: at most
    /// 5 bytes) or a scalar (a varint has at most 10 bytes, fixed types 8).
    @usableFromInline static let maxFieldOverhead = 15

    /// An upper bound of the size protobuf-c packs the C struct into, when the top-level struct
    /// was started with ``_startMessage(_:)`` and filled only through this arena's methods
    /// (every generated `_fill` does). Each method adds what it can add to the encoding:
    /// ``maxFieldOverhead`` per declared field of every struct and per element of every repeated
    /// field, plus the bytes of every string and byte buffer. The codec packs into a stack buffer
    /// when the bound fits, which saves `protobuf_c_message_get_packed_size`.
    @inlinable public var packedSizeBound: Int { _packedSizeBound }

    /// Accounts for a top-level or nested struct of `M`: a bound for each declared field
    /// (oneof members included) of its descriptor.
    @inlinable @inline(__always)
    public mutating func _startMessage<M: ProtoMessage>(_ type: M.Type) {
        _packedSizeBound &+= Int(M._descriptor.pointer.pointee.n_fields) &* Self.maxFieldOverhead
    }

    /// An arena whose first block is `buffer` (8-byte aligned; may be empty). The caller keeps
    /// `buffer` alive for as long as the arena and everything allocated from it is used.
    @inlinable
    public init(firstBlock buffer: UnsafeMutableRawBufferPointer) {
        if let base = buffer.baseAddress, buffer.count >= 16 {
            // Both ends 8-aligned, so every rounded-up request that fits `end - cursor` fits.
            cursor = base.alignedUp(toMultipleOf: 8)
            end = (base + buffer.count).alignedDown(toMultipleOf: 8)
        } else {
            cursor = UnsafeMutableRawPointer(bitPattern: 8).unsafelyUnwrapped
            end = cursor
        }
        blocks = nil
        nextBlockSize = Self.firstHeapBlock
    }

    /// An arena that allocates every block with `malloc`.
    @inlinable
    public init() {
        self.init(firstBlock: UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }

    deinit {
        var block = blocks
        while let current = block {
            block = current.load(as: UnsafeMutableRawPointer?.self)
            free(current)
        }
    }

    /// `byteCount` uninitialised bytes, 8-byte aligned, or `nil` when memory is exhausted or
    /// `byteCount` is absurd.
    @inlinable @inline(__always)
    public mutating func allocateIfPossible(byteCount: Int) -> UnsafeMutableRawPointer? {
        // Unsigned comparison: a negative `byteCount` looks huge and takes the slow path, which
        // rejects it. `end - cursor` is a multiple of 8, so the rounded-up size fits as well.
        if UInt(bitPattern: byteCount) <= UInt(bitPattern: cursor.distance(to: end)) {
            let result = cursor
            cursor += (byteCount &+ 7) & ~7
            return result
        }
        return allocateFromNewBlock(byteCount)
    }

    @usableFromInline
    mutating func allocateFromNewBlock(_ byteCount: Int) -> UnsafeMutableRawPointer? {
        guard byteCount >= 0, byteCount <= Int.max / 4 else { return nil }
        let size = Swift.max((byteCount + 7) & ~7, 8)
        let dedicated = size + Self.blockHeader > nextBlockSize / 2
        let capacity = dedicated ? size + Self.blockHeader : nextBlockSize
        guard let block = malloc(capacity) else { return nil }
        block.storeBytes(of: blocks, as: UnsafeMutableRawPointer?.self)
        blocks = block
        let result = block + Self.blockHeader
        if !dedicated {
            // Continue in the new block; a large request gets a block of its own and the
            // current block stays in use for small ones.
            cursor = result + size
            end = block + capacity
            nextBlockSize = Swift.min(nextBlockSize * 2, Self.largestHeapBlock)
        }
        return result
    }

    /// `byteCount` uninitialised bytes, 8-byte aligned. Traps only when `malloc` fails.
    @inlinable @inline(__always)
    public mutating func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        guard let result = allocateIfPossible(byteCount: byteCount) else { Self.outOfMemory(byteCount) }
        return result
    }

    /// Kept out of line so that the message is not built in every inlined `allocate`.
    @usableFromInline @inline(never)
    static func outOfMemory(_ byteCount: Int) -> Never {
        fatalError("ProtoArena: out of memory allocating \(byteCount) bytes")
    }

    /// Uninitialised storage for `count` values of `T` (trivial C types only).
    @inlinable @inline(__always)
    public mutating func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= 8 && _isPOD(T.self), "ProtoArena holds trivial C values only")
        return allocate(byteCount: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }

    /// A NUL-terminated copy of `string` (protobuf-c's shared empty string when it is empty).
    @inlinable @inline(__always)
    public mutating func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        if string.isEmpty { return cmessages_empty_string() }
        let count = string.utf8.count
        _packedSizeBound &+= count
        let destination = allocate(byteCount: count &+ 1)
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { source in
            destination.copyMemory(from: source.baseAddress.unsafelyUnwrapped, byteCount: source.count)
        }
        if copied == nil { Self.copyUTF8(of: string, to: destination) }
        destination.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
        return destination.bindMemory(to: CChar.self, capacity: count &+ 1)
    }

    /// The byte-by-byte copy for strings whose UTF-8 is not contiguous (none on Linux today).
    @usableFromInline @inline(never)
    static func copyUTF8(of string: String, to destination: UnsafeMutableRawPointer) {
        var offset = 0
        for byte in string.utf8 {
            destination.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            offset += 1
        }
    }

    /// A NUL-terminated copy of `string` that is never protobuf-c's shared empty string, for
    /// oneof members: protobuf-c skips a oneof string whose pointer is the field's default (the
    /// empty string), which would lose the presence of `""`.
    @inlinable
    public mutating func oneofCString(_ string: String) -> UnsafeMutablePointer<CChar> {
        if string.isEmpty {
            let empty = allocate(byteCount: 1)
            empty.storeBytes(of: 0, as: UInt8.self)
            return empty.bindMemory(to: CChar.self, capacity: 1)
        }
        return cString(string)
    }

    /// A copy of `bytes` as protobuf-c binary data.
    @inlinable
    public mutating func binaryData(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        let count = bytes.count
        if count == 0 { return ProtobufCBinaryData(len: 0, data: nil) }
        _packedSizeBound &+= count
        let destination = allocate(UInt8.self, count: count)
        bytes.withUnsafeBufferPointer { destination.initialize(from: $0.baseAddress.unsafelyUnwrapped, count: count) }
        return ProtobufCBinaryData(len: count, data: destination)
    }

    /// A C struct for `message`, initialised by protobuf-c and filled; owned by this arena.
    @inlinable
    public mutating func message<M: ProtoMessage>(_ message: M) -> UnsafeMutablePointer<M._CStruct> {
        let c = allocate(M._CStruct.self)
        M._initialize(c)
        _startMessage(M.self)
        message._fill(&c.pointee, arena: &self)
        return c
    }

    /// An array of pointers to C structs, one per element (repeated message fields). The structs
    /// themselves are allocated in one piece.
    @inlinable
    public mutating func messages<M: ProtoMessage>(_ values: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M._CStruct>?> {
        let count = values.count
        let pointers = allocate(UnsafeMutablePointer<M._CStruct>?.self, count: count)
        let structs = allocate(M._CStruct.self, count: count)
        _packedSizeBound &+= count &* Self.maxFieldOverhead
        for i in 0..<count {
            let c = structs + i
            M._initialize(c)
            _startMessage(M.self)
            values[i]._fill(&c.pointee, arena: &self)
            (pointers + i).initialize(to: c)
        }
        return pointers
    }

    /// A C array holding `values` unchanged (repeated numbers whose Swift and C types agree).
    @inlinable
    public mutating func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let count = values.count
        let array = repeatedValues(T.self, count: count)
        values.withUnsafeBufferPointer { array.initialize(from: $0.baseAddress!, count: count) }
        return array
    }

    /// Uninitialised storage for the `count` elements of a repeated scalar field (numbers, enums,
    /// booleans); the caller initialises every element.
    @inlinable @inline(__always)
    public mutating func repeatedValues<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        _packedSizeBound &+= count &* Self.maxFieldOverhead
        return allocate(T.self, count: count)
    }

    /// A C array of NUL-terminated copies of `values` (repeated strings).
    @inlinable
    public mutating func cStrings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let count = values.count
        _packedSizeBound &+= count &* Self.maxFieldOverhead
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: count)
        for i in 0..<count { (array + i).initialize(to: cString(values[i])) }
        return array
    }

    /// A C array of protobuf-c binary data (repeated bytes).
    @inlinable
    public mutating func binaryDataArray(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData> {
        let count = values.count
        _packedSizeBound &+= count &* Self.maxFieldOverhead
        let array = allocate(ProtobufCBinaryData.self, count: count)
        for i in 0..<count { (array + i).initialize(to: binaryData(values[i])) }
        return array
    }

    /// Storage for `count` map entries (C structs of two fields, `key` and `value`) and an array
    /// of pointers to them; the structs are uninitialised, the pointers are set. The entries' keys
    /// and values must be filled through this arena too (`cString`, `binaryData`, `message`).
    @inlinable
    public mutating func structPointers<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        // Each entry: its own tag and length, then a key field and a value field.
        _packedSizeBound &+= count &* (3 &* Self.maxFieldOverhead)
        let pointers = allocate(UnsafeMutablePointer<T>?.self, count: count)
        let structs = allocate(T.self, count: count)
        for i in 0..<count { (pointers + i).initialize(to: structs + i) }
        return pointers
    }

    /// A protobuf-c allocator that takes memory from the arena at `arena` and never frees; pass it
    /// to `protobuf_c_message_unpack` and drop the result with the arena instead of
    /// `protobuf_c_message_free_unpacked`. `arena` must stay valid while the allocator is used.
    @inlinable
    public static func _unpackAllocator(_ arena: UnsafeMutablePointer<ProtoArena>) -> ProtobufCAllocator {
        ProtobufCAllocator(
            alloc: { data, size in
                data.unsafelyUnwrapped.assumingMemoryBound(to: ProtoArena.self)
                    .pointee.allocateIfPossible(byteCount: Int(bitPattern: UInt(size)))
            },
            free: { _, _ in },
            allocator_data: UnsafeMutableRawPointer(arena))
    }
}

/// Conversions from C values that generated code shares.
public enum _ProtoRuntime {
    /// The string at `pointer`, read up to its NUL; invalid UTF-8 is repaired with U+FFFD.
    ///
    /// Well-formed UTF-8 (checked by ``isWellFormedUTF8(_:count:)``, eight ASCII bytes at a time)
    /// becomes a `String` without the standard library validating it a second time; anything
    /// else goes through `String(decoding:as:)`, which repairs it.
    @inlinable
    public static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let count = strlen(pointer)
        if count == 0 { return "" }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: count)
        switch isWellFormedUTF8(bytes.baseAddress.unsafelyUnwrapped, count: count) {
        case .ascii: return _stringFromValidUTF8(bytes, isASCII: true)
        case .nonASCII: return _stringFromValidUTF8(bytes, isASCII: false)
        case .invalid: return String(decoding: bytes, as: UTF8.self)
        }
    }

    /// What ``isWellFormedUTF8(_:count:)`` found.
    public enum UTF8Check: Sendable { case ascii, nonASCII, invalid }

    /// Whether `count` bytes at `start` are well-formed UTF-8 (the Unicode Standard, table 3-7:
    /// no overlong forms, no surrogates, nothing above U+10FFFF, no truncated sequence), and
    /// whether they are all ASCII. Runs of ASCII are checked eight bytes at a time.
    @inlinable
    public static func isWellFormedUTF8(_ start: UnsafePointer<UInt8>, count: Int) -> UTF8Check {
        var i = 0
        var ascii = true
        while i < count {
            if i &+ 8 <= count {
                let word = UInt64(littleEndian: UnsafeRawPointer(start + i).loadUnaligned(as: UInt64.self))
                let high = word & 0x8080_8080_8080_8080
                if high == 0 {
                    i &+= 8
                    continue
                }
                // Skip the ASCII bytes before the first byte with its high bit set.
                i &+= high.trailingZeroBitCount &>> 3
            } else if count >= 8 {
                // Fewer than 8 bytes left: look at the last 8 bytes (some already checked).
                let word = UnsafeRawPointer(start + (count &- 8)).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 == 0 { break }
            } else if i == 0, count >= 4 {
                // A string of 4 to 7 bytes: two overlapping 4-byte words.
                let first = UnsafeRawPointer(start).loadUnaligned(as: UInt32.self)
                let last = UnsafeRawPointer(start + (count &- 4)).loadUnaligned(as: UInt32.self)
                if (first | last) & 0x8080_8080 == 0 { break }
            }
            let b0 = start[i]
            if b0 < 0x80 {
                i &+= 1
                continue
            }
            ascii = false
            if b0 < 0xC2 { return .invalid }  // a continuation byte, or an overlong 2-byte form
            if b0 < 0xE0 {
                guard i &+ 1 < count, start[i &+ 1] & 0xC0 == 0x80 else { return .invalid }
                i &+= 2
            } else if b0 < 0xF0 {
                guard i &+ 2 < count else { return .invalid }
                let b1 = start[i &+ 1]
                let lower: UInt8 = b0 == 0xE0 ? 0xA0 : 0x80  // no overlong forms
                let upper: UInt8 = b0 == 0xED ? 0x9F : 0xBF  // no surrogates
                guard b1 >= lower, b1 <= upper, start[i &+ 2] & 0xC0 == 0x80 else { return .invalid }
                i &+= 3
            } else if b0 < 0xF5 {
                guard i &+ 3 < count else { return .invalid }
                let b1 = start[i &+ 1]
                let lower: UInt8 = b0 == 0xF0 ? 0x90 : 0x80  // no overlong forms
                let upper: UInt8 = b0 == 0xF4 ? 0x8F : 0xBF  // nothing above U+10FFFF
                guard b1 >= lower, b1 <= upper, start[i &+ 2] & 0xC0 == 0x80, start[i &+ 3] & 0xC0 == 0x80 else {
                    return .invalid
                }
                i &+= 4
            } else {
                return .invalid
            }
        }
        return ascii ? .ascii : .nonASCII
    }

    @inlinable
    public static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }
}

/// `String._uncheckedFromUTF8(_:isASCII:)`, the standard library's constructor for UTF-8 that is
/// known to be well-formed (a small string up to 15 bytes, otherwise one native storage object).
///
/// It is `@usableFromInline` in the standard library, so its symbol is part of the library's
/// interface that inlined code links against; bound here by its mangled name because it is not
/// public. Only call it with bytes that ``_ProtoRuntime/isWellFormedUTF8(_:count:)`` accepted,
/// and with `isASCII` exactly as it reported: the standard library trusts both.
@usableFromInline
@_silgen_name("$sSS18_uncheckedFromUTF8_7isASCIISSSRys5UInt8VG_SbtFZ")
func _stringFromValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>, isASCII: Bool) -> String
