import CMessages
#if canImport(Glibc)
import Glibc
#endif
import Messages
import Testing

/// Field numbers of `BenchV1.CodecShapes` (Proto/ocorrencias/bench/v1/shapes.proto).
private enum Shapes {
    static let text = 14, item = 17, rI32 = 20, rText = 33, mText = 40, cText = 50, cItem = 51
    static let itemName = 1, itemCount = 2
}

private func item(_ name: String, count: Int32 = 0, leaves: [String] = []) -> BenchV1.CodecShapes.Item {
    var item = BenchV1.CodecShapes.Item()
    item.name = name
    item.count = count
    item.blob = Array(name.utf8)
    item.leaves = leaves.map { var leaf = BenchV1.CodecShapes.Leaf(); leaf.name = $0; return leaf }
    item.leaf = item.leaves.first
    return item
}

private func everyShape() -> BenchV1.CodecShapes {
    var m = BenchV1.CodecShapes()
    m.i32 = .min
    m.i64 = .min
    m.u32 = .max
    m.u64 = .max
    m.s32 = -123_456
    m.s64 = .min
    m.f32 = .max
    m.f64 = .max
    m.sf32 = -1
    m.sf64 = .min
    m.fl = -1.5
    m.db = .pi
    m.flag = true
    m.text = "Emissão de NF-e — atualização 🎫"
    m.blob = [0, 1, 2, 0, 255]
    m.color = .green
    m.item = item("principal", count: -7, leaves: ["a", "", "ç"])
    m.rI32 = [0, -1, .max, .min]
    m.rI64 = [.min, 0, .max]
    m.rU32 = [0, .max]
    m.rU64 = [.max, 1]
    m.rS32 = [-1, 1, .min]
    m.rS64 = [.min, .max]
    m.rF32 = [7, .max]
    m.rF64 = [.max]
    m.rSf32 = [.min, -2]
    m.rSf64 = [.min]
    m.rFl = [0.25, -.infinity, .greatestFiniteMagnitude]
    m.rDb = [-0.5, .infinity, 1e-300]
    m.rFlag = [true, false, true]
    m.rText = ["", "a", String(repeating: "é", count: 40)]
    m.rBlob = [[], [1], Array(repeating: 9, count: 300)]
    m.rColor = [.red, .unspecified, .green]
    m.rItem = [item("x"), BenchV1.CodecShapes.Item(), item("y", count: 3, leaves: ["l"])]
    m.mText = ["": "vazio", "chave": "", "ção": "🎫"]
    m.mI32 = [.min: "min", 0: "", 42: "x"]
    m.mItem = [0: BenchV1.CodecShapes.Item(), .max: item("z", leaves: ["1", "2"])]
    m.mColor = ["r": .red, "u": .unspecified]
    m.mBlob = [true: [1, 2], false: []]
    m.mDb = [.min: -1, 0: 0.5]
    m.optText = ""
    m.optItem = BenchV1.CodecShapes.Item()
    return m
}

@Suite("Codec: every field shape the generator supports")
struct CodecEveryShapeTests {
    @Test("scalars, repeated fields, maps, nested messages and presence round-trip")
    func everyShapeRoundTrips() throws {
        let m = everyShape()
        let bytes = m.serializedBytes()
        #expect(bytes.count == m.serializedSize())
        #expect(try BenchV1.CodecShapes(serializedBytes: bytes) == m)
    }

    @Test("each oneof case round-trips", arguments: [
        BenchV1.CodecShapes.Choice.cText(""), .cText("texto"), .cItem(BenchV1.CodecShapes.Item()), .cItem(item("i", leaves: ["f"])),
        .cColor(.unspecified), .cColor(.red), .cBlob([]), .cBlob([0, 0]), .cDb(0), .cDb(-2.5),
    ])
    func oneofCases(choice: BenchV1.CodecShapes.Choice) throws {
        var m = BenchV1.CodecShapes()
        m.choice = choice
        let decoded = try BenchV1.CodecShapes(serializedBytes: m.serializedBytes())
        #expect(decoded.choice == choice)
        #expect(decoded == m)
    }

    @Test("presence oneofs keep empty values and absent stays nil")
    func presence() throws {
        var m = BenchV1.CodecShapes()
        #expect(try BenchV1.CodecShapes(serializedBytes: m.serializedBytes()).optText == nil)
        #expect(try BenchV1.CodecShapes(serializedBytes: m.serializedBytes()).optItem == nil)
        m.optText = ""
        m.optItem = BenchV1.CodecShapes.Item()
        let decoded = try BenchV1.CodecShapes(serializedBytes: m.serializedBytes())
        #expect(decoded.optText == "")
        #expect(decoded.optItem == BenchV1.CodecShapes.Item())
    }

    @Test("an empty string in a oneof keeps its case (protobuf-c skips its shared empty string)")
    func emptyStringInOneof() throws {
        var t = BenchV1.TicketSample()
        t.origin = .agentID("")
        #expect(try BenchV1.TicketSample(serializedBytes: t.serializedBytes()).origin == .agentID(""))
        t.origin = .representativeID("")
        #expect(try BenchV1.TicketSample(serializedBytes: t.serializedBytes()).origin == .representativeID(""))
    }

    @Test("the default value encodes to nothing")
    func defaults() throws {
        #expect(BenchV1.CodecShapes().serializedBytes().isEmpty)
        #expect(BenchV1.CodecShapes().serializedSize() == 0)
        #expect(try BenchV1.CodecShapes(serializedBytes: [UInt8]()) == BenchV1.CodecShapes())
        var prefixed: [UInt8] = [1]
        #expect(BenchV1.CodecShapes().appendLengthPrefixed(to: &prefixed) == 0)
        #expect(prefixed == [1, 0, 0, 0, 0])
    }

    @Test("sizes around the 1 KiB stack scratch buffer encode exactly", arguments: [990, 1000, 1010, 1015, 1020, 1021, 1022, 1023, 1024, 1025, 1030, 2000, 5000])
    func scratchBoundary(size: Int) throws {
        var m = BenchV1.CodecShapes()
        m.text = String(repeating: "a", count: size - 3)  // tag + 2-byte length + text
        let bytes = m.serializedBytes()
        #expect(bytes.count == size)
        #expect(bytes.count == m.serializedSize())
        #expect(try BenchV1.CodecShapes(serializedBytes: bytes) == m)
        var prefixed: [UInt8] = [7, 7]
        #expect(m.appendLengthPrefixed(to: &prefixed) == size)
        #expect(Array(prefixed[6...]) == bytes)
    }

    @Test("huge strings, byte buffers and repeated fields (many arena blocks)")
    func huge() throws {
        var m = BenchV1.CodecShapes()
        m.text = String(repeating: "ocorrência ", count: 500_000)  // ~6 MB
        m.blob = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0) }
        m.rText = (0..<20_000).map { "tag-\($0)" }
        m.rI64 = (0..<100_000).map { Int64($0) * -3 }
        m.rItem = (0..<2_000).map { item("item \($0)", count: Int32($0), leaves: ["\($0)"]) }
        m.mText = Dictionary(uniqueKeysWithValues: (0..<5_000).map { ("k\($0)", String(repeating: "v", count: $0 % 50)) })
        let bytes = m.serializedBytes()
        #expect(bytes.count == m.serializedSize())
        let decoded = try BenchV1.CodecShapes(serializedBytes: bytes)
        #expect(decoded == m)
    }

    @Test("messages from other packages round-trip")
    func ticket() throws {
        var t = BenchV1.TicketSample()
        t.customFields = Dictionary(uniqueKeysWithValues: (0..<100).map { ("campo \($0)", "valor \($0)") })
        t.tags = (0..<100).map { "tag \($0)" }
        t.origin = .representativeID(String(repeating: "r", count: 16))
        #expect(try BenchV1.TicketSample(serializedBytes: t.serializedBytes()) == t)
    }

    @Test("encoding and decoding from many tasks at once")
    func concurrent() async throws {
        let m = everyShape()
        let expected = m.serializedBytes().count
        try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    for _ in 0..<500 {
                        let bytes = m.serializedBytes()
                        guard bytes.count == expected, try BenchV1.CodecShapes(serializedBytes: bytes) == m else { return false }
                    }
                    return true
                }
            }
            for try await ok in group { #expect(ok) }
        }
    }
}

@Suite("Codec: odd and hostile wire input")
struct CodecWireInputTests {
    @Test("invalid UTF-8 in strings is repaired with U+FFFD, short and long", arguments: [
        [0xff] as [UInt8], [0x61, 0xff, 0xfe, 0x62], [0xc3], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
        Array("olá".utf8) + [0xe2, 0x82], Array(repeating: 0x61, count: 15) + [0xff],
        Array(repeating: 0x61, count: 40) + [0xff] + Array("ção".utf8), [0x80] + Array(repeating: 0x62, count: 100),
    ])
    func invalidUTF8(raw: [UInt8]) throws {
        let expected = String(decoding: raw, as: UTF8.self)
        #expect(expected.unicodeScalars.contains("\u{FFFD}"))
        let wire = lengthDelimited(Shapes.text, raw)
            + lengthDelimited(Shapes.rText, raw) + lengthDelimited(Shapes.rText, Array("ok".utf8))
            + lengthDelimited(Shapes.mText, lengthDelimited(1, raw) + lengthDelimited(2, raw))
            + lengthDelimited(Shapes.cText, raw)
        let m = try BenchV1.CodecShapes(serializedBytes: wire)
        #expect(m.text == expected)
        #expect(m.rText == [expected, "ok"])
        #expect(m.mText == [expected: expected])
        #expect(m.choice == .cText(expected))
        // What was repaired encodes as valid UTF-8 and survives another round trip.
        #expect(try BenchV1.CodecShapes(serializedBytes: m.serializedBytes()) == m)
    }

    @Test("a NUL byte ends a string (protobuf-c strings are C strings)")
    func embeddedNUL() throws {
        let m = try BenchV1.CodecShapes(serializedBytes: lengthDelimited(Shapes.text, [0x61, 0, 0x62]))
        #expect(m.text == "a")
        var n = BenchV1.CodecShapes()
        n.text = "a\u{0}b"
        #expect(try BenchV1.CodecShapes(serializedBytes: n.serializedBytes()).text == "a")
    }

    @Test("the last oneof member on the wire wins")
    func oneofLastWins() throws {
        let text = lengthDelimited(Shapes.cText, Array("t".utf8))
        let item = lengthDelimited(Shapes.cItem, lengthDelimited(Shapes.itemName, Array("i".utf8)))
        var expectedItem = BenchV1.CodecShapes.Item()
        expectedItem.name = "i"
        #expect(try BenchV1.CodecShapes(serializedBytes: text + item).choice == .cItem(expectedItem))
        #expect(try BenchV1.CodecShapes(serializedBytes: item + text).choice == .cText("t"))
        #expect(try BenchV1.CodecShapes(serializedBytes: text + lengthDelimited(Shapes.cText, Array("u".utf8))).choice == .cText("u"))
    }

    @Test("repeated scalar fields, last-wins scalars, duplicate map keys and split sub-messages")
    func mergeSemantics() throws {
        let wire = lengthDelimited(Shapes.text, Array("first".utf8)) + lengthDelimited(Shapes.text, Array("second".utf8))
            + varintField(Shapes.rI32, 5) + varintField(Shapes.rI32, UInt64(bitPattern: -6))  // unpacked encoding
            + lengthDelimited(Shapes.rI32, varint(7) + varint(8))                             // packed encoding
            + lengthDelimited(Shapes.mText, lengthDelimited(1, Array("k".utf8)) + lengthDelimited(2, Array("1".utf8)))
            + lengthDelimited(Shapes.mText, lengthDelimited(1, Array("k".utf8)) + lengthDelimited(2, Array("2".utf8)))
            + lengthDelimited(Shapes.item, lengthDelimited(Shapes.itemName, Array("nome".utf8)))
            + lengthDelimited(Shapes.item, varintField(Shapes.itemCount, 3))
        let m = try BenchV1.CodecShapes(serializedBytes: wire)
        #expect(m.text == "second")
        #expect(m.rI32 == [5, -6, 7, 8])
        #expect(m.mText == ["k": "2"])
        #expect(m.item?.name == "nome")
        #expect(m.item?.count == 3)
    }

    @Test("unknown fields of every wire type are skipped")
    func unknownFields() throws {
        let wire = varintField(99, 1) + tag(100, 1) + [1, 2, 3, 4, 5, 6, 7, 8] + tag(101, 5) + [1, 2, 3, 4]
            + lengthDelimited(102, Array(repeating: 0xff, count: 64)) + lengthDelimited(Shapes.text, Array("ok".utf8))
        #expect(try BenchV1.CodecShapes(serializedBytes: wire).text == "ok")
        #expect(try BenchV1.TicketSample(serializedBytes: wire).id == "")
    }

    @Test("unknown enum values in repeated fields and maps decode to the zero value")
    func unknownEnums() throws {
        let wire = lengthDelimited(35, varint(1) + varint(99) + varint(2))
            + lengthDelimited(43, lengthDelimited(1, Array("k".utf8)) + varintField(2, 77))
        let m = try BenchV1.CodecShapes(serializedBytes: wire)
        #expect(m.rColor == [.red, .unspecified, .green])
        #expect(m.mColor == ["k": .unspecified])
    }

    @Test("every truncation of a valid encoding throws or decodes, never crashes")
    func truncations() {
        let bytes = everyShape().serializedBytes()
        var failures = 0
        for length in 0..<bytes.count {
            do { _ = try BenchV1.CodecShapes(serializedBytes: bytes[..<length]) } catch { failures += 1 }
        }
        #expect(failures > 0)
    }

    @Test("random mutations of a valid encoding throw or decode to something that re-encodes")
    func mutations() throws {
        let original = everyShape().serializedBytes()
        var state: UInt64 = 0x5eed
        func next() -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int(truncatingIfNeeded: (z ^ (z >> 31)) >> 1)
        }
        var decoded = 0
        for _ in 0..<5_000 {
            var bytes = original
            for _ in 0...(next() % 4) {
                let position = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.insert(UInt8(truncatingIfNeeded: next()), at: position)
                default: bytes.remove(at: position)
                }
            }
            guard let m = try? BenchV1.CodecShapes(serializedBytes: bytes) else { continue }
            decoded += 1
            let again = try BenchV1.CodecShapes(serializedBytes: m.serializedBytes())
            #expect(again.serializedSize() == m.serializedSize())
        }
        #expect(decoded > 0)
    }

    @Test("lengths that promise more than the input throw", arguments: [
        tag(Shapes.text, 2) + varint(UInt64(Int32.max)) + [0x61],
        tag(Shapes.text, 2) + varint(UInt64.max),
        tag(Shapes.rI32, 2) + varint(1 << 40) + [1, 2],
        tag(Shapes.item, 2) + varint(3) + tag(Shapes.itemName, 2) + varint(100),
        tag(Shapes.mText, 2) + varint(2) + tag(1, 2) + varint(50),
    ])
    func overlongLengths(bytes: [UInt8]) {
        #expect(throws: ProtoDecodingError.self) { try BenchV1.CodecShapes(serializedBytes: bytes) }
    }
}

@Suite("ProtoArena")
struct ProtoArenaTests {
    @Test("allocations are 8-byte aligned, disjoint and survive growing past the first block")
    func alignmentAndGrowth() {
        withUnsafeTemporaryAllocation(byteCount: 64, alignment: 16) { first in
            var arena = ProtoArena(firstBlock: first)
            var blocks: [(UnsafeMutableRawPointer, Int)] = []
            for size in [1, 3, 8, 13, 40, 2, 100, 5_000, 7, 3_000_000, 1, 64, 4_096, 9] {
                let p = arena.allocate(byteCount: size)
                #expect(Int(bitPattern: p) % 8 == 0)
                p.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: size), count: size)
                blocks.append((p, size))
            }
            for (p, size) in blocks {
                let bytes = UnsafeRawBufferPointer(start: p, count: size)
                #expect(bytes.allSatisfy { $0 == UInt8(truncatingIfNeeded: size) })
            }
        }
    }

    @Test("an arena without a first block allocates from the heap")
    func heapOnly() {
        var arena = ProtoArena()
        let p = arena.allocate(Int64.self, count: 1_000)
        p.initialize(repeating: 7, count: 1_000)
        #expect(p[999] == 7)
        _ = arena.allocate(byteCount: 0)
    }

    @Test("absurd sizes are refused instead of overflowing", arguments: [-1, -8, Int.min, Int.max, Int.max - 7, Int.max / 2])
    func absurdSizes(size: Int) {
        var arena = ProtoArena()
        #expect(arena.allocateIfPossible(byteCount: size) == nil)
        #expect(arena.allocateIfPossible(byteCount: 16) != nil)
    }

    @Test("strings are copied with their NUL; the empty string is protobuf-c's")
    func cStrings() {
        var arena = ProtoArena()
        #expect(arena.cString("") == cmessages_empty_string())
        let long = String(repeating: "ção", count: 100)
        for text in ["a", "olá", "🎫", long] {
            let p = arena.cString(text)
            #expect(String(cString: p) == text)
            #expect(strlen(p) == text.utf8.count)
        }
        let data = arena.binaryData([1, 2, 3])
        #expect(data.len == 3 && data.data[2] == 3)
        #expect(arena.binaryData([]).len == 0)
    }

    @Test("the unpack allocator hands out arena memory and ignores free")
    func unpackAllocator() {
        withUnsafeTemporaryAllocation(of: ProtoArena.self, capacity: 1) { storage in
            let arena = storage.baseAddress!
            arena.initialize(to: ProtoArena())
            defer { arena.deinitialize(count: 1) }
            let allocator = ProtoArena._unpackAllocator(arena)
            let a = allocator.alloc(allocator.allocator_data, 24)
            let b = allocator.alloc(allocator.allocator_data, 100_000)
            #expect(a != nil && b != nil && a != b)
            allocator.free(allocator.allocator_data, a)
            #expect(allocator.alloc(allocator.allocator_data, Int.max) == nil)
        }
    }
}
