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
        if let words = latinWords(text) { return words }
        return normalize(text).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    /// ``words(_:)`` without Foundation for text made of ASCII and the accented Latin-1 letters
    /// Portuguese uses (each folds to one ASCII letter: "Ç" → "c", "ã" → "a"); `nil` for any
    /// other character, which takes Foundation's folding (same result, about ten times the cost).
    static func latinWords(_ text: String) -> [String]? {
        var words: [String] = []
        var word: [UInt8] = []
        func flush() {
            if !word.isEmpty { words.append(String(decoding: word, as: UTF8.self)); word.removeAll(keepingCapacity: true) }
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                let byte = UInt8(value)
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): word.append(byte)
                case UInt8(ascii: "A")...UInt8(ascii: "Z"): word.append(byte + 32)
                default: flush()
                }
            } else if value >= 0xC0 && value <= 0xFF, let folded = latin1Folding[Int(value - 0xC0)] {
                word.append(folded)
            } else {
                return nil
            }
        }
        flush()
        return words
    }

    /// U+00C0...U+00FF folded (accent and case removed) to an ASCII letter; `nil` where the
    /// character is not a letter with a canonical decomposition onto one (Æ, Ð, ×, Ø, Þ, ß, ...).
    private static let latin1Folding: [UInt8?] = {
        let table: [Character: Character] = [
            "À": "a", "Á": "a", "Â": "a", "Ã": "a", "Ä": "a", "Å": "a", "Ç": "c", "È": "e", "É": "e", "Ê": "e", "Ë": "e",
            "Ì": "i", "Í": "i", "Î": "i", "Ï": "i", "Ñ": "n", "Ò": "o", "Ó": "o", "Ô": "o", "Õ": "o", "Ö": "o",
            "Ù": "u", "Ú": "u", "Û": "u", "Ü": "u", "Ý": "y",
            "à": "a", "á": "a", "â": "a", "ã": "a", "ä": "a", "å": "a", "ç": "c", "è": "e", "é": "e", "ê": "e", "ë": "e",
            "ì": "i", "í": "i", "î": "i", "ï": "i", "ñ": "n", "ò": "o", "ó": "o", "ô": "o", "õ": "o", "ö": "o",
            "ù": "u", "ú": "u", "û": "u", "ü": "u", "ý": "y", "ÿ": "y",
        ]
        var folding = [UInt8?](repeating: nil, count: 0x40)
        for (from, to) in table { folding[Int(from.unicodeScalars.first!.value - 0xC0)] = to.asciiValue }
        return folding
    }()

    /// Words that say little about a subject ("tickets with the same subject").
    static let stopWords: Set<String> = ["a", "o", "as", "os", "de", "da", "do", "das", "dos", "e", "em", "no", "na", "nos", "nas",
                                         "um", "uma", "para", "por", "com", "sem", "que", "nao", "ao", "se", "the", "of", "and", "to", "in"]

    /// The significant words of a subject.
    public static func significantWords(_ text: String) -> [String] {
        var seen = Set<String>()
        return words(text).filter { $0.count >= 3 && !stopWords.contains($0) && seen.insert($0).inserted }
    }
}
