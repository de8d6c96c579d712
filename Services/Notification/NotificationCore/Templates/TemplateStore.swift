import Foundation
import Storage

/// Templates as administrators left them: an override row per kind and locale, else the
/// built-in one.
struct TemplateStore: Sendable {
    func template(_ executor: any SQLExecutor, kind: String, locale: String) throws -> (TemplateCatalog.Entry, customized: Bool)? {
        let locale = TemplateCatalog.locale(locale)
        if let row = try executor.queryOne("""
            SELECT subject, text_body, html_body FROM notification_templates WHERE event_kind = ? AND locale = ?
            """, [.text(kind), .text(locale)]) {
            return (TemplateCatalog.Entry(subject: try row.text("subject"), text: try row.text("text_body"),
                                          html: try row.text("html_body")), true)
        }
        return TemplateCatalog.builtIn(kind: kind, locale: locale).map { ($0, false) }
    }

    func set(_ executor: any SQLExecutor, kind: String, locale: String, entry: TemplateCatalog.Entry) throws {
        try executor.execute("""
            INSERT INTO notification_templates (event_kind, locale, subject, text_body, html_body, updated_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (event_kind, locale) DO UPDATE SET subject = excluded.subject, text_body = excluded.text_body,
                html_body = excluded.html_body, updated_at = excluded.updated_at
            """, [.text(kind), .text(TemplateCatalog.locale(locale)), .text(entry.subject), .text(entry.text), .text(entry.html),
                  .timestamp(Date())])
    }
}
