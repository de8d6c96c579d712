import Foundation
@testable import IntakeCore
import Testing

/// The byte-level fast paths of the file checks give what the general ones give.
@Suite("File name and SHA-256 checks")
struct FileNameCheckTests {
    /// The general rule, as ``IntakeContext/cleanFileName(_:)`` wrote it before its fast path.
    static func referenceClean(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        return String(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
    }

    @Test("a cleaned file name is the same with and without the fast path",
          arguments: ["tela.png", "Relatório março.pdf", " espaço.png", "espaço.png ", "a  b.png", "dir/a.png", "a\\b.png",
                      "a/", "/", "", " ", "a\tb.txt", "\u{7f}x.txt", "x\u{1}y", "~!@#$%^&*()_+{}|:<>?.log", "nome\u{3000}.txt",
                      "\u{3000}ideográfico.txt", "fim.txt\u{a0}"])
    func cleanName(_ name: String) {
        #expect(IntakeContext.cleanFileName(name) == Self.referenceClean(name))
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
