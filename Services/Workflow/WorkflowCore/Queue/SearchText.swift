import Foundation

/// How searchable text is kept and matched: lower case without accents, so "Nota Fiscal" and
/// "nota fiscal" and "NOTA FÍSCAL" match alike on both engines (see ``TextIndex``).
public enum SearchText {
    /// Lower case, accents removed, whitespace collapsed.
    public static func normalize(_ text: String) -> String {
        let folded = text.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: Locale(identifier: "pt_BR")).lowercased()
        return folded.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The form kept in `ticket_search` and indexed: the words of `text`, normalized, separated by
    /// single spaces (punctuation dropped, so both engines' tokenizers see the same words).
    public static func indexText(_ text: String) -> String {
        words(text).joined(separator: " ")
    }

    /// Words of a query (normalized, punctuation dropped).
    public static func words(_ text: String) -> [String] {
        normalize(text).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    /// Words that say little about a subject ("tickets with the same subject").
    static let stopWords: Set<String> = ["a", "o", "as", "os", "de", "da", "do", "das", "dos", "e", "em", "no", "na", "nos", "nas",
                                         "um", "uma", "para", "por", "com", "sem", "que", "nao", "ao", "se", "the", "of", "and", "to", "in"]

    /// The significant words of a subject.
    public static func significantWords(_ text: String) -> [String] {
        var seen = Set<String>()
        return words(text).filter { $0.count >= 3 && !stopWords.contains($0) && seen.insert($0).inserted }
    }
}
