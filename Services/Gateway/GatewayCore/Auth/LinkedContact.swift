import Foundation
import Storage

/// The intake person a sign-in is: a customer's contact of its organization, or a
/// representative's person (`RepresentativeContact`). Whether that person is active in intake
/// decides whether the sign-in works (``ContactSignIns``).
public struct LinkedContact: Hashable, Sendable {
    /// Whose person it is: intake lists people by it.
    public enum Owner: Hashable, Sendable {
        /// A customer organization (its contacts).
        case organization(String)
        /// A representative (its people).
        case representative(String)
    }

    public var contactID: String
    public var owner: Owner

    public init(contactID: String, owner: Owner) {
        self.contactID = contactID
        self.owner = owner
    }
}

extension User {
    /// The intake person this sign-in follows: customers' and representatives' logins. `nil`
    /// for staff, and for a customer or representative login that names no person (such a
    /// login signs in as nobody intake knows, and is refused at sign-in).
    public var linkedContact: LinkedContact? {
        guard let contactID, !contactID.isEmpty else { return nil }
        switch role {
        case .customerContact, .customerAdmin:
            guard let organizationID, !organizationID.isEmpty else { return nil }
            return LinkedContact(contactID: contactID, owner: .organization(organizationID))
        case .representative:
            guard let representativeID, !representativeID.isEmpty else { return nil }
            return LinkedContact(contactID: contactID, owner: .representative(representativeID))
        case .agent, .knowledgeEditor, .chefe, .administrator:
            return nil
        }
    }

    /// Customers and representatives sign in as an intake person (``linkedContact``).
    public var signsInAsIntakePerson: Bool { role.isCustomer || role == .representative }
}

extension CredentialStore {
    /// Blocks (`active` false) or unblocks the sign-ins that follow `person`:
    /// - inactive: every such sign-in not disabled yet becomes `disabled` because of the
    ///   contact, and its sessions end (here at once, on the other instances within the
    ///   revocation interval); one an administrator disabled stays disabled by the administrator;
    /// - active: only the sign-ins disabled because of the contact are enabled again (`active`
    ///   with a password, `invited` without); an administrator's disable stays.
    ///
    /// Idempotent, and safe to run on several instances at once (each change is one transaction
    /// whose conditions re-check the stored status).
    /// - Returns: the users changed.
    @discardableResult
    public func follow(_ person: LinkedContact, active: Bool) throws -> [String] {
        let (linked, arguments) = Self.linkedCondition(person)
        return try follow(linked, arguments, because: .contact, active: active)
    }

    /// Blocks or unblocks the sign-ins `condition` selects because of what they follow
    /// (`reason`: their intake person, their workflow agent): inactive disables those not
    /// disabled yet and ends their sessions; active enables only those disabled for `reason`.
    /// One transaction whose conditions re-check the stored status. The users changed.
    func follow(_ condition: String, _ arguments: [SQLValue], because reason: DisabledBy, active: Bool) throws -> [String] {
        let changed = try database.write { tx -> [String] in
            let now = Self.now()
            if active {
                let ids = try tx.query("SELECT id FROM gateway_users WHERE \(condition) AND status = 'disabled' AND disabled_by = ?",
                                       arguments + [.text(reason.rawValue)]).map { try $0.text("id") }
                for id in ids {
                    try tx.execute("""
                        UPDATE gateway_users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END,
                          disabled_by = NULL, updated_at = ?
                        WHERE id = ? AND status = 'disabled' AND disabled_by = ?
                        """, [.integer(now), .text(id), .text(reason.rawValue)])
                }
                return ids
            }
            let ids = try tx.query("SELECT id FROM gateway_users WHERE \(condition) AND status <> 'disabled'", arguments).map { try $0.text("id") }
            for id in ids {
                try tx.execute("UPDATE gateway_users SET status = 'disabled', disabled_by = ?, updated_at = ? WHERE id = ? AND status <> 'disabled'",
                               [.text(reason.rawValue), .integer(now), .text(id)])
                try Self.endSessions(tx, userID: id)
            }
            return ids
        }
        for id in changed { sessionCache.removeUser(id) }
        return changed
    }

    /// The people followed by sign-ins that a change announced under `key` may concern: intake
    /// keys a contact's `DirectoryChanged` by the contact id and `RepresentativeAccessChanged` by
    /// the representative id (watchers get no payload, so both readings are tried).
    public func linkedContacts(announcedAs key: String) throws -> Set<LinkedContact> {
        try database.read { tx in
            let rows = try tx.query("""
                SELECT role, contact_id, organization_id, representative_id FROM gateway_users
                WHERE (contact_id = ? AND role IN ('customer_contact', 'customer_admin')) OR (representative_id = ? AND role = 'representative')
                """, [.text(key), .text(key)])
            return Set(try rows.compactMap(Self.linkedContact))
        }
    }

    /// Every person some sign-in follows (to check them all after events may have been missed).
    public func allLinkedContacts() throws -> Set<LinkedContact> {
        try database.read { tx in
            let rows = try tx.query("""
                SELECT DISTINCT role, contact_id, organization_id, representative_id FROM gateway_users
                WHERE role IN ('customer_contact', 'customer_admin', 'representative') AND contact_id IS NOT NULL
                """, [])
            return Set(try rows.compactMap(Self.linkedContact))
        }
    }

    private static func linkedContact(_ row: Row) throws -> LinkedContact? {
        let user = User(id: "", email: "", displayName: "", role: Role(rawValue: try row.text("role")) ?? .agent,
                        contactID: row.optionalText("contact_id"), agentID: nil, organizationID: row.optionalText("organization_id"),
                        representativeID: row.optionalText("representative_id"), accessLevel: 0, status: "", locale: "")
        return user.linkedContact
    }

    /// The ids of the sign-ins that follow `person`, whatever their status.
    public func signIns(of person: LinkedContact) throws -> [String] {
        let (linked, arguments) = Self.linkedCondition(person)
        return try database.read { tx in
            try tx.query("SELECT id FROM gateway_users WHERE \(linked)", arguments).map { try $0.text("id") }
        }
    }

    /// Whether one of the sign-ins that follow `person` is its company's administrator
    /// (`customer_admin`), whatever its status.
    public func hasCompanyAdministratorSignIn(_ person: LinkedContact) throws -> Bool {
        let (linked, arguments) = Self.linkedCondition(person)
        return try database.read { tx in
            try tx.queryOne("SELECT id FROM gateway_users WHERE \(linked) AND role = 'customer_admin'", arguments) != nil
        }
    }

    /// The `WHERE` condition selecting the sign-ins that follow `person`.
    private static func linkedCondition(_ person: LinkedContact) -> (String, [SQLValue]) {
        switch person.owner {
        case .organization(let organizationID):
            ("contact_id = ? AND organization_id = ? AND role IN ('customer_contact', 'customer_admin')",
             [.text(person.contactID), .text(organizationID)])
        case .representative(let representativeID):
            ("contact_id = ? AND representative_id = ? AND role = 'representative'", [.text(person.contactID), .text(representativeID)])
        }
    }
}
