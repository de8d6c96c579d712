import CMessages

#if canImport(Glibc)
import Glibc
#endif

/// Memory for the C structs of one encode: a bump allocator freed in one go.
///
/// Everything a generated `_fill` stores in a C struct (strings, byte buffers, arrays, nested
/// structs) is allocated here, so packing a message costs a few `malloc` calls, not one per field.
public final class ProtoArena {
    @usableFromInline var blocks: [UnsafeMutableRawPointer] = []
    @usableFromInline var cursor: UnsafeMutableRawPointer? = nil
    @usableFromInline var remaining = 0
    @usableFromInline static let blockSize = 2048

    @inlinable public init() {}

    deinit {
        for block in blocks { free(block) }
    }

    /// Zeroed, aligned storage for `count` values of `T`.
    @inlinable
    public func allocate<T>(_ type: T.Type, count: Int) -> UnsafeMutablePointer<T> {
        let alignment = max(MemoryLayout<T>.alignment, 8)
        let size = max(MemoryLayout<T>.stride * count, 1)
        return rawAllocate(size: size, alignment: alignment).bindMemory(to: T.self, capacity: count)
    }

    @inlinable
    func rawAllocate(size: Int, alignment: Int) -> UnsafeMutableRawPointer {
        if let cursor {
            let address = Int(bitPattern: cursor)
            let aligned = (address + alignment - 1) & ~(alignment - 1)
            let padding = aligned - address
            if padding + size <= remaining {
                self.cursor = cursor + padding + size
                remaining -= padding + size
                let result = UnsafeMutableRawPointer(bitPattern: aligned)!
                memset(result, 0, size)
                return result
            }
        }
        let blockSize = max(Self.blockSize, size + alignment)
        let block = malloc(blockSize)!
        blocks.append(block)
        let address = Int(bitPattern: block)
        let aligned = (address + alignment - 1) & ~(alignment - 1)
        let used = aligned - address + size
        cursor = block + used
        remaining = blockSize - used
        let result = UnsafeMutableRawPointer(bitPattern: aligned)!
        memset(result, 0, size)
        return result
    }

    /// A NUL-terminated copy of `string`.
    @inlinable
    public func cString(_ string: String) -> UnsafeMutablePointer<CChar> {
        if string.isEmpty { return cmessages_empty_string() }
        var string = string
        return string.withUTF8 { utf8 in
            let p = allocate(CChar.self, count: utf8.count + 1)
            UnsafeMutableRawPointer(p).copyMemory(from: utf8.baseAddress!, byteCount: utf8.count)
            return p
        }
    }

    /// A copy of `bytes` as protobuf-c binary data.
    @inlinable
    public func binaryData(_ bytes: [UInt8]) -> ProtobufCBinaryData {
        if bytes.isEmpty { return ProtobufCBinaryData(len: 0, data: nil) }
        let p = allocate(UInt8.self, count: bytes.count)
        bytes.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: bytes.count) }
        return ProtobufCBinaryData(len: bytes.count, data: p)
    }

    /// A C struct for `message`, filled and owned by this arena.
    @inlinable
    public func message<M: ProtoMessage>(_ message: M) -> UnsafeMutablePointer<M._CStruct> {
        let c = allocate(M._CStruct.self, count: 1)
        M._initialize(c)
        message._fill(&c.pointee, arena: self)
        return c
    }

    /// An array of pointers to C structs, one per element.
    @inlinable
    public func messages<M: ProtoMessage>(_ values: [M]) -> UnsafeMutablePointer<UnsafeMutablePointer<M._CStruct>?> {
        let array = allocate(UnsafeMutablePointer<M._CStruct>?.self, count: values.count)
        for (i, value) in values.enumerated() { array[i] = message(value) }
        return array
    }

    /// A C array of converted values (repeated scalars, strings and enums).
    @inlinable
    public func array<S, C>(_ values: [S], _ convert: (S) -> C) -> UnsafeMutablePointer<C> {
        let array = allocate(C.self, count: values.count)
        for (i, value) in values.enumerated() { (array + i).initialize(to: convert(value)) }
        return array
    }

    /// An array of pointers to C structs built from a collection (map entries).
    @inlinable
    public func pointers<T, S: Collection>(
        _ type: T.Type, _ values: S, _ fill: (UnsafeMutablePointer<T>, S.Element) -> Void
    ) -> UnsafeMutablePointer<UnsafeMutablePointer<T>?> {
        let array = allocate(UnsafeMutablePointer<T>?.self, count: values.count)
        for (i, value) in values.enumerated() {
            let entry = allocate(T.self, count: 1)
            fill(entry, value)
            array[i] = entry
        }
        return array
    }
}

/// Conversions from C values that generated code shares.
public enum _ProtoRuntime {
    @inlinable
    public static func string(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        guard let pointer, pointer.pointee != 0 else { return "" }
        return String(cString: pointer)
    }

    @inlinable
    public static func bytes(_ data: ProtobufCBinaryData) -> [UInt8] {
        guard data.len > 0, let base = data.data else { return [] }
        return [UInt8](UnsafeBufferPointer(start: base, count: data.len))
    }
}
