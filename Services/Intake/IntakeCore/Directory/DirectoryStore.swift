import Foundation
import Messages
import ServiceKit
import Storage

/// SQL of the customer directory: organizations, contacts, representatives.
enum DirectoryStore {
    /// Lower-cased, accents removed, spaces collapsed: the key names are looked up by.
    static func foldKey(_ text: String) -> String {
        text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
            .lowercased().split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
    }

    /// The key an e-mail address is found by (`email_key`): lower-cased, in Unicode's composed
    /// form (NFC), so "zé@…" typed with a combining accent (as some systems send it) is the
    /// address stored with "é".
    static func emailKey(_ email: String) -> String {
        EmailAddressRule.key(email)
    }

    /// The exclusive upper bound of keys starting with `prefix`.
    static func prefixEnd(_ prefix: String) -> String { prefix + "\u{10FFFF}" }

    // MARK: organizations

    static let organizationColumns = "id, code, name, tax_id, kind, plan, plan_includes, active, account_owner_agent_id, email, created_at"

    static func organization(_ row: Row) throws -> IntakeV1.Organization {
        var value = IntakeV1.Organization()
        value.id = try row.text("id")
        value.code = try row.text("code")
        value.name = try row.text("name")
        value.taxID = row.optionalText("tax_id") ?? ""
        value.kind = IntakeV1.OrganizationKind(_protoRawValue: Int32(try row.int("kind")))
        value.plan = try row.text("plan")
        value.planIncludes = try row.text("plan_includes")
        value.active = try row.bool("active")
        value.accountOwnerAgentID = try row.text("account_owner_agent_id")
        value.email = try row.text("email")
        value.createdAtMs = try row.int("created_at")
        return value
    }

    static func organization(_ tx: any SQLExecutor, id: String) throws -> IntakeV1.Organization? {
        try tx.queryOne("SELECT \(organizationColumns) FROM organizations WHERE id = ?", [.text(id)]).map(organization)
    }

    static func insert(_ tx: any SQLExecutor, _ value: IntakeV1.Organization) throws {
        try tx.execute("""
            INSERT INTO organizations (id, code, name, name_key, tax_id, kind, plan, plan_includes, active,
                                       account_owner_agent_id, email, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(value.id), .text(value.code), .text(value.name), .text(foldKey(value.name)),
                  value.taxID.isEmpty ? .null : .text(value.taxID), .integer(Int64(value.kind.rawValue)),
                  .text(value.plan), .text(value.planIncludes), SQLValue(value.active),
                  .text(value.accountOwnerAgentID), .text(value.email), .integer(value.createdAtMs)])
        try NameWords.replace(tx, .organization, id: value.id, nameKey: foldKey(value.name))
    }

    static func update(_ tx: any SQLExecutor, _ value: IntakeV1.Organization) throws -> Bool {
        let updated = try tx.execute("""
            UPDATE organizations SET name = ?, name_key = ?, tax_id = ?, kind = ?, plan = ?, plan_includes = ?,
                active = ?, account_owner_agent_id = ?, email = ? WHERE id = ?
            """, [.text(value.name), .text(foldKey(value.name)), value.taxID.isEmpty ? .null : .text(value.taxID),
                  .integer(Int64(value.kind.rawValue)), .text(value.plan), .text(value.planIncludes),
                  SQLValue(value.active), .text(value.accountOwnerAgentID), .text(value.email), .text(value.id)]) > 0
        if updated { try NameWords.replace(tx, .organization, id: value.id, nameKey: foldKey(value.name)) }
        return updated
    }

    /// The next generated organization code (`C000001`, `C000002`, …) that no organization has:
    /// one given by hand that looks generated (`C000002`) is skipped, not taken again by the
    /// counter (which would refuse every later organization without a code: the counter's step
    /// rolls back with the refused insert).
    static func nextOrganizationCode(_ tx: any SQLExecutor) throws -> String {
        while true {
            let code = String(format: "C%06lld", try nextCounter(tx, "organization"))
            if try tx.queryOne("SELECT 1 AS taken FROM organizations WHERE code = ?", [.text(code)]) == nil { return code }
        }
    }

    /// The next value of a named counter, allocated in the caller's transaction. The counter row
    /// stays locked until commit (PostgreSQL) or the single writer serializes it (SQLite), so
    /// values are unique and follow commit order even with several intake processes.
    static func nextCounter(_ tx: any SQLExecutor, _ name: String) throws -> Int64 {
        let row = try tx.queryOne("""
            INSERT INTO counters (name, last_value) VALUES (?, 1)
            ON CONFLICT (name) DO UPDATE SET last_value = counters.last_value + 1
            RETURNING last_value
            """, [.text(name)])
        guard let row else { throw StorageError(.other, "counter \(name) returned no row") }
        return try row.int("last_value")
    }

    // MARK: contacts

    static let contactColumns = "id, organization_id, name, email, phone, active, authorized, admin, linked, created_at"

    static func contact(_ row: Row) throws -> IntakeV1.Contact {
        var value = IntakeV1.Contact()
        value.id = try row.text("id")
        value.organizationID = try row.text("organization_id")
        value.name = try row.text("name")
        value.email = try row.text("email")
        value.phone = try row.text("phone")
        value.active = try row.bool("active")
        value.authorized = try row.bool("authorized")
        value.admin = try row.bool("admin")
        value.createdAtMs = try row.int("created_at")
        return value
    }

    static func contact(_ tx: any SQLExecutor, id: String) throws -> IntakeV1.Contact? {
        try tx.queryOne("SELECT \(contactColumns) FROM contacts WHERE id = ?", [.text(id)]).map(contact)
    }

    /// `o.id, o.code, …, c.id, c.organization_id, …`: the organization's columns, then the contact's.
    static let openingColumns: [String] = {
        func qualified(_ columns: String, _ table: String) -> [String] {
            columns.split(separator: ",").map { "\(table).\($0.trimmingCharacters(in: .whitespaces))" }
        }
        return qualified(organizationColumns, "o") + qualified(contactColumns, "c")
    }()
    static let openingSelect = openingColumns.joined(separator: ", ")
    static let openingOrganizationCount = organizationColumns.split(separator: ",").count
    /// The unqualified names of ``openingColumns``, computed once (not per open).
    static let openingNames: [String] = openingColumns.map { String($0.dropFirst(2)) }

    /// The organization and the contact an open names, read with one statement when both exist.
    /// With `lockContact` (PostgreSQL) the contact row is locked until commit (`FOR UPDATE`), so
    /// two identical submissions of one contact are serialized for the double-submission check.
    /// - Returns: the contact with whether it is already linked to a ticket.
    /// - Returns: the contact with whether it is already linked to a ticket, and the catalog
    ///   version (``CatalogCache``) read in the same statement (`nil` when the organization or
    ///   the contact is missing).
    /// The one statement ``forOpening(_:organizationID:contactID:lockContact:)`` runs when both ids
    /// are given (`nil` otherwise), so a group commit can send those of a whole batch at once.
    ///
    /// With `lockOrganization` (PostgreSQL) the organization row is share-locked until commit
    /// (``openingLocks(contact:organization:)``).
    static func forOpeningStatement(organizationID: String, contactID: String, lockContact: Bool,
                                    lockOrganization: Bool = false) -> (sql: String, params: [SQLValue])? {
        guard !organizationID.isEmpty && !contactID.isEmpty else { return nil }
        return ("""
            SELECT \(openingSelect), COALESCE((SELECT last_value FROM counters WHERE name = ?), 0) AS catalog_version
            FROM organizations o, contacts c
            WHERE o.id = ? AND c.id = ?\(openingLocks(contact: lockContact, organization: lockOrganization))
            """, [.text(CatalogCache.versionCounter), .text(organizationID), .text(contactID)])
    }

    /// The locking clauses of the opening read (PostgreSQL only):
    /// - the contact `FOR UPDATE`, so two identical submissions of one contact are serialized for
    ///   the double-submission check;
    /// - the organization `FOR SHARE`, so an open that read its organization active commits
    ///   before a concurrent deactivation (whose `UPDATE` waits for the share lock), or, when the
    ///   deactivation's `UPDATE` came first, waits for it and reads the organization again
    ///   (READ COMMITTED re-reads a locked row that changed): once a deactivation is answered, no
    ///   open of that organization commits. Opens share the lock, so they do not wait for each
    ///   other; a group-commit batch takes it once for all its opens. (Not `FOR KEY SHARE`: an
    ///   `UPDATE` of non-key columns does not wait for that one.) SQLite needs neither: its one
    ///   writer runs an open's transaction or the deactivation's, never both.
    static func openingLocks(contact: Bool, organization: Bool) -> String {
        (contact ? " FOR UPDATE OF c" : "") + (organization ? " FOR SHARE OF o" : "")
    }

    /// What ``forOpening(_:organizationID:contactID:lockContact:readAhead:)`` returns.
    typealias Opening = (organization: IntakeV1.Organization?, contact: IntakeV1.Contact?, contactLinked: Bool, catalogVersion: Int64?)

    /// - Parameter readAhead: The row of ``forOpeningStatement(organizationID:contactID:lockContact:)``
    ///   already read and parsed (``opening(_:)``) by a group-commit batch: `.some(nil)` when that
    ///   statement returned no row, `nil` when it was not read ahead.
    static func forOpening(_ tx: any SQLExecutor, organizationID: String, contactID: String, lockContact: Bool,
                           lockOrganization: Bool = false, readAhead: Opening?? = nil) throws -> Opening {
        let lock = lockContact ? " FOR UPDATE" : ""
        if let readAhead {
            if let found = readAhead { return found }
        } else if let statement = forOpeningStatement(organizationID: organizationID, contactID: contactID, lockContact: lockContact,
                                                      lockOrganization: lockOrganization) {
            if let row = try tx.queryOne(statement.sql, statement.params) { return try opening(row) }
        }
        let organization = organizationID.isEmpty ? nil : try organization(tx, id: organizationID)
        guard !contactID.isEmpty,
              let row = try tx.queryOne("SELECT \(contactColumns) FROM contacts WHERE id = ?\(lock)", [.text(contactID)]) else {
            return (organization, nil, false, nil)
        }
        return (organization, try contact(row), try row.bool("linked"), nil)
    }

    /// A row of ``forOpeningStatement(organizationID:contactID:lockContact:)``, parsed.
    static func opening(_ row: Row) throws -> Opening {
        var organizations: [String: IntakeV1.Organization] = [:]
        return try opening(row, organizations: &organizations)
    }

    /// ``opening(_:)`` for the rows of one statement (one snapshot), parsing each organization
    /// once: `organizations` keeps those parsed, by id (a batch's opens mostly share theirs).
    static func opening(_ row: Row, organizations: inout [String: IntakeV1.Organization]) throws -> Opening {
        // Split by position: both tables have an `id`.
        func part(_ range: Range<Int>) -> Row {
            Row(columns: Array(openingNames[range]), values: Array(row.values[range]))
        }
        let contactRow = part(openingOrganizationCount..<openingColumns.count)
        let organization: IntakeV1.Organization
        if case .text(let id) = row.values[0], let parsed = organizations[id] {
            organization = parsed
        } else {
            organization = try self.organization(part(0..<openingOrganizationCount))
            if case .text(let id) = row.values[0] { organizations[id] = organization }
        }
        return (organization, try contact(contactRow), try contactRow.bool("linked"), try row.int("catalog_version"))
    }

    static func isLinked(_ tx: any SQLExecutor, contactID: String) throws -> Bool {
        try tx.queryOne("SELECT linked FROM contacts WHERE id = ?", [.text(contactID)])?.bool("linked") ?? false
    }

    /// Contacts whose e-mail is `email` (case-insensitive, either Unicode form), the one created
    /// first first (then by id: one order whatever the engine).
    static func contacts(_ tx: any SQLExecutor, email: String) throws -> [IntakeV1.Contact] {
        try tx.query("SELECT \(contactColumns) FROM contacts WHERE email_key = ? ORDER BY created_at, id",
                     [.text(emailKey(email))]).map(contact)
    }

    static func insert(_ tx: any SQLExecutor, _ value: IntakeV1.Contact) throws {
        try tx.execute("""
            INSERT INTO contacts (id, organization_id, name, name_key, email, email_key, phone, active, authorized, admin, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(value.id), .text(value.organizationID), .text(value.name), .text(foldKey(value.name)),
                  .text(value.email), .text(emailKey(value.email)), .text(value.phone), SQLValue(value.active),
                  SQLValue(value.authorized), SQLValue(value.admin), .integer(value.createdAtMs)])
        try NameWords.replace(tx, .contact, id: value.id, nameKey: foldKey(value.name))
    }

    static func update(_ tx: any SQLExecutor, _ value: IntakeV1.Contact) throws {
        try tx.execute("""
            UPDATE contacts SET name = ?, name_key = ?, email = ?, email_key = ?, phone = ?, active = ?, authorized = ?, admin = ?
            WHERE id = ?
            """, [.text(value.name), .text(foldKey(value.name)), .text(value.email), .text(emailKey(value.email)),
                  .text(value.phone), SQLValue(value.active), SQLValue(value.authorized), SQLValue(value.admin), .text(value.id)])
        try NameWords.replace(tx, .contact, id: value.id, nameKey: foldKey(value.name))
    }

    // MARK: representatives

    static let representativeColumns = "id, name, email, phone, active"

    static func representative(_ tx: any SQLExecutor, id: String) throws -> IntakeV1.Representative? {
        guard let row = try tx.queryOne("SELECT id, name, email, phone, active FROM representatives WHERE id = ?", [.text(id)]) else {
            return nil
        }
        return try representative(tx, row)
    }

    static func representative(_ tx: any SQLExecutor, _ row: Row) throws -> IntakeV1.Representative {
        var value = IntakeV1.Representative()
        value.id = try row.text("id")
        value.name = try row.text("name")
        value.email = try row.text("email")
        value.phone = try row.text("phone")
        value.active = try row.bool("active")
        value.organizationIDs = try tx.query("""
            SELECT organization_id FROM representative_organizations WHERE representative_id = ? ORDER BY organization_id
            """, [.text(value.id)]).map { try $0.text("organization_id") }
        return value
    }

    static func insert(_ tx: any SQLExecutor, _ value: IntakeV1.Representative, createdAt: Int64) throws {
        try tx.execute("""
            INSERT INTO representatives (id, name, name_key, email, email_key, phone, active, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(value.id), .text(value.name), .text(foldKey(value.name)), .text(value.email),
                  .text(emailKey(value.email)), .text(value.phone), SQLValue(value.active), .integer(createdAt)])
        try NameWords.replace(tx, .representative, id: value.id, nameKey: foldKey(value.name))
        for organization in Set(value.organizationIDs) {
            try tx.execute("INSERT INTO representative_organizations (representative_id, organization_id) VALUES (?, ?)",
                           [.text(value.id), .text(organization)])
        }
    }

    static func represents(_ tx: any SQLExecutor, representativeID: String, organizationID: String) throws -> Bool {
        try tx.queryOne("SELECT 1 AS one FROM representative_organizations WHERE representative_id = ? AND organization_id = ?",
                        [.text(representativeID), .text(organizationID)]) != nil
    }

    // MARK: lookup

    /// Organizations, contacts and representatives matching `query` by code, tax id, e-mail or
    /// the start of any word of their name; every branch is an index lookup. Of each kind, those
    /// whose whole name starts with the query come first (by name), then those with a later word
    /// starting with it (by that word: ``NameWords``).
    static func lookup(_ tx: any SQLExecutor, query: String, limit: Int) throws -> IntakeV1.LookupCustomersResponse {
        var response = IntakeV1.LookupCustomersResponse()
        let trimmed = query.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { return response }
        var organizationIDs = Set<String>()
        func addOrganizations(_ rows: [Row]) throws {
            for row in rows where response.organizations.count < limit {
                let value = try organization(row)
                if organizationIDs.insert(value.id).inserted { response.organizations.append(value) }
            }
        }
        let params: [SQLValue] = [.integer(Int64(limit))]
        if trimmed.contains("@") {
            let email = emailKey(trimmed)
            response.contacts = try tx.query("SELECT \(contactColumns) FROM contacts WHERE email_key = ? ORDER BY name_key LIMIT ?",
                                             [.text(email)] + params).map(contact)
            response.representatives = try tx.query("SELECT id, name, email, phone, active FROM representatives WHERE email_key = ? LIMIT ?",
                                                    [.text(email)] + params).map { try representative(tx, $0) }
            return response
        }
        try addOrganizations(tx.query("SELECT \(organizationColumns) FROM organizations WHERE code = ? LIMIT ?",
                                      [.text(trimmed.uppercased())] + params))
        let stripped = TaxID.strip(trimmed)
        if stripped.count == 11 || stripped.count == 14 {
            try addOrganizations(tx.query("SELECT \(organizationColumns) FROM organizations WHERE tax_id = ? LIMIT ?",
                                          [.text(stripped)] + params))
        }
        let key = foldKey(trimmed)
        let range: [SQLValue] = [.text(key), .text(prefixEnd(key))]
        try addOrganizations(tx.query("""
            SELECT \(organizationColumns) FROM organizations WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?
            """, range + params))
        try addOrganizations(NameWords.matches(tx, .organization, table: "organizations", columns: organizationColumns, key: key,
                                               excluding: organizationIDs, limit: limit - response.organizations.count))
        response.contacts = try tx.query("""
            SELECT \(contactColumns) FROM contacts WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?
            """, range + params).map(contact)
        response.contacts += try NameWords.matches(tx, .contact, table: "contacts", columns: contactColumns, key: key,
                                                   excluding: Set(response.contacts.map(\.id)), limit: limit - response.contacts.count).map(contact)
        response.representatives = try tx.query("""
            SELECT \(representativeColumns) FROM representatives WHERE name_key >= ? AND name_key < ? ORDER BY name_key LIMIT ?
            """, range + params).map { try representative(tx, $0) }
        response.representatives += try NameWords.matches(tx, .representative, table: "representatives", columns: representativeColumns,
                                                          key: key, excluding: Set(response.representatives.map(\.id)),
                                                          limit: limit - response.representatives.count).map { try representative(tx, $0) }
        return response
    }
}
