import Messages
import Testing
import TestSupport

// The two shortcuts of the codec's hot path (docs/CODEC.md): packing without asking protobuf-c for
// the size first (safe only if `ProtoArena.packedSizeBound` never underestimates), and making
// strings from UTF-8 checked by `_ProtoRuntime.isWellFormedUTF8` without the standard library
// validating them again (safe only if that check never accepts malformed UTF-8).


/// A random value of every field shape, with extreme numbers (10-byte varints, negative enums
/// are impossible in Swift, so the largest raw values) and strings of random lengths.
private func randomShapes(_ random: inout SplitMix64) -> BenchV1.CodecShapes {
    func text(_ random: inout SplitMix64) -> String {
        let pieces = ["", "a", "ç", "🎫", "ocorrência ", String(repeating: "x", count: 17)]
        return (0..<random.below(6)).map { _ in pieces[random.below(pieces.count)] }.joined()
    }
    func bytes(_ random: inout SplitMix64) -> [UInt8] { (0..<random.below(40)).map { _ in UInt8(truncatingIfNeeded: random.next()) } }
    func leaf(_ random: inout SplitMix64) -> BenchV1.CodecShapes.Leaf { var l = BenchV1.CodecShapes.Leaf(); l.name = text(&random); return l }
    func item(_ random: inout SplitMix64) -> BenchV1.CodecShapes.Item {
        var i = BenchV1.CodecShapes.Item()
        i.name = text(&random)
        i.count = random.flag() ? .min : Int32(truncatingIfNeeded: random.next())
        i.blob = bytes(&random)
        i.leaves = (0..<random.below(3)).map { _ in leaf(&random) }
        i.leaf = random.flag() ? leaf(&random) : nil
        return i
    }
    let colors = BenchV1.CodecShapes.Color.allCases
    var m = BenchV1.CodecShapes()
    m.i32 = random.flag() ? .min : -1
    m.i64 = .min
    m.u32 = .max
    m.u64 = .max
    m.s32 = .min
    m.s64 = .min
    m.f32 = .max
    m.f64 = .max
    m.sf32 = -1
    m.sf64 = .min
    m.fl = -.infinity
    m.db = -.greatestFiniteMagnitude
    m.flag = random.flag()
    m.text = text(&random)
    m.blob = bytes(&random)
    m.color = colors[random.below(colors.count)]
    m.item = random.flag() ? item(&random) : nil
    let n = random.below(5)
    m.rI32 = Array(repeating: .min, count: n)
    m.rI64 = Array(repeating: .min, count: n)
    m.rU32 = Array(repeating: .max, count: n)
    m.rU64 = Array(repeating: .max, count: n)
    m.rS32 = Array(repeating: .min, count: n)
    m.rS64 = Array(repeating: .min, count: n)
    m.rF32 = Array(repeating: .max, count: n)
    m.rF64 = Array(repeating: .max, count: n)
    m.rSf32 = Array(repeating: .min, count: n)
    m.rSf64 = Array(repeating: .min, count: n)
    m.rFl = Array(repeating: 1.5, count: n)
    m.rDb = Array(repeating: -2.5, count: n)
    m.rFlag = Array(repeating: true, count: n)
    m.rText = (0..<n).map { _ in text(&random) }
    m.rBlob = (0..<n).map { _ in bytes(&random) }
    m.rColor = (0..<n).map { _ in colors[random.below(colors.count)] }
    m.rItem = (0..<random.below(3)).map { _ in item(&random) }
    for _ in 0..<random.below(4) {
        m.mText[text(&random)] = text(&random)
        m.mI32[random.flag() ? .min : Int32(truncatingIfNeeded: random.next())] = text(&random)
        m.mItem[random.next()] = item(&random)
        m.mColor[text(&random)] = colors[random.below(colors.count)]
        m.mBlob[random.flag()] = bytes(&random)
        m.mDb[.min + Int64(random.below(3))] = -1
    }
    switch random.below(6) {
    case 0: m.choice = .cText(text(&random))
    case 1: m.choice = .cItem(item(&random))
    case 2: m.choice = .cColor(colors[random.below(colors.count)])
    case 3: m.choice = .cBlob(bytes(&random))
    case 4: m.choice = .cDb(.infinity)
    default: m.choice = nil
    }
    m.optText = random.flag() ? text(&random) : nil
    m.optItem = random.flag() ? item(&random) : nil
    return m
}

@Suite("Codec: packing without protobuf_c_message_get_packed_size")
struct CodecPackedSizeBoundTests {
    @Test("the bound is never below the exact size, for 2 000 random values of every shape")
    func boundCoversRandomValues() throws {
        var random = SplitMix64(state: 0xB0B)
        var fastPath = 0
        for _ in 0..<2_000 {
            let m = randomShapes(&random)
            let size = m.serializedSize()
            let bound = m._serializedSizeBound()
            #expect(bound >= size)
            if bound <= 1024 { fastPath += 1 }
            let bytes = m.serializedBytes()
            #expect(bytes.count == size)
            #expect(try BenchV1.CodecShapes(serializedBytes: bytes) == m)
            var prefixed: [UInt8] = [9]
            #expect(m.appendLengthPrefixed(to: &prefixed) == size)
            #expect(Array(prefixed[5...]) == bytes)
        }
        #expect(fastPath > 10)  // both paths were taken
    }

    @Test("the bound covers the worst case of each field on its own")
    func boundCoversEachField() {
        var m = BenchV1.CodecShapes()
        m.i32 = -1  // 10-byte varint
        #expect(m._serializedSizeBound() >= m.serializedSize())
        var r = BenchV1.CodecShapes()
        r.rI32 = Array(repeating: -1, count: 100)  // 1 000 bytes packed from 400 bytes of C
        #expect(r._serializedSizeBound() >= r.serializedSize())
        var e = BenchV1.CodecShapes()
        e.rItem = Array(repeating: BenchV1.CodecShapes.Item(), count: 50)  // 2 bytes each from empty structs
        e.mItem = Dictionary(uniqueKeysWithValues: (0..<50).map { (UInt64.max - UInt64($0), BenchV1.CodecShapes.Item()) })
        #expect(e._serializedSizeBound() >= e.serializedSize())
    }

    @Test("the typical ticket takes the fast path")
    func ticketFits() {
        var t = BenchV1.TicketSample()
        t.id = "6f1c2a9e-0b7d-4c2e-9a51-3d8e2f4b7c10"
        t.subject = "Erro na emissão da NF-e após atualização"
        t.request = String(repeating: "texto ", count: 20)
        t.customFields = ["versao": "12.1.2310"]
        t.tags = ["nfe"]
        #expect(t._serializedSizeBound() <= 1024)
        #expect(t._serializedSizeBound() >= t.serializedSize())
    }
}

/// Whether the standard library accepts `bytes` as UTF-8.
private func referenceValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

private func check(_ bytes: UnsafeBufferPointer<UInt8>) -> _ProtoRuntime.UTF8Check {
    bytes.count == 0 ? .ascii : _ProtoRuntime.isWellFormedUTF8(bytes.baseAddress!, count: bytes.count)
}

/// `check` agrees with the standard library on `bytes`, and says ASCII exactly when it is.
private func agrees(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
    switch check(bytes) {
    case .invalid: return !referenceValid(bytes)
    case .ascii: return referenceValid(bytes) && bytes.allSatisfy { $0 < 0x80 }
    case .nonASCII: return referenceValid(bytes) && bytes.contains { $0 >= 0x80 }
    }
}

@Suite("Codec: UTF-8 check of decoded strings")
struct CodecUTF8CheckTests {
    @Test("every sequence of one and two bytes, and every three-byte sequence with a three-byte lead")
    func exhaustiveShort() {
        var disagreements = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 3) { buffer in
            for a in 0..<256 {
                buffer[0] = UInt8(a)
                if !agrees(UnsafeBufferPointer(rebasing: buffer[..<1])) { disagreements += 1 }
                for b in 0..<256 {
                    buffer[1] = UInt8(b)
                    if !agrees(UnsafeBufferPointer(rebasing: buffer[..<2])) { disagreements += 1 }
                    guard a >= 0xE0 && a < 0xF0 else { continue }
                    for c in 0..<256 {
                        buffer[2] = UInt8(c)
                        if !agrees(UnsafeBufferPointer(rebasing: buffer[..<3])) { disagreements += 1 }
                    }
                }
            }
        }
        #expect(disagreements == 0)
    }

    @Test("four-byte sequences: every lead and second byte, boundary values of the others")
    func fourBytes() {
        let edges: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE0, 0xF0, 0xF4, 0xF5, 0xFF]
        var disagreements = 0
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4) { buffer in
            for a in 0xF0...0xFF {
                for b in 0..<256 {
                    for c in edges {
                        for d in edges {
                            buffer[0] = UInt8(a); buffer[1] = UInt8(b); buffer[2] = c; buffer[3] = d
                            if !agrees(UnsafeBufferPointer(buffer)) { disagreements += 1 }
                        }
                    }
                }
            }
        }
        #expect(disagreements == 0)
    }

    @Test("random mixes of ASCII, valid sequences and stray bytes, at every offset and length")
    func randomMixes() {
        let pieces: [[UInt8]] = [[0x61], [0x7F], Array("ç".utf8), Array("ã".utf8), Array("€".utf8), Array("🎫".utf8),
                                 [0x80], [0xBF], [0xC0], [0xC1], [0xC3], [0xE0, 0x80], [0xED, 0xA0, 0x80], [0xEF, 0xBF],
                                 [0xF4, 0x90, 0x80, 0x80], [0xF8], [0xFF], Array("0123456789abcdef".utf8)]
        var random = SplitMix64(state: 42)
        var disagreements = 0
        for _ in 0..<50_000 {
            var bytes: [UInt8] = []
            for _ in 0..<random.below(12) {
                // Mostly valid pieces, so that long valid strings with a late error are common.
                let piece = random.below(10) < 7 ? pieces[[0, 1, 2, 3, 4, 5, 17][random.below(7)]] : pieces[random.below(pieces.count)]
                bytes += piece
            }
            if !bytes.withUnsafeBufferPointer(agrees) { disagreements += 1 }
        }
        #expect(disagreements == 0)
    }

    @Test("decoded strings equal the standard library's, with the same ASCII-ness and character count")
    func decodedStrings() throws {
        var random = SplitMix64(state: 7)
        let alphabet: [[UInt8]] = [[0x61], [0x20], Array("é".utf8), Array("🎫".utf8), [0xFF], [0xC3], [0xE2, 0x82]]
        for length in 0..<200 {
            var raw: [UInt8] = []
            while raw.count < length { raw += alphabet[random.below(random.below(4) == 0 ? alphabet.count : 4)] }
            var wire: [UInt8] = [0x72]  // field 14 (text), length-delimited
            var n = raw.count
            repeat { wire.append(UInt8(n & 0x7F) | (n > 0x7F ? 0x80 : 0)); n >>= 7 } while n > 0
            wire += raw
            let decoded = try BenchV1.CodecShapes(serializedBytes: wire).text
            let expected = String(decoding: raw, as: UTF8.self)
            #expect(decoded == expected)
            #expect(Array(decoded.utf8) == Array(expected.utf8))
            #expect(decoded.count == expected.count)
            #expect(decoded.unicodeScalars.count == expected.unicodeScalars.count)
            #expect(decoded.uppercased() == expected.uppercased())
        }
    }
}
