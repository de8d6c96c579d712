/// What a query asks for, independent of the engine: a list of concepts, each satisfied by any of
/// its alternatives (a stem, a stem phrase from a synonym group, or a prefix of the word being
/// typed). Engines compile it to their own syntax from these sanitised terms only (letters and
/// digits), so nothing the user typed ever reaches the engine as syntax.
public struct QueryPlan: Sendable, Equatable {
    public struct Concept: Sendable, Equatable {
        /// Stem phrases (one stem for a plain word).
        public var phrases: [[String]]
        /// Roughly how many articles match it (from the vocabulary).
        public var frequency: Int = 0
    }

    public var concepts: [Concept]
    /// Corrections applied, as `typed→indexed`.
    public var corrections: [String]

    /// Concepts frequent enough to match a large share of the base: left out of retrieval when
    /// rarer concepts exist (their weight in the ranking would be tiny anyway), so a query never
    /// ranks most of a large base.
    public var common: [Bool] = []

    public var isEmpty: Bool { concepts.isEmpty }

    /// The concepts retrieval uses, and whether every one must match (only common concepts).
    /// Concepts the vocabulary does not know (frequency 0) never displace common ones: they join
    /// the OR when rarer known concepts exist, and are left out of the all-common AND.
    public var retrieval: (concepts: [Concept], all: Bool) {
        let known = concepts.indices.filter { !common[$0] && concepts[$0].frequency > 0 }
        let commonOnes = concepts.indices.filter { common[$0] }
        if known.isEmpty && !commonOnes.isEmpty { return (commonOnes.map { concepts[$0] }, true) }
        let rare = concepts.indices.filter { !common[$0] }.map { concepts[$0] }
        return rare.isEmpty ? (concepts, true) : (rare, false)
    }

    /// Completions of the word being typed that a suggestion looks for.
    public static let maxCompletions = 6

    /// Longest query accepted, in characters.
    public static let maxLength = 500
    /// Concepts kept from a long query.
    public static let maxConcepts = 16

    /// Builds the plan for `text`.
    /// - Parameters:
    ///   - lastWordIsPartial: the user is still typing the last word (suggestions).
    ///   - publicOnly: correct typos only towards words of articles customers can read.
    ///   - documents: how many articles the base holds (a concept in more than 0.5% of them, and
    ///     in more than 100, is common).
    public static func build(_ text: String, synonyms: SynonymSet, vocabulary: Vocabulary,
                             lastWordIsPartial: Bool = false, publicOnly: Bool, documents: Int = 0) -> QueryPlan {
        // Single letters carry nothing to search for ("boleto n" while "nosso" is being typed).
        var words = TextAnalyzer.analyze(text).filter { $0.word.utf8.count > 1 || $0.word.utf8.first.map { $0 >= 48 && $0 <= 57 } == true }
        var corrections: [String] = []
        var partial: String?
        if lastWordIsPartial, let last = words.last, let lastScalar = text.unicodeScalars.last,
           TextAnalyzer.fold(lastScalar) != nil {
            partial = last.word
        }
        for index in words.indices {
            let word = words[index]
            let isPartial = partial != nil && index == words.count - 1
            if vocabulary.knows(word: word.word, stem: word.stem, publicOnly: publicOnly) { continue }
            if isPartial && vocabulary.hasPrefix(word.word, publicOnly: publicOnly) { continue }
            if let corrected = vocabulary.correction(for: word.word, publicOnly: publicOnly) {
                corrections.append("\(word.word)→\(corrected)")
                words[index] = AnalyzedWord(word: corrected, stem: TextAnalyzer.stem(corrected))
                if isPartial { partial = nil }
            }
        }
        let stems = words.map(\.stem)
        var concepts: [Concept] = []
        var position = 0
        while position < stems.count, concepts.count < maxConcepts {
            let isLast = position == stems.count - 1
            var concept: Concept
            if let match = synonyms.match(stems, at: position) {
                concept = Concept(phrases: match.alternatives)
                position += match.length
            } else {
                concept = Concept(phrases: [[stems[position]]])
                position += 1
            }
            if isLast, let partial, partial.utf8.count >= 3 {
                // The word being typed: its own stem plus the commonest indexed words it starts.
                for word in vocabulary.completions(of: partial, publicOnly: publicOnly, limit: maxCompletions) {
                    let stem = [TextAnalyzer.stem(word)]
                    if !concept.phrases.contains(stem) { concept.phrases.append(stem) }
                }
            }
            concept.frequency = concept.phrases.reduce(0) { total, phrase in
                total + (phrase.map { vocabulary.frequency(stem: $0, publicOnly: publicOnly) }.min() ?? 0)
            }
            if !concepts.contains(concept) { concepts.append(concept) }
        }
        let threshold = max(100, documents / 200)
        var plan = QueryPlan(concepts: concepts, corrections: corrections)
        plan.common = concepts.map { $0.frequency > threshold }
        return plan
    }
}
