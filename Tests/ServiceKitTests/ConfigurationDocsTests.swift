import Foundation
import Testing

/// docs/CONFIGURATION.md's "Every variable" list against the code: every environment variable an
/// executable reads (a string literal `OCORRENCIAS_…`, `INTAKE_…`, `WORKFLOW_…`, `NOTIFICATION_…`,
/// `KNOWLEDGE_…`, `GATEWAY_…` or `OCORRE_…` in `Services/` or `Shared/`, or a per-service
/// `"\(prefix)_SUFFIX"`, listed as `<SERVICE>_SUFFIX`) has a row there with its default, and
/// every variable a document names (README.md, docs/*.md but the benchmark logs, which record
/// experiments' scratch switches) is read by the code, the tests or a script. Before, an operator could
/// not tell from the documents which variables exist: most were only in the per-service guides,
/// some (`OCORRENCIAS_RELAY_ROUND_MS`) nowhere.
@Suite("docs/CONFIGURATION.md matches the variables the code reads")
struct ConfigurationDocsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let prefixes = "(?:OCORRENCIAS|OCORRE|INTAKE|WORKFLOW|NOTIFICATION|KNOWLEDGE|GATEWAY)"
    /// The services whose name prefixes their own variables (`<SERVICE>_PORT` is `INTAKE_PORT`, …).
    static let services = ["INTAKE", "WORKFLOW", "NOTIFICATION", "KNOWLEDGE", "GATEWAY"]

    /// Variable names read in the Swift files under `folders`: literal names, and per-service
    /// ones as `<SERVICE>_SUFFIX`. Comment lines are skipped (examples in doc comments).
    static func variablesRead(under folders: [String]) throws -> [String: String] {
        let literal = try NSRegularExpression(pattern: "\"(\(prefixes)_[A-Z0-9_]*[A-Z0-9])\"")
        let perService = try NSRegularExpression(pattern: #""\\\([^"]*?\)(_[A-Z0-9_]*[A-Z0-9])""#)
        var found: [String: String] = [:]
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let files = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else { continue }
            for case let file as URL in files where file.pathExtension == "swift" {
                let text = try String(contentsOf: file, encoding: .utf8)
                for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                    let line = String(line)
                    let path = String(file.path.dropFirst(root.path.count + 1))
                    for name in matches(literal, in: line) { found[name] = found[name] ?? path }
                    for suffix in matches(perService, in: line) { found["<SERVICE>" + suffix] = found["<SERVICE>" + suffix] ?? path }
                }
            }
        }
        return found
    }

    static func matches(_ expression: NSRegularExpression, in text: String) -> [String] {
        expression.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
            Range($0.range(at: 1), in: text).map { String(text[$0]) }
        }
    }

    /// The rows of docs/CONFIGURATION.md's "Every variable" section: variable → default.
    static func listed() throws -> [String: String] {
        let text = try String(contentsOf: root.appendingPathComponent("docs/CONFIGURATION.md"), encoding: .utf8)
        guard let start = text.range(of: "\n## Every variable\n") else { return [:] }
        let section = text[start.upperBound...].components(separatedBy: "\n## ").first ?? ""
        var rows: [String: String] = [:]
        for line in section.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 4 else { continue }
            rows[cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = cells[2]
        }
        return rows
    }

    /// Whether `name`, as a document writes it, is `variable` or an instance of it
    /// (`INTAKE_DATABASE_URL` of `<SERVICE>_DATABASE_URL`).
    static func names(_ name: String, _ variable: String) -> Bool {
        if name == variable { return true }
        guard variable.hasPrefix("<SERVICE>_") else { return false }
        let suffix = variable.dropFirst("<SERVICE>".count)
        return services.contains { name == $0 + suffix }
    }

    @Test("every variable the executables read has a row with its default in docs/CONFIGURATION.md, and every row is read")
    func everyVariableListed() throws {
        let read = try Self.variablesRead(under: ["Services", "Shared"])
        let rows = try Self.listed()
        #expect(read.count > 100, "the scan found too few variables: \(read.keys.sorted())")
        for (variable, file) in read.sorted(by: { $0.key < $1.key }) {
            guard let value = rows[variable] else {
                Issue.record("\(variable) (read in \(file)) has no row in docs/CONFIGURATION.md, \"Every variable\"")
                continue
            }
            #expect(!value.isEmpty, "\(variable): give its default in docs/CONFIGURATION.md")
        }
        for variable in rows.keys.sorted() where read[variable] == nil {
            Issue.record("docs/CONFIGURATION.md lists \(variable), which no executable reads")
        }
    }

    @Test("every variable the documents name is one the code, the tests or scripts/ read")
    func documentsNameOnlyRealVariables() throws {
        let read = try Self.variablesRead(under: ["Services", "Shared", "Tests"])
        // The scripts' own switches (`OCORRENCIAS_TEST_SCHEMATHESIS` of scripts/test).
        let scriptsFolder = Self.root.appendingPathComponent("scripts")
        let scripts = try FileManager.default.contentsOfDirectory(atPath: scriptsFolder.path)
            .compactMap { try? String(contentsOf: scriptsFolder.appendingPathComponent($0), encoding: .utf8) }.joined(separator: "\n")
        let mention = try NSRegularExpression(pattern: "(?<![A-Za-z0-9_])((?:\(Self.prefixes)|<SERVICE>)_[A-Z0-9_]*[A-Z0-9])(?![A-Za-z0-9_*…])")
        let docs = Self.root.appendingPathComponent("docs")
        let files = try FileManager.default.contentsOfDirectory(atPath: docs.path)
            .filter { $0.hasSuffix(".md") && !$0.hasPrefix("BENCHMARKS") }.sorted().map { "docs/" + $0 } + ["README.md"]
        for file in files {
            let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
            for name in Set(Self.matches(mention, in: text)).sorted() where !read.keys.contains(where: { Self.names(name, $0) }) && !scripts.contains(name) {
                Issue.record("\(file) names \(name), which no code reads (a renamed or removed variable?)")
            }
        }
    }

    @Test("the scan finds literal, per-service and nested per-service names, and skips comments")
    func scanner() throws {
        let read = try Self.variablesRead(under: ["Shared/ServiceKit"])
        #expect(read["OCORRENCIAS_LOG_LEVEL"] != nil)
        #expect(read["<SERVICE>_PORT"] != nil)
        #expect(read["<SERVICE>_ADDRESSES"] != nil, "\"\\(Self.environmentPrefix(service))_ADDRESSES\"")
        #expect(Self.names("INTAKE_DATABASE_URL", "<SERVICE>_DATABASE_URL"))
        #expect(!Self.names("OCORRENCIAS_DATABASE_URL", "<SERVICE>_DATABASE_URL"))
    }
}
