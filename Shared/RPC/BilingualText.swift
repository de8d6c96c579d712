/// Texts people read are written "português / English" (error messages, reasons): the one
/// place that splits them into their two halves.
public enum BilingualText {
    /// The Portuguese and English halves of `text`, split at the first " / "; both halves are
    /// the whole text when it has no such separator.
    ///
    /// ```swift
    /// BilingualText.split("remetente desconhecido / unknown sender") // ("remetente desconhecido", "unknown sender")
    /// ```
    public static func split(_ text: String) -> (pt: String, en: String) {
        guard let range = text.range(of: " / ") else { return (text, text) }
        return (String(text[..<range.lowerBound]), String(text[range.upperBound...]))
    }
}
