import Foundation
import Messages
import Storage

/// SQL of representatives' changes and their own contacts.
extension DirectoryStore {
    /// Rewrites a representative's fields and replaces the organizations they act for.
    static func update(_ tx: any SQLExecutor, _ value: IntakeV1.Representative) throws {
        try tx.execute("""
            UPDATE representatives SET name = ?, name_key = ?, email = ?, email_key = ?, phone = ?, active = ? WHERE id = ?
            """, [.text(value.name), .text(foldKey(value.name)), .text(value.email), .text(emailKey(value.email)),
                  .text(value.phone), SQLValue(value.active), .text(value.id)])
        try NameWords.replace(tx, .representative, id: value.id, nameKey: foldKey(value.name))
        try tx.execute("DELETE FROM representative_organizations WHERE representative_id = ?", [.text(value.id)])
        for organization in Set(value.organizationIDs) {
            try tx.execute("INSERT INTO representative_organizations (representative_id, organization_id) VALUES (?, ?)",
                           [.text(value.id), .text(organization)])
        }
    }

    /// The representatives acting for `organizationID`, by name then id.
    static func representatives(_ tx: any SQLExecutor, organizationID: String, includeInactive: Bool) throws
        -> [IntakeV1.Representative] {
        try tx.query("""
            SELECT r.id, r.name, r.email, r.phone, r.active FROM representative_organizations o
            JOIN representatives r ON r.id = o.representative_id
            WHERE o.organization_id = ?\(includeInactive ? "" : " AND r.active = 1") ORDER BY r.name_key, r.id
            """, [.text(organizationID)]).map { try representative(tx, $0) }
    }

    static let representativeContactColumns = "id, representative_id, name, email, phone, active, created_at"

    static func representativeContact(_ row: Row) throws -> IntakeV1.RepresentativeContact {
        var value = IntakeV1.RepresentativeContact()
        value.id = try row.text("id")
        value.representativeID = try row.text("representative_id")
        value.name = try row.text("name")
        value.email = try row.text("email")
        value.phone = try row.text("phone")
        value.active = try row.bool("active")
        value.createdAtMs = try row.int("created_at")
        return value
    }

    static func representativeContact(_ tx: any SQLExecutor, id: String) throws -> IntakeV1.RepresentativeContact? {
        try tx.queryOne("SELECT \(representativeContactColumns) FROM representative_contacts WHERE id = ?", [.text(id)])
            .map(representativeContact)
    }

    static func representativeContacts(_ tx: any SQLExecutor, representativeID: String, includeInactive: Bool) throws
        -> [IntakeV1.RepresentativeContact] {
        try tx.query("""
            SELECT \(representativeContactColumns) FROM representative_contacts
            WHERE representative_id = ?\(includeInactive ? "" : " AND active = 1") ORDER BY name_key, id
            """, [.text(representativeID)]).map(representativeContact)
    }

    static func insert(_ tx: any SQLExecutor, _ value: IntakeV1.RepresentativeContact) throws {
        try tx.execute("""
            INSERT INTO representative_contacts (id, representative_id, name, name_key, email, email_key, phone, active, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(value.id), .text(value.representativeID), .text(value.name), .text(foldKey(value.name)),
                  .text(value.email), .text(emailKey(value.email)), .text(value.phone), SQLValue(value.active),
                  .integer(value.createdAtMs)])
    }

    static func update(_ tx: any SQLExecutor, _ value: IntakeV1.RepresentativeContact) throws {
        try tx.execute("""
            UPDATE representative_contacts SET name = ?, name_key = ?, email = ?, email_key = ?, phone = ?, active = ? WHERE id = ?
            """, [.text(value.name), .text(foldKey(value.name)), .text(value.email), .text(emailKey(value.email)),
                  .text(value.phone), SQLValue(value.active), .text(value.id)])
    }
}
