/// One CSV cell as every CSV workflow writes it (the queue's export, the metrics facts and
/// report): RFC 4180 quoting, and a text that a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, a tab or a carriage return) prefixed with `'`, so a subject typed by a
/// customer (`=HYPERLINK("http://…")`) reaches the agent who opens the export as text.
enum CSVCell {
    static func text(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@\t\r".contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
