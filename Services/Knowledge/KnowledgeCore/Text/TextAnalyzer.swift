/// One word of analysed text: the folded surface form and its stem.
public struct AnalyzedWord: Sendable, Hashable {
    /// Lower case, accents removed: `emissão` → `emissao`.
    public var word: String
    /// Snowball Portuguese stem of the folded word: `emissao` → `emissa`.
    public var stem: String
}

/// Brazilian Portuguese text analysis shared by both search engines, so the index and the
/// queries see the same terms whichever engine stores them.
///
/// Steps: lower-casing and accent folding (`Emissão` → `emissao`), tokenising on anything that
/// is not a letter or digit (so quotes, `*`, `-`, parentheses, NUL are separators, never query
/// syntax), joining fiscal document abbreviations written with a hyphen (`NF-e` → `nfe`, `CT-e`
/// → `cte`), removing stop words, and Snowball stemming (libstemmer). Stemming always runs on
/// the folded word, after restoring the accents of the commonest suffixes (`acao` → `ação`), so
/// a query typed without accents gets exactly the stems of the accented text.
///
/// ```swift
/// TextAnalyzer.analyze("Não consigo emitir a NF-e").map(\.stem)   // ["consig", "emit", "nfe"]
/// ```
public enum TextAnalyzer {
    /// Longest word kept (longer runs are cut): bounds the work on hostile input.
    public static let maxWordLength = 40

    /// Folded words of `text`, stop words included.
    public static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current: [UInt8] = []
        var scalars = Array(text.unicodeScalars)
        scalars.append(" ")
        var index = 0
        func flush() {
            if !current.isEmpty {
                words.append(String(decoding: current.prefix(maxWordLength), as: UTF8.self))
                current.removeAll(keepingCapacity: true)
            }
        }
        while index < scalars.count {
            let scalar = scalars[index]
            if let folded = fold(scalar) {
                current.append(contentsOf: folded)
            } else if scalar == "-", !current.isEmpty, index + 2 < scalars.count,
                      let next = fold(scalars[index + 1]), next.count == 1, next[0] >= 97,
                      fold(scalars[index + 2]) == nil {
                // "nf-e", "ct-e", "mdf-e": one letter after a hyphen belongs to the word.
                current.append(contentsOf: next)
                index += 1
            } else {
                flush()
            }
            index += 1
        }
        return words
    }

    /// Words and stems of `text` without stop words.
    public static func analyze(_ text: String) -> [AnalyzedWord] {
        words(text).compactMap { word in
            StopWords.portuguese.contains(word) ? nil : AnalyzedWord(word: word, stem: stem(word))
        }
    }

    /// Version of what ``stem(_:)`` and ``indexText(_:)`` produce. Stems are stored with each
    /// article (`index_title`, `index_body`): when this changes, the stored ones are analysed
    /// again at start (``Reanalysis``). 2: plurals Snowball left apart from their singular.
    public static let version: Int64 = 2

    /// The stem of a folded word. Plurals Snowball leaves apart from their singular are brought to
    /// it first (``singular(_:)``), so `emissões`, `notas fiscais`, `erros` and `XMLs` find
    /// `emissão`, `nota fiscal`, `erro` and `XML`.
    public static func stem(_ word: String) -> String {
        guard word.utf8.count > 2, !word.utf8.contains(where: { $0 >= 48 && $0 <= 57 }) else { return word }
        let singular = singular(word)
        let stemmed = snowball(singular)
        // A short word Snowball leaves whole keeps its plural "s" ("erros", "anos", "xmls",
        // "logins"): its singular's stem instead. Not "-ss", "-is", "-us" (país, vírus), not
        // three letters (mês/meses already meet).
        if stemmed == word, word.utf8.count >= 4, word.hasSuffix("s"),
           !word.hasSuffix("ss"), !word.hasSuffix("is"), !word.hasSuffix("us") {
            return snowball(String(word.dropLast()))
        }
        return stemmed
    }

    private static func snowball(_ word: String) -> String {
        let stemmed = PortugueseStemmer.shared.stem(restoreAccents(word))
        return String(decoding: stemmed.unicodeScalars.flatMap { fold($0) ?? [] }, as: UTF8.self)
    }

    /// The singular of the folded plurals whose stem Snowball leaves apart from the singular's:
    /// `-ões` → `-ão` (emissões, botões, padrões), `-ais` → `-al` (fiscais, mensais, reais),
    /// `-eis` → `-el` (papéis, níveis, disponíveis) or `-il` (úteis, fáceis, portáteis),
    /// `-ens`/`-ons` → `-em`/`-om` (itens, ordens, mensagens, cupons). Anything else as it is.
    static func singular(_ word: String) -> String {
        let count = word.utf8.count
        guard count >= 4 else { return word }
        if count >= 5 && word.hasSuffix("oes") { return word.dropLast(3) + "ao" }
        if count >= 5 && word.hasSuffix("ais") { return word.dropLast(3) + "al" }
        if count >= 5 && word.hasSuffix("eis") {
            let il = word.hasSuffix("uteis") || word.hasSuffix("ateis") || word.hasSuffix("ceis")
            return word.dropLast(3) + (il ? "il" : "el")
        }
        if word.hasSuffix("ens") || word.hasSuffix("ons") { return word.dropLast(2) + "m" }
        return word
    }

    /// The text stored in the index: stems separated by spaces.
    public static func indexText(_ text: String) -> String {
        analyze(text).map(\.stem).joined(separator: " ")
    }

    /// Lower-cased, accent-free ASCII bytes of a letter or digit; `nil` for anything else.
    /// Letters outside Latin are kept lower-cased as they are.
    static func fold(_ scalar: Unicode.Scalar) -> [UInt8]? {
        let value = scalar.value
        switch value {
        case 0x30...0x39, 0x61...0x7A: return [UInt8(value)]
        case 0x41...0x5A: return [UInt8(value + 32)]
        case 0...0x7F: return nil
        default: break
        }
        if let mapped = latin[value] { return Array(mapped.utf8) }
        guard scalar.properties.isAlphabetic || scalar.properties.numericType != nil else { return nil }
        if scalar.properties.generalCategory == .nonspacingMark { return [] }
        return Array(scalar.properties.lowercaseMapping.utf8)
    }

    private static let latin: [UInt32: String] = {
        var table: [UInt32: String] = [:]
        let groups: [(String, String)] = [
            ("ÀÁÂÃÄÅàáâãäåĀāĂăĄą", "a"), ("ÇçĆćĈĉĊċČč", "c"), ("ÈÉÊËèéêëĒēĔĕĖėĘęĚě", "e"),
            ("ÌÍÎÏìíîïĨĩĪīĬĭĮįİı", "i"), ("ÑñŃńŅņŇň", "n"), ("ÒÓÔÕÖØòóôõöøŌōŎŏŐő", "o"),
            ("ÙÚÛÜùúûüŨũŪūŬŭŮůŰűŲų", "u"), ("ÝýÿŸ", "y"), ("ŠšŚśŞş", "s"), ("ŽžŹźŻż", "z"),
            ("ÐðĎď", "d"), ("ĞğĜĝĠġĢģ", "g"), ("ĹĺĻļĽľŁł", "l"), ("ŔŕŘř", "r"), ("ŢţŤť", "t"),
        ]
        for (letters, base) in groups { for scalar in letters.unicodeScalars { table[scalar.value] = base } }
        table[0xDF] = "ss"; table[0xC6] = "ae"; table[0xE6] = "ae"; table[0x152] = "oe"; table[0x153] = "oe"
        table[0xAA] = "a"; table[0xBA] = "o"
        return table
    }()

    /// Accents of common Portuguese suffixes, restored before stemming (the Snowball rules are
    /// written for accented text): `emissao` → `emissão`, `configuracao` → `configuração`.
    private static let suffixes: [(String, String)] = [
        ("coes", "ções"), ("cao", "ção"), ("soes", "sões"), ("sao", "são"), ("encias", "ências"), ("encia", "ência"),
        ("ancias", "âncias"), ("ancia", "ância"), ("avel", "ável"), ("ivel", "ível"), ("oes", "ões"), ("ao", "ão"),
    ]

    static func restoreAccents(_ word: String) -> String {
        for (plain, accented) in suffixes where word.count >= plain.count + 3 && word.hasSuffix(plain) {
            return String(word.dropLast(plain.count)) + accented
        }
        return word
    }
}
