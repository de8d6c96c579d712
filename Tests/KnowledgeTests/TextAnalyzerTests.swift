import Testing
@testable import KnowledgeCore

@Suite("Portuguese text analysis")
struct TextAnalyzerTests {
    @Test("accents are folded, case lowered, stop words dropped, stems shared by inflections")
    func analysis() {
        #expect(TextAnalyzer.words("Emissão da NF-e") == ["emissao", "da", "nfe"])
        #expect(TextAnalyzer.analyze("Não consigo emitir a NF-e").map(\.stem) == ["consig", "emit", "nfe"])
        #expect(TextAnalyzer.indexText("emissão") == TextAnalyzer.indexText("emissao"))
        #expect(TextAnalyzer.indexText("configuração") == TextAnalyzer.indexText("CONFIGURACAO"))
        #expect(TextAnalyzer.stem("emitir") == TextAnalyzer.stem("emitindo"))
        #expect(TextAnalyzer.stem("boletos") == TextAnalyzer.stem("boleto"))
    }
}
