import Foundation
import Messages

/// The names people read for intake's configurable lists' keys (`GET /v1/channels`,
/// `GET /v1/origins`, inactive entries included: an old ticket may name one), as the portal shows
/// them: "Canal: Telefone" / "Channel: Phone" instead of "phone".
struct ListLabels {
    /// key → (Portuguese, English) label.
    var channels: [String: (String, String)] = [:]
    var origins: [String: (String, String)] = [:]

    /// Both lists as the caller may read them; a list that cannot be read (an old gateway, a
    /// failure) is left empty, so its keys show as they are.
    static func read(_ options: Ocorre.Options) -> ListLabels {
        func entries(_ path: String) -> [String: (String, String)] {
            guard let answer = try? Ocorre.http(options, "GET", path + "?include_inactive=true") else { return [:] }
            var labels: [String: (String, String)] = [:]
            for entry in answer["entries"] as? [[String: Any]] ?? [] {
                let key = TicketText.text(entry["key"])
                if !key.isEmpty { labels[key] = (TicketText.text(entry["label_pt"]), TicketText.text(entry["label_en"])) }
            }
            return labels
        }
        return ListLabels(channels: entries("/v1/channels"), origins: entries("/v1/origins"))
    }

    func channel(_ key: Any?, _ language: DisplayLanguage) -> String { Self.label(channels, key, language) }
    func origin(_ key: Any?, _ language: DisplayLanguage) -> String { Self.label(origins, key, language) }

    /// The label in `language`, the other language's when that one is empty, the key when neither.
    private static func label(_ labels: [String: (String, String)], _ key: Any?, _ language: DisplayLanguage) -> String {
        let key = TicketText.text(key)
        guard let (pt, en) = labels[key] else { return key }
        let chosen = language == .portuguese ? (pt.isEmpty ? en : pt) : (en.isEmpty ? pt : en)
        return chosen.isEmpty ? key : chosen
    }
}
