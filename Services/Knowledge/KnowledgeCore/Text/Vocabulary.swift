/// The indexed words with their document frequencies, and typo correction against them.
///
/// Correction uses a symmetric-delete index (the SymSpell idea): every word is stored under
/// itself and each of its one-letter deletions; a typed word looks up itself and its deletions,
/// which finds every word within one edit, including a swap of neighbouring letters (`boleot` →
/// `boleto`), and many within two. Candidates are then checked with the Damerau–Levenshtein
/// distance: at most 1 for words of 4–5 letters, 2 from 6 letters on.
///
/// Two frequencies are kept per word: over every indexed article, and over articles customers
/// may read, so a customer's query is never corrected towards a word only internal articles use.
public struct Vocabulary: Sendable {
    public struct Entry: Sendable {
        public var word: String
        public var documents: Int
        public var publicDocuments: Int
    }

    private var entries: [Entry] = []
    private var byWord: [String: Int] = [:]
    private var deletes: [String: [Int32]] = [:]
    /// Per stem, the largest document frequency of its words (all articles, public ones).
    private var stemFrequency: [String: (all: Int, pub: Int)] = [:]
    /// Words in sorted order, for prefix lookups.
    private var sorted: [Int32] = []

    public init(_ entries: [Entry] = []) {
        self.entries = entries
        for (index, entry) in entries.enumerated() {
            byWord[entry.word] = index
            let stem = TextAnalyzer.stem(entry.word)
            let known = stemFrequency[stem] ?? (0, 0)
            stemFrequency[stem] = (max(known.all, entry.documents), max(known.pub, entry.publicDocuments))
            let bytes = Array(entry.word.utf8)
            guard bytes.count >= 4 else { continue }
            deletes[entry.word, default: []].append(Int32(index))
            for position in bytes.indices {
                var deleted = bytes
                deleted.remove(at: position)
                deletes[String(decoding: deleted, as: UTF8.self), default: []].append(Int32(index))
            }
        }
        sorted = entries.indices.sorted { entries[$0].word < entries[$1].word }.map(Int32.init)
    }

    public var count: Int { entries.count }

    /// Whether the word, or another word with its stem, is in articles `scope` can read.
    public func knows(word: String, stem: String, publicOnly: Bool) -> Bool {
        if let index = byWord[word], frequency(entries[index], publicOnly) > 0 { return true }
        return frequency(stem: stem, publicOnly: publicOnly) > 0
    }

    /// Roughly how many articles visible to the scope contain `stem` (the most frequent of its words).
    public func frequency(stem: String, publicOnly: Bool) -> Int {
        guard let known = stemFrequency[stem] else { return 0 }
        return publicOnly ? known.pub : known.all
    }

    /// The most frequent words visible to the scope that start with `prefix`, at most `limit`.
    public func completions(of prefix: String, publicOnly: Bool, limit: Int) -> [String] {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if entries[Int(sorted[middle])].word < prefix { low = middle + 1 } else { high = middle }
        }
        var found: [(String, Int)] = []
        var index = low
        while index < sorted.count, index < low + 5_000 {
            let entry = entries[Int(sorted[index])]
            guard entry.word.hasPrefix(prefix) else { break }
            let count = frequency(entry, publicOnly)
            if count > 0 { found.append((entry.word, count)) }
            index += 1
        }
        return found.sorted { ($0.1, $1.0) > ($1.1, $0.0) }.prefix(limit).map(\.0)
    }

    /// Whether some word visible to the scope starts with `prefix`.
    public func hasPrefix(_ prefix: String, publicOnly: Bool) -> Bool {
        var low = 0, high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if entries[Int(sorted[middle])].word < prefix { low = middle + 1 } else { high = middle }
        }
        var index = low
        while index < sorted.count, index < low + 64 {
            let entry = entries[Int(sorted[index])]
            guard entry.word.hasPrefix(prefix) else { return false }
            if frequency(entry, publicOnly) > 0 { return true }
            index += 1
        }
        return false
    }

    /// The most frequent word within the allowed distance of `word`, or `nil`. A word with a
    /// digit is a code (CFOP `5101`, NCM, rejection `5390`, version `2410`, `a3`): one digit apart
    /// is another code, never a typo, so it is not corrected.
    public func correction(for word: String, publicOnly: Bool) -> String? {
        let bytes = Array(word.utf8)
        guard bytes.count >= 4, bytes.count <= TextAnalyzer.maxWordLength, !bytes.contains(where: { $0 >= 48 && $0 <= 57 }) else { return nil }
        let allowed = bytes.count >= 6 ? 2 : 1
        var keys = [word]
        for position in bytes.indices {
            var deleted = bytes
            deleted.remove(at: position)
            keys.append(String(decoding: deleted, as: UTF8.self))
        }
        var best: (distance: Int, frequency: Int, word: String)?
        var seen = Set<Int32>()
        for key in keys {
            for index in deletes[key] ?? [] where seen.insert(index).inserted {
                let entry = entries[Int(index)]
                let frequency = frequency(entry, publicOnly)
                guard frequency > 0, entry.word != word else { continue }
                let distance = Self.distance(bytes, Array(entry.word.utf8), limit: allowed)
                guard distance <= allowed else { continue }
                if best == nil || distance < best!.distance || (distance == best!.distance && frequency > best!.frequency) {
                    best = (distance, frequency, entry.word)
                }
            }
        }
        return best?.word
    }

    private func frequency(_ entry: Entry, _ publicOnly: Bool) -> Int {
        publicOnly ? entry.publicDocuments : entry.documents
    }

    /// Optimal string alignment distance (Levenshtein plus swaps of neighbours), stopping early
    /// past `limit`.
    static func distance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
        if abs(a.count - b.count) > limit { return limit + 1 }
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            var rowMinimum = current[0]
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                var value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] { value = min(value, previous2[j - 2] + 1) }
                current[j] = value
                rowMinimum = min(rowMinimum, value)
            }
            if rowMinimum > limit { return limit + 1 }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }
}
