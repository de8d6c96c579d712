import Foundation
import Messages
import Storage

/// Reads and writes `notification_suppressions`: the addresses notification no longer e-mails,
/// after a permanent bounce or by an administrator's decision. Addresses are stored normalized.
/// Every function runs inside the caller's transaction.
enum SuppressionStore {
    static let columns = "address, reason, status, diagnostic, delivery_id, created_by, note, created_at"

    /// Records a permanent bounce of `address` (a report's failed recipient with a 5.x.x status).
    /// An address already suppressed keeps its first record.
    /// - Returns: whether the address was newly suppressed.
    @discardableResult
    static func bounced(_ tx: any SQLExecutor, address: String, status: String, diagnostic: String, deliveryID: String,
                        now: Date = Date()) throws -> Bool {
        try tx.execute("""
            INSERT INTO notification_suppressions (address, reason, status, diagnostic, delivery_id, created_at)
            VALUES (?, 'bounce', ?, ?, ?, ?) ON CONFLICT (address) DO NOTHING
            """, [.text(EmailAddress.normalized(address)), .text(status), .text(String(diagnostic.prefix(500))), .text(deliveryID),
                  .timestamp(now)]) == 1
    }

    /// Suppresses `address` on an administrator's decision; an existing record is kept as it is.
    /// - Returns: the suppression in force.
    static func add(_ tx: any SQLExecutor, address: String, by person: String, note: String,
                    now: Date = Date()) throws -> NotificationV1.Suppression {
        let key = EmailAddress.normalized(address)
        try tx.execute("""
            INSERT INTO notification_suppressions (address, reason, created_by, note, created_at)
            VALUES (?, 'manual', ?, ?, ?) ON CONFLICT (address) DO NOTHING
            """, [.text(key), .text(person), .text(note), .timestamp(now)])
        guard let stored = try find(tx, address: key) else { throw SuppressionStoreError.vanished }
        return stored
    }

    /// Removes the suppression of `address`. - Returns: what was removed, nil when there was none.
    static func remove(_ tx: any SQLExecutor, address: String) throws -> NotificationV1.Suppression? {
        let key = EmailAddress.normalized(address)
        guard let stored = try find(tx, address: key) else { return nil }
        try tx.execute("DELETE FROM notification_suppressions WHERE address = ?", [.text(key)])
        return stored
    }

    static func find(_ tx: any SQLExecutor, address: String) throws -> NotificationV1.Suppression? {
        try tx.queryOne("SELECT \(columns) FROM notification_suppressions WHERE address = ?",
                        [.text(EmailAddress.normalized(address))]).map(suppression)
    }

    /// Up to `limit` suppressions after `after`, by address.
    static func list(_ tx: any SQLExecutor, after: String, limit: Int) throws -> [NotificationV1.Suppression] {
        try tx.query("SELECT \(columns) FROM notification_suppressions WHERE address > ? ORDER BY address LIMIT ?",
                     [.text(after), .integer(Int64(limit))]).map(suppression)
    }

    /// Address → the explanation a delivery to it records, for at most `limit` rows; nil when
    /// there are more (then ``explanation(_:address:)`` reads per recipient).
    static func all(_ tx: any SQLExecutor, limit: Int) throws -> [String: String]? {
        let rows = try tx.query("SELECT \(columns) FROM notification_suppressions LIMIT ?", [.integer(Int64(limit + 1))])
        guard rows.count <= limit else { return nil }
        var explanations: [String: String] = [:]
        for row in rows {
            let stored = try suppression(row)
            explanations[stored.address] = explanation(stored)
        }
        return explanations
    }

    /// What a delivery to `address` records when the address is suppressed; nil when it is not.
    static func explanation(_ tx: any SQLExecutor, address: String) throws -> String? {
        try find(tx, address: address).map(explanation)
    }

    /// The server answer of a delivery not sent because of `suppression`, pt-BR then English.
    static func explanation(_ suppression: NotificationV1.Suppression) -> String {
        switch suppression.reason {
        case "bounce":
            let detail = [suppression.status, suppression.diagnostic].filter { !$0.isEmpty }.joined(separator: " ")
            return "não enviado: endereço suprimido após devolução permanente / not sent: address suppressed after a permanent bounce"
                + (detail.isEmpty ? "" : " (\(detail))")
        default:
            return "não enviado: endereço suprimido por um administrador / not sent: address suppressed by an administrator"
                + (suppression.note.isEmpty ? "" : " (\(suppression.note))")
        }
    }

    static func suppression(_ row: Row) throws -> NotificationV1.Suppression {
        var suppression = NotificationV1.Suppression()
        suppression.address = try row.text("address")
        suppression.reason = try row.text("reason")
        suppression.status = try row.text("status")
        suppression.diagnostic = try row.text("diagnostic")
        suppression.deliveryID = try row.text("delivery_id")
        suppression.createdBy = try row.text("created_by")
        suppression.note = try row.text("note")
        suppression.createdAtMs = try row.int("created_at")
        return suppression
    }
}

enum SuppressionStoreError: Error {
    /// A suppression inserted (or found) in this transaction could not be read back.
    case vanished
}
