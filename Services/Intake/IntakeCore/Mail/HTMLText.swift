/// Turns an HTML-only e-mail body into readable text: drops `<head>`, `<style>` and `<script>`,
/// breaks lines at block elements and `<br>`, decodes the common entities and collapses blank
/// lines. Good enough for what mail clients send; not a general HTML renderer. Linear in the
/// length of the HTML.
enum HTMLText {
    static func plainText(_ html: String) -> String {
        guard !html.isEmpty else { return "" }
        var output = ""
        var index = html.startIndex
        var skipUntil: String?
        // Once no '>' follows, none follows any later '<' either: not searched again (a body
        // of '<' without '>' would otherwise be scanned to its end once per '<').
        var unclosed = false
        while index < html.endIndex {
            let character = html[index]
            let close = character == "<" && !unclosed ? html[index...].firstIndex(of: ">") : nil
            if character == "<" && close == nil { unclosed = true }
            if let close {
                let tag = html[html.index(after: index)..<close].lowercased()
                let name = String(tag.drop(while: { $0 == "/" }).prefix(while: { $0.isLetter || $0.isNumber }))
                let closing = tag.hasPrefix("/")
                if let waiting = skipUntil {
                    if closing && name == waiting { skipUntil = nil }
                } else if !closing && ["style", "script", "head", "title"].contains(name) {
                    skipUntil = name
                } else if ["br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table"].contains(name) {
                    if name == "li" && !closing { output += "\n- " } else { output += "\n" }
                } else if name == "td" && closing {
                    output += "\t"
                }
                index = html.index(after: close)
                continue
            }
            if skipUntil == nil { output.append(character) }
            index = html.index(after: index)
        }
        let decoded = decodeEntities(output)
        var lines: [String] = []
        for line in decoded.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
            if trimmed.isEmpty && (lines.last?.isEmpty ?? true) { continue }
            lines.append(trimmed)
        }
        return lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        var output = ""
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == "&", let semicolon = text[index...].prefix(12).firstIndex(of: ";") {
                let entity = String(text[text.index(after: index)..<semicolon])
                var replacement: String?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    replacement = UInt32(entity.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if entity.hasPrefix("#") {
                    replacement = UInt32(entity.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    replacement = named[entity].flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
                if let replacement {
                    output += replacement
                    index = text.index(after: semicolon)
                    continue
                }
            }
            output.append(text[index])
            index = text.index(after: index)
        }
        return output
    }
}
