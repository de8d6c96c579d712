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

    @usableFromInline static let blockHeader = 16
    @usableFromInline static let firstHeapBlock = 4096
    @usableFromInline static let largestHeapBlock = 1 << 20

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
        guard let result = allocateIfPossible(byteCount: byteCount) else {
            fatalError("ProtoArena: out of memory allocating \(byteCount) bytes")
        }
        return result
    }

    /// Uninitialised storage for `count` values of `T` (trivial C types only).
    @inlinable @inline(__always)
    public mutating func allocate<T>(_ type: T.Type, count: Int = 1) -> UnsafeMutablePointer<T> {
        precondition(MemoryLayout<T>.alignment <= 8 && _isPOD(T.self), "ProtoArena holds trivial C values only")
        return allocate(byteCount: MemoryLayout<T>.stride * count).bindMemory(to: T.self, capacity: count)
    }

    /// A NUL-terminated copy of `string` (protobuf-c's shared empty string when it is empty).
    @inlinable
    public mutating func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        if string.isEmpty { return cmessages_empty_string() }
        let utf8 = string.utf8
        let count = utf8.count
        let destination = allocate(byteCount: count + 1)
        let copied: Void? = utf8.withContiguousStorageIfAvailable { source in
            destination.copyMemory(from: source.baseAddress!, byteCount: source.count)
        }
        if copied == nil {
            var offset = 0
            for byte in utf8 {
                destination.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
                offset += 1
            }
        }
        destination.storeBytes(of: 0, toByteOffset: count, as: UInt8.self)
        return destination.bindMemory(to: CChar.self, capacity: count + 1)
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
        let destination = allocate(UInt8.self, count: count)
        bytes.withUnsafeBufferPointer { destination.initialize(from: $0.baseAddress.unsafelyUnwrapped, count: count) }
        return ProtobufCBinaryData(len: count, data: destination)
    }

    /// A C struct for `message`, initialised by protobuf-c and filled; owned by this arena.
    @inlinable
    public mutating func message<M: ProtoMessage>(_ message: M) -> UnsafeMutablePointer<M._CStruct> {
        let c = allocate(M._CStruct.self)
        M._initialize(c)
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
        for i in 0..<count {
            let c = structs + i
            M._initialize(c)
            values[i]._fill(&c.pointee, arena: &self)
            (pointers + i).initialize(to: c)
        }
        return pointers
    }

    /// A C array holding `values` unchanged (repeated numbers whose Swift and C types agree).
    @inlinable
    public mutating func array<T>(_ values: [T]) -> UnsafeMutablePointer<T> {
        let count = values.count
        let array = allocate(T.self, count: count)
        values.withUnsafeBufferPointer { array.initialize(from: $0.baseAddress!, count: count) }
        return array
    }

    /// A C array of NUL-terminated copies of `values` (repeated strings).
    @inlinable
    public mutating func cStrings(_ values: [String]) -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> {
        let count = values.count
        let array = allocate(UnsafeMutablePointer<CChar>?.self, count: count)
        for i in 0..<count { (array + i).initialize(to: cString(values[i])) }
        return array
    }

    /// A C array of protobuf-c binary data (repeated bytes).
    @inlinable
    public mutating func binaryDataArray(_ values: [[UInt8]]) -> UnsafeMutablePointer<ProtobufCBinaryData> {
        let count = values.count
        let array = allocate(ProtobufCBinaryData.self, count: count)
        for i in 0..<count { (array + i).initialize(to: binaryData(values[i])) }
        return array
    }

    /// Storage for `count` C structs and an array of pointers to them (map entries); the structs
    /// are uninitialised, the pointers are set.
    @inlinable
    public mutating func structPointers<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
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
    @inlinable
    public static func string(_ pointer: UnsafePointer<CChar>?) -> String {
        guard let pointer else { return "" }
        let count = strlen(pointer)
        if count == 0 { return "" }
        if count <= 15 {
            // Fits a small string: the standard library skips validation when it is ASCII.
            return String(unsafeUninitializedCapacity: count) { buffer in
                UnsafeMutableRawPointer(buffer.baseAddress.unsafelyUnwrapped).copyMemory(from: pointer, byteCount: count)
                return count
            }
        }
        let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: count)
        return String(decoding: bytes, as: UTF8.self)
    }

    @inlinable
    public static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }
}
