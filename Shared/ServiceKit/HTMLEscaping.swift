/// Escaping of untrusted text for HTML, shared by everything that renders HTML on the server
/// (knowledge's Markdown, notification's e-mail templates).
public enum HTML {
    /// `text` safe inside HTML element content and quoted attribute values: `&`, `<`, `>`, `"` and
    /// `'` become entities; NUL characters (invalid in HTML) are dropped.
    public static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            case "\u{0}": continue
            default: result.append(character)
            }
        }
        return result
    }
}
