import Foundation
import Testing
import WorkflowCore

/// SearchText's words without Foundation (ASCII and Portuguese accented letters) must equal
/// Foundation's folding, which the rest of the text still takes.
@Suite("Search text: the fast path folds like Foundation")
struct SearchTextTests {
    /// The words as Foundation's folding gives them (the reference).
    func reference(_ text: String) -> [String] {
        SearchText.normalize(text).split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
    }

    @Test("every Latin-1 character, alone and inside words, and typical ticket text")
    func sameWords() {
        var samples = [
            "Nota fiscal não transmite", "AÇÃO: emissão da NF-e (erro 539) — rejeição!", "Conceição São João, ÁÉÍÓÚ âêô ãõ à ü ç",
            "relatório\tnão abre\r\nno módulo Fiscal/SPED", "  espaços   e pontuação... ", "", "123 456-789", "e\u{301}xito combinado",
            "nº 12 ª via", "Straße Œuvre æther", "preço R$ 1.234,56", "emoji 🚀 no assunto", "Ação\u{00A0}não", "ÿŸ",
        ]
        for value in 0x20...0xFF {
            let character = String(UnicodeScalar(UInt8(value)))
            samples += [character, "a\(character)b", "X\(character) \(character)Y", "\(character)\(character)"]
        }
        for sample in samples {
            #expect(SearchText.words(sample) == reference(sample), "\(sample.unicodeScalars.map { String($0.value, radix: 16) })")
            #expect(SearchText.indexText(sample) == reference(sample).joined(separator: " "))
        }
    }
}
