import Foundation
@testable import IntakeCore
import Testing

/// The byte-level fast paths of the file checks give what the general ones give.
@Suite("File name and SHA-256 checks")
struct FileNameCheckTests {
    /// The general rule, as ``IntakeContext/cleanFileName(_:)`` wrote it before its fast path.
    static func referenceClean(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(last.unicodeScalars.filter { !IntakeContext.hiddenInFileNames($0.value) }.map(Character.init))
            .precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespaces)
    }

    @Test("a cleaned file name is the same with and without the fast path",
          arguments: ["tela.png", "Relatório março.pdf", " espaço.png", "espaço.png ", "a  b.png", "dir/a.png", "a\\b.png",
                      "a/", "/", "", " ", "a\tb.txt", "\u{7f}x.txt", "x\u{1}y", "~!@#$%^&*()_+{}|:<>?.log", "nome\u{3000}.txt",
                      "\u{3000}ideográfico.txt", "fim.txt\u{a0}", "fatura\u{202E}fdp.exe", "e\u{301}.txt", "a\u{85}b.txt"])
    func cleanName(_ name: String) {
        #expect(IntakeContext.cleanFileName(name) == Self.referenceClean(name))
    }

    @Test("names lose what changes how they read (bidirectional overrides and marks, C1 controls, zero-width spaces) and are stored composed (NFC); joiners stay")
    func spoofingCharacters() {
        #expect(IntakeContext.cleanFileName("fatura\u{202E}fdp.exe") == "faturafdp.exe")
        #expect(IntakeContext.cleanFileName("a\u{2066}b\u{2069}\u{200F}\u{200E}\u{061C}\u{202A}c.pdf") == "abc.pdf")
        #expect(IntakeContext.cleanFileName("a\u{85}b\u{9B}31mc.txt") == "ab31mc.txt")
        #expect(IntakeContext.cleanFileName("\u{FEFF}re\u{200B}l\u{2060}.txt") == "rel.txt")
        #expect(IntakeContext.cleanFileName("relato\u{301}rio.pdf") == "relatório.pdf")
        #expect(IntakeContext.cleanFileName("relato\u{301}rio.pdf").unicodeScalars.count == "relatório.pdf".unicodeScalars.count)
        #expect(IntakeContext.cleanFileName("\u{202E}") == "")
        // Persian needs the zero-width non-joiner; emoji sequences the joiner.
        #expect(IntakeContext.cleanFileName("می\u{200C}خواهم.txt") == "می\u{200C}خواهم.txt")
        #expect(IntakeContext.cleanFileName("👩\u{200D}💻.png") == "👩\u{200D}💻.png")
    }

    @Test("a name is at most 255 characters and 1,020 bytes; a content type has no control characters")
    func nameAndTypeLimits() {
        func fields(name: String = "a.txt", type: String = "text/plain") -> [String: String] {
            var violations = Violations()
            _ = IntakeContext.checkedFileName(name, field: "file_name", into: &violations)
            _ = IntakeContext.checkedContentType(type, field: "content_type", into: &violations)
            return Dictionary(violations.items.map { ($0.field, $0.reason) }, uniquingKeysWith: { first, _ in first })
        }
        #expect(fields().isEmpty)
        #expect(fields(name: String(repeating: "ç", count: 255)).isEmpty)
        #expect(fields(name: String(repeating: "😀", count: 255)).isEmpty, "1,020 bytes")
        #expect(fields(name: String(repeating: "a", count: 256)) == ["file_name": "too_long"])
        // One character of 10,001 bytes: "x" and 5,000 combining accents.
        #expect(fields(name: "x" + String(repeating: "\u{301}", count: 5_000)) == ["file_name": "too_long"])
        #expect(fields(name: "\u{202E}") == ["file_name": "required"])
        #expect(fields(type: "text/html\r\nSet-Cookie: a=b") == ["content_type": "invalid_content_type"])
        #expect(fields(type: "text/plain\u{0}") == ["content_type": "invalid_content_type"])
        #expect(fields(type: "text/plain; charset=\"utf-8\"").isEmpty)
    }

    @Test("a SHA-256 is 64 hex digits of either case; anything else is a violation on sha256")
    func shaDescription() {
        func violations(_ sha: String) -> [String] {
            var found = Violations()
            IntakeContext.checkDescription(sha256: sha, sizeBytes: 1, into: &found)
            return found.items.map(\.field)
        }
        let hex = String(repeating: "0123456789abcdef", count: 4)
        #expect(violations(hex).isEmpty)
        #expect(violations(hex.uppercased()).isEmpty)
        #expect(violations(String(hex.dropLast())) == ["sha256"])
        #expect(violations(String(hex.dropLast()) + "g") == ["sha256"])
        #expect(violations(hex + "0") == ["sha256"])
        #expect(violations("") == ["sha256"])
        // Other digits Character.isHexDigit accepts are still accepted (and then fail the hash).
        let fullwidth = String(repeating: "\u{FF10}", count: 64)
        #expect(violations(fullwidth) == (fullwidth.allSatisfy(\.isHexDigit) ? [] : ["sha256"]))
    }
}
