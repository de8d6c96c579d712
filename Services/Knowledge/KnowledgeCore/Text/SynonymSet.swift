import Foundation

/// Groups of terms that mean the same, compiled to stem phrases for query expansion.
///
/// Each term is analysed like any text (`nota fiscal eletrônica` → `not fiscal eletron`), so a
/// group matches whatever inflection or accent the customer types. Expansion happens at query
/// time: editing a group takes effect at once, with no reindexing.
public struct SynonymSet: Sendable {
    /// A phrase of stems.
    public typealias Phrase = [String]
    private var groups: [[Phrase]] = []
    /// First stem → (group index, phrase), longest phrases first.
    private var byFirstStem: [String: [(group: Int, phrase: Phrase)]] = [:]

    /// Compiles `groups` (each a list of terms).
    public init(groups: [[String]]) {
        for terms in groups {
            var phrases: [Phrase] = []
            for term in terms {
                let phrase = TextAnalyzer.analyze(term).map(\.stem)
                if !phrase.isEmpty, !phrases.contains(phrase) { phrases.append(phrase) }
            }
            // A phrase containing another phrase of the group adds nothing but double counting
            // ("nota fiscal eletronica" matches only where "nota fiscal" does).
            phrases = phrases.filter { phrase in !phrases.contains { $0 != phrase && Self.contains(phrase, $0) } }
            guard phrases.count > 1 else { continue }
            let index = self.groups.count
            self.groups.append(phrases)
            for phrase in phrases { byFirstStem[phrase[0], default: []].append((index, phrase)) }
        }
        for key in byFirstStem.keys { byFirstStem[key]!.sort { $0.phrase.count > $1.phrase.count } }
    }

    static func contains(_ phrase: Phrase, _ part: Phrase) -> Bool {
        guard part.count <= phrase.count else { return false }
        return (0...(phrase.count - part.count)).contains { Array(phrase[$0..<($0 + part.count)]) == part }
    }

    /// The longest phrase of some group starting at `position` of `stems`: how many stems it
    /// covers and every phrase of its group (the alternatives). `nil` when none starts there.
    public func match(_ stems: [String], at position: Int) -> (length: Int, alternatives: [Phrase])? {
        guard let candidates = byFirstStem[stems[position]] else { return nil }
        var best: (length: Int, alternatives: [Phrase])?
        for candidate in candidates where position + candidate.phrase.count <= stems.count {
            guard Array(stems[position..<(position + candidate.phrase.count)]) == candidate.phrase else { continue }
            if best == nil || candidate.phrase.count > best!.length {
                best = (candidate.phrase.count, groups[candidate.group])
            } else if candidate.phrase.count == best!.length {
                best!.alternatives += groups[candidate.group].filter { !best!.alternatives.contains($0) }
            }
        }
        return best
    }
}
