import Storage

/// `gateway_quiet_invitations` (migration 7): what stands, in a company's list of sign-ins, for
/// an invitation its administrator made of an address that has a sign-in elsewhere in the
/// deployment (``QuietInvitation``). A quiet invitation is no sign-in: no password, no link, no
/// session can ever come from it; it is read as a ``User`` (`customer_contact`, `invited` or
/// `disabled`) only to be shown and managed as the company's administrator would a real one.
extension CredentialStore {
    /// Records a quiet invitation of `email` by `invitedBy` for `organizationID`.
    /// - Throws: ``emailTaken`` when the company already has one for the address (as a second
    ///   real invitation of the address would be).
    public func createQuietInvitation(_ tx: any SQLExecutor, organizationID: String, email: String, displayName: String,
                                      contactID: String?, invitedBy: String?) throws -> User {
        let user = User(id: "U-" + Tokens.random(9), email: SignInAddress.normalized(email), displayName: displayName,
                        role: .customerContact, contactID: contactID, organizationID: organizationID, accessLevel: 0,
                        status: "invited", locale: "pt-BR")
        let now = Self.now()
        do {
            try tx.execute("""
                INSERT INTO gateway_quiet_invitations (id, organization_id, email, display_name, contact_id, status, invited_by,
                  created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, 'invited', ?, ?, ?)
                """, [.text(user.id), .text(organizationID), .text(user.email), .text(displayName), SQLValue(contactID),
                      SQLValue(invitedBy), .integer(now), .integer(now)])
        } catch let error as StorageError where error.kind == .uniqueViolation {
            throw Self.emailTaken
        }
        return user
    }

    /// The quiet invitations of `organizationID`, by e-mail.
    public func quietInvitations(organizationID: String) throws -> [User] {
        try database.read { tx in
            try tx.query("SELECT * FROM gateway_quiet_invitations WHERE organization_id = ? ORDER BY email", [.text(organizationID)])
                .map(Self.quietInvitation)
        }
    }

    /// The quiet invitation `id` of `organizationID`, nil when there is none.
    public func quietInvitation(id: String, organizationID: String) throws -> User? {
        try database.read { tx in
            try tx.queryOne("SELECT * FROM gateway_quiet_invitations WHERE id = ? AND organization_id = ?",
                            [.text(id), .text(organizationID)]).map(Self.quietInvitation)
        }
    }

    /// Whether `organizationID` has a quiet invitation of `email`.
    public func hasQuietInvitation(email: String, organizationID: String) throws -> Bool {
        try database.read { tx in
            try tx.queryOne("SELECT id FROM gateway_quiet_invitations WHERE email = ? AND organization_id = ?",
                            [.text(SignInAddress.normalized(email)), .text(organizationID)]) != nil
        }
    }

    /// Whether a quiet invitation of `organizationID` names `contactID` (as a real one would have
    /// linked it: the company's administrator is told it has a sign-in).
    public func hasQuietInvitation(contactID: String, organizationID: String) throws -> Bool {
        try database.read { tx in
            try tx.queryOne("SELECT id FROM gateway_quiet_invitations WHERE contact_id = ? AND organization_id = ?",
                            [.text(contactID), .text(organizationID)]) != nil
        }
    }

    /// Disables (by the company) or enables a quiet invitation, as ``setStatus(_:userID:status:by:)``
    /// and ``enable(_:userID:)`` do a pending invitation.
    public func setQuietInvitation(_ tx: any SQLExecutor, id: String, disabled: Bool) throws {
        try tx.execute("UPDATE gateway_quiet_invitations SET status = ?, disabled_by = ?, updated_at = ? WHERE id = ?",
                       [.text(disabled ? "disabled" : "invited"), disabled ? .text(DisabledBy.company.rawValue) : .null,
                        .integer(Self.now()), .text(id)])
    }

    static func quietInvitation(_ row: Row) throws -> User {
        User(id: try row.text("id"), email: try row.text("email"), displayName: try row.text("display_name"), role: .customerContact,
             contactID: row.optionalText("contact_id"), organizationID: try row.text("organization_id"), accessLevel: 0,
             status: try row.text("status"), locale: "pt-BR",
             disabledBy: row.optionalText("disabled_by").flatMap(DisabledBy.init(rawValue:)))
    }
}
