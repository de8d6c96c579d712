import Synchronization
import Foundation
import Storage
import Testing

@Suite("RandomID: UUID text from the kernel's generator")
struct RandomIDTests {
    /// Parses like Foundation and checks the version nibble and the RFC variant bits.
    static func check(_ text: String, version: UInt8, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(text.count == 36, sourceLocation: sourceLocation)
        let parsed = UUID(uuidString: text)
        #expect(parsed != nil, "\(text)", sourceLocation: sourceLocation)
        guard let bytes = parsed?.uuid else { return }
        #expect(bytes.6 >> 4 == version >> 4, "\(text)", sourceLocation: sourceLocation)
        #expect(bytes.8 & 0xC0 == 0x80, "\(text)", sourceLocation: sourceLocation)
    }

    @Test("version 4 ids in Foundation's upper-case form (or lower case), valid and distinct, one by one or in a batch")
    func version4() {
        var seen = Set<String>()
        for _ in 0..<5_000 {
            let id = RandomID.uuid()
            Self.check(id, version: 0x40)
            #expect(id == id.uppercased())
            seen.insert(id)
        }
        let lower = RandomID.uuid(lowercase: true)
        Self.check(lower, version: 0x40)
        #expect(lower == lower.lowercased())
        let batch = RandomID.uuids(5_000)
        for id in batch.prefix(100) { Self.check(id, version: 0x40) }
        seen.formUnion(batch)
        #expect(seen.count == 10_000)
        #expect(RandomID.uuids(0).isEmpty)
    }

    @Test("single ids drawn by 8 threads at once from the bytes fetched ahead are valid and all distinct, across many refills")
    func concurrentSingleIDs() {
        let ids = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 8) { thread in
            var mine: [String] = []
            for index in 0..<4_000 {
                switch (thread + index) % 3 {
                case 0: mine.append(RandomID.uuid())
                case 1: mine.append(RandomID.timeOrdered())
                default: mine += RandomID.uuids(2)
                }
            }
            ids.withLock { $0 += mine }
        }
        let all = ids.withLock { $0 }
        #expect(Set(all).count == all.count)
        for id in all.prefix(2_000) { Self.check(id, version: Array(id.utf8)[14] == UInt8(ascii: "7") ? 0x70 : 0x40) }
    }

    @Test("version 7 ids carry their milliseconds in the first 48 bits, so later ids sort after earlier ones")
    func version7() throws {
        let ms: Int64 = 1_795_967_462_198
        let id = RandomID.timeOrdered(milliseconds: ms)
        Self.check(id, version: 0x70)
        #expect(id == id.lowercased())
        let hex = id.replacingOccurrences(of: "-", with: "").prefix(12)
        #expect(Int64(hex, radix: 16) == ms)
        let earlier = (0..<100).map { RandomID.timeOrdered(milliseconds: ms + Int64($0)) }
        #expect(earlier == earlier.sorted())
        #expect(Set(earlier).count == 100)
    }

    @Test("ids made one after another sort in the order they were made, within a millisecond too, while other threads make ids")
    func sameMillisecondOrder() throws {
        let others = Atomic<Bool>(false)
        let background = Thread {
            while !others.load(ordering: .relaxed) {
                _ = RandomID.timeOrdered(milliseconds: RandomID.nowMilliseconds())
                _ = RandomID.timeOrdered(milliseconds: RandomID.nowMilliseconds() - 5)  // a straggler's older clock reading
            }
        }
        background.start()
        defer { others.store(true, ordering: .relaxed) }
        // Thousands per millisecond between the two threads: counters overflow into the next millisecond too.
        // The clock is read under the sequence's lock: a thread descheduled for longer than 10 ms
        // between two ids (a loaded machine) keeps its order too.
        let made = (0..<20_000).map { _ in RandomID.timeOrdered() }
        let inOrder = made == made.sorted()
        #expect(inOrder)
        #expect(Set(made).count == made.count)
        for id in made.prefix(3) { Self.check(id, version: 0x70) }
        let milliseconds = Set(made.map { $0.prefix(13) })
        #expect(milliseconds.count < made.count / 4, "\(milliseconds.count) milliseconds")
        // A time given further back keeps its own millisecond.
        let backfill: Int64 = 1_700_000_000_000
        #expect(Int64(RandomID.timeOrdered(milliseconds: backfill).replacingOccurrences(of: "-", with: "").prefix(12), radix: 16) == backfill)
    }
}
