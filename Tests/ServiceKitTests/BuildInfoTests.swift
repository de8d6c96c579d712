import Foundation
import ServiceKit
import Testing

/// The release has one source, the file VERSION; `BuildInfo.version` is generated from it by
/// `scripts/generate-version` (docs/DEPLOYMENT.md, "Releases"). Before, the constant was raised
/// by hand, and a release could ship saying the previous one in every `ready` line.
@Suite("Build info")
struct BuildInfoTests {
    /// The repository's root, from this file's place in it (Tests/ServiceKitTests/...).
    static var root: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    @Test("BuildInfo.version is what VERSION says (a release that raised VERSION without running scripts/generate-version fails here and in scripts/test), in the form YYYY.MM.N")
    func versionComesFromTheVersionFile() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("VERSION"), encoding: .utf8)
        let version = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(BuildInfo.version == version, "VERSION says \(version); run scripts/generate-version")
        let parts = version.split(separator: ".")
        #expect(parts.count == 3 && parts[0].count == 4 && parts.allSatisfy { Int($0) != nil }, "\(version)")
        #expect((1...12).contains(Int(parts.count == 3 ? parts[1] : "") ?? 0), "\(version)")
    }
}
