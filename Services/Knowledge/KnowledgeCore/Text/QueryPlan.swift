/// What a query asks for, independent of the engine: a list of concepts, each satisfied by any of
/// its alternatives (a stem, a stem phrase from a synonym group, or a prefix of the word being
/// typed). Engines compile it to their own syntax from these sanitised terms only (letters and
/// digits), so nothing the user typed ever reaches the engine as syntax.
public struct QueryPlan: Sendable, Equatable {
    public struct Concept: Sendable, Equatable {
        /// Stem phrases (one stem for a plain word).
        public var phrases: [[String]]
        /// A folded prefix to match as `prefix*` (the incomplete last word of a suggestion).
        public var prefix: String?
    }

    public var concepts: [Concept]
    /// Corrections applied, as `typed→indexed`.
    public var corrections: [String]

    public var isEmpty: Bool { concepts.isEmpty }

    /// Longest query accepted, in characters.
    public static let maxLength = 500
    /// Concepts kept from a long query.
    public static let maxConcepts = 16

    /// Builds the plan for `text`.
    /// - Parameters:
    ///   - lastWordIsPartial: the user is still typing the last word (suggestions).
    ///   - publicOnly: correct typos only towards words of articles customers can read.
    public static func build(_ text: String, synonyms: SynonymSet, vocabulary: Vocabulary,
                             lastWordIsPartial: Bool = false, publicOnly: Bool) -> QueryPlan {
        var words = TextAnalyzer.analyze(text)
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
            if let match = synonyms.match(stems, at: position) {
                var concept = Concept(phrases: match.alternatives, prefix: nil)
                if isLast, let partial, partial.utf8.count >= 3 { concept.prefix = partial }
                concepts.append(concept)
                position += match.length
                continue
            }
            var concept = Concept(phrases: [[stems[position]]], prefix: nil)
            if isLast, let partial, partial.utf8.count >= 2 { concept.prefix = partial }
            if !concepts.contains(concept) { concepts.append(concept) }
            position += 1
        }
        return QueryPlan(concepts: concepts, corrections: corrections)
    }
}
