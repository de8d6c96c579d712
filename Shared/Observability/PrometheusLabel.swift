/// Label values of the Prometheus text exposition format (0.0.4).
public enum PrometheusLabel {
    /// `value` as it goes between a label's quotes: backslash, double quote and line feed
    /// escaped (`\\`, `\"`, `\n`), as the format requires; anything else as it is. A value left
    /// unescaped (a method name with a quote or a line break) ended the line early and made the
    /// whole scrape unreadable, or added series of its own.
    public static func escape(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for character in value.unicodeScalars {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(character)
            }
        }
        return out
    }
}
