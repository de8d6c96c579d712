import Foundation
@testable import GatewayCore
import Testing

/// The portal's scripts share one table of texts (`TEXT`, per language): portal.js defines it
/// and every other script adds its own keys with `Object.assign`. A key added twice with
/// different words silently wins by load order, as `opened` did (the dashboard's "Abertas"
/// replaced the ticket page's "Aberta em").
@Suite("Portal scripts: one shared table of texts and one global scope")
struct PortalScriptsTests {
    /// The `key: 'text'` pairs at the top level of the object literal whose `{` is at `open`
    /// (values that are not a plain quoted string, such as nested tables or templates, are skipped).
    static func stringPairs(_ bytes: [UInt8], open: Int) -> [(key: String, value: String)] {
        var pairs: [(String, String)] = []
        var depth = 0
        var index = open
        var identifier: [UInt8] = []
        var pendingKey: String?
        func isWord(_ byte: UInt8) -> Bool { byte == 0x5F || (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x7A) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x2F, index + 1 < bytes.count, bytes[index + 1] == 0x2F {  // a `//` comment: to the end of the line
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
                continue
            }
            if byte == 0x27 || byte == 0x22 || byte == 0x60 {  // a string: ' " `
                var end = index + 1
                var value: [UInt8] = []
                while end < bytes.count && bytes[end] != byte {
                    if bytes[end] == 0x5C { end += 1 }
                    if end < bytes.count { value.append(bytes[end]) }
                    end += 1
                }
                if depth == 1, let key = pendingKey, byte != 0x60 { pairs.append((key, String(decoding: value, as: UTF8.self))) }
                pendingKey = nil
                identifier = []
                index = end + 1
                continue
            }
            if byte == 0x7B || byte == 0x28 || byte == 0x5B { depth += 1 }
            if byte == 0x7D || byte == 0x29 || byte == 0x5D {
                depth -= 1
                if depth == 0 { break }
            }
            if isWord(byte) {
                identifier.append(byte)
            } else if byte == 0x3A, depth == 1, !identifier.isEmpty {  // `key:` at the top level
                pendingKey = String(decoding: identifier, as: UTF8.self)
                identifier = []
            } else if byte != 0x20 && byte != 0x0A {
                identifier = []
                if byte != 0x3A { pendingKey = nil }
            }
            index += 1
        }
        return pairs
    }

    /// Where each script adds texts: (language, index of the object literal's `{`).
    static func textBlocks(_ text: String) -> [(language: String, open: Int)] {
        let bytes = Array(text.utf8)
        var blocks: [(String, Int)] = []
        for (marker, language) in [("Object.assign(TEXT['pt-BR'], {", "pt-BR"), ("Object.assign(TEXT.en, {", "en"),
                                   ("const TEXT = {\n  'pt-BR': {", "pt-BR"), ("\n  en: {\n    brand:", "en")] {
            var searchFrom = text.startIndex
            while let range = text.range(of: marker, range: searchFrom..<text.endIndex) {
                let brace = text.utf8.distance(from: text.startIndex, to: range.upperBound)
                let open = bytes[..<brace].lastIndex(of: 0x7B) ?? brace
                blocks.append((language, open))
                searchFrom = range.upperBound
            }
        }
        return blocks
    }

    @Test("no text key is defined twice with different words, in either language")
    func keysAreDefinedOnce() throws {
        var seen: [String: (value: String, file: String)] = [:]
        var conflicts: [String] = []
        var counted = 0
        for (name, file) in PortalAssets.files.sorted(by: { $0.key < $1.key }) where name.hasSuffix(".js") {
            let bytes = Array(file.text.utf8)
            for (language, open) in Self.textBlocks(file.text) {
                for (key, value) in Self.stringPairs(bytes, open: open) {
                    counted += 1
                    let id = "\(language):\(key)"
                    if let earlier = seen[id], earlier.value != value {
                        conflicts.append("\(id): \(earlier.file) says \(earlier.value.debugDescription), \(name) says \(value.debugDescription)")
                    }
                    seen[id] = (value, name)
                }
            }
        }
        // The scan found the tables (hundreds of texts), so an empty result means no conflict.
        #expect(counted > 300, "only \(counted) texts found: the scan no longer finds the tables")
        #expect(seen["pt-BR:opened"]?.value == "Aberta em" && seen["en:brand"]?.value == "Ocorrências")
        #expect(conflicts.isEmpty, "\(conflicts.joined(separator: "\n"))")
        // Every key has both languages.
        let keys = { (language: String) in Set(seen.keys.filter { $0.hasPrefix(language + ":") }.map { $0.drop(while: { $0 != ":" }).dropFirst() }) }
        #expect(keys("pt-BR").symmetricDifference(keys("en")).isEmpty, "\(keys("pt-BR").symmetricDifference(keys("en")).sorted())")
    }

    /// The scripts share one global scope: a function declared again by a later script silently
    /// replaces the earlier one (as a second `dataTable` would have replaced the dashboard's),
    /// and a `const` declared twice stops the later script. Top-level names are declared once.
    @Test("no top-level function, const or let is declared by two of the portal's scripts")
    func topLevelNamesAreDeclaredOnce() throws {
        var declaredIn: [String: String] = [:]
        var twice: [String] = []
        for (name, file) in PortalAssets.files.sorted(by: { $0.key < $1.key }) where name.hasSuffix(".js") {
            for line in file.text.split(separator: "\n", omittingEmptySubsequences: true) {
                // Top level only: a declaration at the start of a line (the scripts indent the rest).
                guard let first = line.first, first != " " else { continue }
                let words = line.split(separator: " ", maxSplits: 3)
                guard words.count >= 2 else { continue }
                let declared: Substring
                switch words[0] {
                case "function", "const", "let": declared = words[1]
                case "async" where words.count >= 3 && words[1] == "function": declared = words[2]
                default: continue
                }
                let identifier = String(declared.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" })
                if let earlier = declaredIn[identifier] {
                    twice.append("\(identifier): \(earlier) and \(name)")
                }
                declaredIn[identifier] = name
            }
        }
        #expect(declaredIn.count > 50, "only \(declaredIn.count) names found")
        #expect(twice.isEmpty, "\(twice.joined(separator: "\n"))")
    }
}

