import Foundation
import RPCTransport
import Storage

/// The gateway's own storage: users, sessions, API keys and one-time password tokens. No ticket
/// data lives here. Works on SQLite and PostgreSQL (same SQL; `BIGINT` epoch milliseconds).
public final class CredentialStore: Sendable {
    public let database: any Database
    let sessionCache = SessionCache()
    let revocations: SessionRevocations

    /// - Parameter revocationCheckMilliseconds: how stale another instance's view of ended
    ///   sessions may be before this one looks again (0: no session cache).
    public init(database: any Database, revocationCheckMilliseconds: Int = 1_000) {
        self.database = database
        revocations = SessionRevocations(database: database, intervalMilliseconds: revocationCheckMilliseconds)
    }

    /// Versioned migrations of the gateway database (appended to, never edited).
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "credentials", sql: """
        CREATE TABLE gateway_users (
          id TEXT PRIMARY KEY,
          email TEXT NOT NULL UNIQUE,
          display_name TEXT NOT NULL,
          role TEXT NOT NULL,
          contact_id TEXT,
          agent_id TEXT,
          organization_id TEXT,
          access_level BIGINT NOT NULL DEFAULT 0,
          password_hash TEXT,
          status TEXT NOT NULL,
          locale TEXT NOT NULL DEFAULT 'pt-BR',
          invited_by TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL
        );
        CREATE INDEX gateway_users_organization ON gateway_users (organization_id);
        CREATE TABLE gateway_sessions (
          token_hash TEXT PRIMARY KEY,
          user_id TEXT NOT NULL REFERENCES gateway_users (id),
          kind TEXT NOT NULL,
          csrf_token TEXT NOT NULL,
          created_at BIGINT NOT NULL,
          expires_at BIGINT NOT NULL,
          client_address TEXT
        );
        CREATE INDEX gateway_sessions_user ON gateway_sessions (user_id);
        CREATE TABLE gateway_api_keys (
          id TEXT PRIMARY KEY,
          key_hash TEXT NOT NULL,
          name TEXT NOT NULL,
          role TEXT NOT NULL,
          organization_id TEXT,
          access_level BIGINT NOT NULL DEFAULT 0,
          permissions TEXT NOT NULL DEFAULT '',
          created_by TEXT,
          created_at BIGINT NOT NULL,
          revoked_at BIGINT
        );
        CREATE TABLE gateway_password_tokens (
          token_hash TEXT PRIMARY KEY,
          user_id TEXT NOT NULL REFERENCES gateway_users (id),
          purpose TEXT NOT NULL,
          expires_at BIGINT NOT NULL,
          used_at BIGINT
        );
        """),
        // Rate-limit windows shared by the gateway instances on one database (see SharedRateCounter).
        Migration(version: 2, name: "shared rate limits", sql: """
        CREATE TABLE gateway_rate_windows (
          bucket TEXT NOT NULL,
          window_start BIGINT NOT NULL,
          ends_at BIGINT NOT NULL,
          used BIGINT NOT NULL,
          PRIMARY KEY (bucket, window_start)
        );
        CREATE INDEX gateway_rate_windows_ends ON gateway_rate_windows (ends_at);
        """),
        // Representatives' people sign in too (role `representative`).
        Migration(version: 3, name: "representative users", sql: """
        ALTER TABLE gateway_users ADD COLUMN representative_id TEXT;
        """),
        // Shared by the instances on one database: sign-in attempts (LoginThrottle: failed ones,
        // and those being checked) and ended sessions (SessionRevocations). Buckets are SHA-256
        // of `e:<e-mail>` / `a:<address>`.
        Migration(version: 4, name: "shared login throttle and session revocations", sql: """
        CREATE TABLE gateway_login_failures (
          bucket TEXT NOT NULL,
          failed_at BIGINT NOT NULL,
          attempt TEXT NOT NULL
        );
        CREATE INDEX gateway_login_failures_bucket ON gateway_login_failures (bucket, failed_at);
        CREATE INDEX gateway_login_failures_attempt ON gateway_login_failures (attempt);
        CREATE INDEX gateway_login_failures_at ON gateway_login_failures (failed_at);
        CREATE TABLE gateway_revocation_clock (
          id BIGINT PRIMARY KEY,
          seq BIGINT NOT NULL
        );
        INSERT INTO gateway_revocation_clock (id, seq) VALUES (1, 0);
        CREATE TABLE gateway_session_revocations (
          seq BIGINT PRIMARY KEY,
          token_hash TEXT,
          user_id TEXT,
          revoked_at BIGINT NOT NULL
        );
        CREATE INDEX gateway_session_revocations_at ON gateway_session_revocations (revoked_at);
        """),
        // Why a sign-in is disabled: `administrator` (by hand; only an administrator enables it
        // again) or `contact` (its intake contact or representative's person is inactive; it is
        // enabled again when that person is reactivated). Sign-ins disabled before this migration
        // count as the administrator's. See ContactSignIns.
        Migration(version: 5, name: "why a sign-in is disabled", sql: """
        ALTER TABLE gateway_users ADD COLUMN disabled_by TEXT;
        UPDATE gateway_users SET disabled_by = 'administrator' WHERE status = 'disabled';
        CREATE INDEX gateway_users_contact ON gateway_users (contact_id);
        CREATE INDEX gateway_users_representative ON gateway_users (representative_id);
        """),
        // One sign-in per intake person (contact of an organization, or representative's person:
        // the contact id with its organization or representative), as a unique index:
        // the check before the insert let two invitations at once both pass. Duplicates an
        // existing deployment may hold are resolved first, the same on every engine: per
        // contact the sign-in kept linked is the oldest active one (else the oldest), by
        // `created_at` then `id`; every other is unlinked (`contact_id` NULL: it signs in as
        // nobody, refused as CONTACT_INACTIVE), disabled by support (`disabled_by =
        // 'administrator'`) and its sessions end. Support sees them in `GET /v1/users`.
        Migration(version: 6, name: "one sign-in per contact", sql: """
        DELETE FROM gateway_sessions WHERE user_id IN (
          SELECT u.id FROM gateway_users u WHERE u.contact_id IS NOT NULL AND u.id <> (
            SELECT k.id FROM gateway_users k WHERE k.contact_id = u.contact_id
              AND COALESCE(k.organization_id, '') = COALESCE(u.organization_id, '')
              AND COALESCE(k.representative_id, '') = COALESCE(u.representative_id, '')
            ORDER BY CASE WHEN k.status = 'active' THEN 0 ELSE 1 END, k.created_at, k.id LIMIT 1));
        UPDATE gateway_users SET status = 'disabled', disabled_by = 'administrator', contact_id = NULL
        WHERE contact_id IS NOT NULL AND id <> (
          SELECT k.id FROM gateway_users k WHERE k.contact_id = gateway_users.contact_id
            AND COALESCE(k.organization_id, '') = COALESCE(gateway_users.organization_id, '')
            AND COALESCE(k.representative_id, '') = COALESCE(gateway_users.representative_id, '')
          ORDER BY CASE WHEN k.status = 'active' THEN 0 ELSE 1 END, k.created_at, k.id LIMIT 1);
        CREATE UNIQUE INDEX gateway_users_one_per_contact
          ON gateway_users (contact_id, COALESCE(organization_id, ''), COALESCE(representative_id, '')) WHERE contact_id IS NOT NULL;
        """),
        // A company administrator's invitation of an address that has a sign-in outside their
        // company: answered as a fresh invitation, nothing made that could link or take over the
        // account; what stands for it in the company's list (``QuietInvitation``). One per
        // address and company, as sign-ins are one per address.
        Migration(version: 7, name: "quiet invitations", sql: """
        CREATE TABLE gateway_quiet_invitations (
          id TEXT PRIMARY KEY,
          organization_id TEXT NOT NULL,
          email TEXT NOT NULL,
          display_name TEXT NOT NULL,
          contact_id TEXT,
          status TEXT NOT NULL,
          disabled_by TEXT,
          invited_by TEXT,
          created_at BIGINT NOT NULL,
          updated_at BIGINT NOT NULL,
          UNIQUE (organization_id, email)
        );
        """),
    ]

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: users

    /// Creates a user.
    /// - Throws: ``APIError`` 409 when the e-mail is taken.
    @discardableResult
    public func createUser(email: String, displayName: String, role: Role, contactID: String? = nil, agentID: String? = nil,
                           organizationID: String? = nil, representativeID: String? = nil, accessLevel: Int = 0, passwordHash: String?,
                           invitedBy: String? = nil, locale: String = "pt-BR") throws -> User {
        try database.write { tx in
            try createUser(tx, email: email, displayName: displayName, role: role, contactID: contactID, agentID: agentID,
                           organizationID: organizationID, representativeID: representativeID, accessLevel: accessLevel,
                           passwordHash: passwordHash, invitedBy: invitedBy, locale: locale)
        }
    }

    /// ``createUser(email:displayName:role:contactID:agentID:organizationID:representativeID:accessLevel:passwordHash:invitedBy:locale:)``
    /// in the caller's transaction (with the call's idempotency key, say).
    /// - Throws: ``APIError`` 409 when the e-mail is taken, 400 when it is no address
    ///   (``SignInAddress``).
    public func createUser(_ tx: any SQLExecutor, email: String, displayName: String, role: Role, contactID: String? = nil, agentID: String? = nil,
                           organizationID: String? = nil, representativeID: String? = nil, accessLevel: Int = 0, passwordHash: String?,
                           invitedBy: String? = nil, locale: String = "pt-BR") throws -> User {
        try SignInAddress.check(email)
        let user = User(id: "U-" + Tokens.random(9), email: SignInAddress.normalized(email), displayName: displayName, role: role,
                        contactID: contactID, agentID: agentID, organizationID: organizationID, representativeID: representativeID,
                        accessLevel: accessLevel, status: passwordHash == nil ? "invited" : "active", locale: locale)
        let now = Self.now()
        do {
            try tx.execute("""
                INSERT INTO gateway_users (id, email, display_name, role, contact_id, agent_id, organization_id, representative_id,
                  access_level, password_hash, status, locale, invited_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(user.id), .text(user.email), .text(displayName), .text(role.rawValue), SQLValue(contactID),
                      SQLValue(agentID), SQLValue(organizationID), SQLValue(representativeID), .integer(Int64(accessLevel)), SQLValue(passwordHash),
                      .text(user.status), .text(locale), SQLValue(invitedBy), .integer(now), .integer(now)])
        } catch let error as StorageError where error.kind == .uniqueViolation {
            // SQLite names the column (`gateway_users.contact_id`), PostgreSQL the index.
            let text = error.message + " " + (error.code ?? "")
            throw text.contains("contact_id") || text.contains("one_per_contact") ? Self.contactHasSignIn : Self.emailTaken
        }
        return user
    }

    /// 409: the intake person already has a sign-in (one per contact: a second login would act
    /// as that person with another e-mail and password). The check before the insert
    /// (``signIns(of:)``) answers it early; the unique index (migration 6) when two race.
    public static let contactHasSignIn = APIError(status: 409, code: "ALREADY_EXISTS", pt: "Este contato já tem um acesso ao portal.",
                                                  en: "This contact already has a sign-in.",
                                                  details: [.init(field: "contact_id", reason: "has_sign_in", pt: "o contato já tem um acesso",
                                                                  en: "the contact already has a sign-in")])

    /// 409: a user with that e-mail exists.
    public static let emailTaken = APIError(status: 409, code: "ALREADY_EXISTS", pt: "Já existe um usuário com esse e-mail.",
                                            en: "A user with that e-mail already exists.",
                                            details: [.init(field: "email", reason: "taken", pt: "já está em uso por outro usuário", en: "already used by another user")])

    /// The user and password hash for `email`.
    public func userWithHash(email: String) throws -> (User, String?)? {
        try database.read { tx in
            try tx.queryOne("SELECT * FROM gateway_users WHERE email = ?", [.text(SignInAddress.normalized(email))]).map {
                (try Self.user($0), $0.optionalText("password_hash"))
            }
        }
    }

    public func user(id: String) throws -> User? {
        try database.read { tx in try tx.queryOne("SELECT * FROM gateway_users WHERE id = ?", [.text(id)]).map(Self.user) }
    }

    /// Users, optionally of one organization, ordered by e-mail.
    public func users(organizationID: String? = nil) throws -> [User] {
        try database.read { tx in
            if let organizationID {
                return try tx.query("SELECT * FROM gateway_users WHERE organization_id = ? ORDER BY email", [.text(organizationID)]).map(Self.user)
            }
            return try tx.query("SELECT * FROM gateway_users ORDER BY email", []).map(Self.user)
        }
    }

    /// Sets a password (and activates an invited user); ends every session of the user.
    public func setPassword(userID: String, hash: String) throws {
        try database.write { tx in
            try tx.execute("UPDATE gateway_users SET password_hash = ?, status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = ? WHERE id = ?",
                           [.text(hash), .integer(Self.now()), .text(userID)])
            try Self.endSessions(tx, userID: userID)
            try Self.endPasswordTokens(tx, userID: userID)
        }
        sessionCache.removeUser(userID)
    }

    /// Ends every session (portal cookies and bearer tokens) of `userID`: here once the caller
    /// drops them from the cache (``forgetSessions(userID:)``), on the other instances within the
    /// revocation interval.
    static func endSessions(_ tx: any SQLExecutor, userID: String) throws {
        try tx.execute("DELETE FROM gateway_sessions WHERE user_id = ?", [.text(userID)])
        try SessionRevocations.record(tx, userID: userID)
    }

    /// Signs `userID` out everywhere (`POST /v1/auth/logout?everywhere=true`): every session and
    /// token ends; the password and API keys stay.
    public func endSessions(userID: String) throws {
        try database.write { tx in try Self.endSessions(tx, userID: userID) }
        sessionCache.removeUser(userID)
    }

    /// Uses up every one-time link (reset, invitation) the user still has: a password set one way
    /// ends the others, so a link read from an old mailbox cannot set it again.
    static func endPasswordTokens(_ tx: any SQLExecutor, userID: String) throws {
        try tx.execute("UPDATE gateway_password_tokens SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
                       [.integer(now()), .text(userID)])
    }

    /// Changes a member of the team's name, role, access level, and gives one without an agent
    /// record its agent id. Sessions stay; their next request sees the change here at once and on
    /// the other instances within the revocation interval.
    public func updateStaff(userID: String, displayName: String, role: Role, accessLevel: Int, agentID: String?) throws {
        try database.write { tx in try updateStaff(tx, userID: userID, displayName: displayName, role: role, accessLevel: accessLevel, agentID: agentID) }
        forgetSessions(userID: userID)
    }

    /// ``updateStaff(userID:displayName:role:accessLevel:agentID:)`` in the caller's transaction;
    /// the caller then calls ``forgetSessions(userID:)`` once it committed.
    public func updateStaff(_ tx: any SQLExecutor, userID: String, displayName: String, role: Role, accessLevel: Int, agentID: String?) throws {
        try tx.execute("""
            UPDATE gateway_users SET display_name = ?, role = ?, access_level = ?, agent_id = coalesce(agent_id, ?), updated_at = ?
            WHERE id = ?
            """, [.text(displayName), .text(role.rawValue), .integer(Int64(accessLevel)), SQLValue(agentID), .integer(Self.now()),
                  .text(userID)])
        try SessionRevocations.record(tx, userID: userID)
    }

    /// Links a sign-in that has no agent record to workflow's agent `agentID` (``AdministratorAgent``);
    /// one that has one keeps it. Whether it was linked now.
    @discardableResult
    public func linkAgent(userID: String, agentID: String) throws -> Bool {
        let linked = try database.write { tx in
            let changed = try tx.execute("UPDATE gateway_users SET agent_id = ?, updated_at = ? WHERE id = ? AND agent_id IS NULL",
                                         [.text(agentID), .integer(Self.now()), .text(userID)])
            if changed > 0 { try SessionRevocations.record(tx, userID: userID) }
            return changed > 0
        }
        forgetSessions(userID: userID)
        return linked
    }

    /// Drops this instance's cached sessions of `userID` (after a change to the user committed).
    public func forgetSessions(userID: String) {
        sessionCache.removeUser(userID)
    }

    /// Sets a user's status; `disabled` (by hand, `by` support's administrator or the company's:
    /// only an enable undoes it, not a contact's reactivation) also ends its sessions.
    public func setStatus(userID: String, status: String, by: DisabledBy = .administrator) throws {
        try database.write { tx in try setStatus(tx, userID: userID, status: status, by: by) }
        forgetSessions(userID: userID)
    }

    /// ``setStatus(userID:status:by:)`` in the caller's transaction; the caller then calls
    /// ``forgetSessions(userID:)`` once it committed. A company's disable (`by: .company`) of a
    /// sign-in support already disabled keeps it support's (``DisabledBy/administrator``): the
    /// company cannot turn support's block into one it may lift.
    public func setStatus(_ tx: any SQLExecutor, userID: String, status: String, by: DisabledBy = .administrator) throws {
        try tx.execute("""
            UPDATE gateway_users SET status = ?,
              disabled_by = CASE WHEN ? = 'company' AND status = 'disabled' AND disabled_by = 'administrator' THEN disabled_by ELSE ? END,
              updated_at = ?
            WHERE id = ?
            """, [.text(status), .text(by.rawValue), status == "disabled" ? .text(by.rawValue) : .null, .integer(Self.now()), .text(userID)])
        if status == "disabled" { try tx.execute("DELETE FROM gateway_sessions WHERE user_id = ?", [.text(userID)]) }
        try SessionRevocations.record(tx, userID: userID)
    }

    /// Lets a disabled user sign in again: `active` with a password, `invited` (the invitation
    /// link still works until it expires) without one. Other statuses are left as they are.
    public func enable(userID: String) throws {
        try database.write { tx in try enable(tx, userID: userID) }
        forgetSessions(userID: userID)
    }

    /// ``enable(userID:)`` in the caller's transaction; the caller then calls
    /// ``forgetSessions(userID:)`` once it committed.
    public func enable(_ tx: any SQLExecutor, userID: String) throws {
        try tx.execute("""
            UPDATE gateway_users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END, disabled_by = NULL,
              updated_at = ?
            WHERE id = ? AND status = 'disabled'
            """, [.integer(Self.now()), .text(userID)])
    }

    static func user(_ row: Row) throws -> User {
        User(id: try row.text("id"), email: try row.text("email"), displayName: try row.text("display_name"),
             role: Role(rawValue: try row.text("role")) ?? .customerContact, contactID: row.optionalText("contact_id"),
             agentID: row.optionalText("agent_id"), organizationID: row.optionalText("organization_id"),
             representativeID: row.optionalText("representative_id"),
             accessLevel: Int(try row.int("access_level")), status: try row.text("status"), locale: try row.text("locale"),
             disabledBy: row.optionalText("disabled_by").flatMap(DisabledBy.init(rawValue:)))
    }

    // MARK: sessions

    /// A signed-in session: cookie (portal, with a CSRF token) or bearer (CLI, integrations).
    public struct Session: Sendable {
        public var tokenHash: String
        public var kind: String
        public var csrfToken: String
        public var expiresAt: Int64
        public var user: User
    }

    /// Starts a session; returns the token to hand out (only its digest is stored).
    public func createSession(user: User, kind: String, lifetimeSeconds: Int, clientAddress: String) throws -> (token: String, session: Session) {
        let token = Tokens.random(32)
        let session = Session(tokenHash: Tokens.digest(token), kind: kind, csrfToken: Tokens.random(24),
                              expiresAt: Self.now() + Int64(lifetimeSeconds) * 1000, user: user)
        try database.write { tx in
            try tx.execute("""
                INSERT INTO gateway_sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at, client_address)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, [.text(session.tokenHash), .text(user.id), .text(kind), .text(session.csrfToken), .integer(Self.now()),
                      .integer(session.expiresAt), .text(clientAddress)])
        }
        return (token, session)
    }

    /// The live session of `token`, `nil` when unknown, expired or its user is not active.
    public func session(token: String) throws -> Session? {
        let hash = Tokens.digest(token)
        let now = Self.now()
        // The cache is used only while this instance has seen every revocation older than the interval.
        let cacheUsable = revocations.refresh(sessionCache)
        if cacheUsable, let cached = sessionCache.get(hash, now: now) { return cached.expiresAt > now ? cached : nil }
        let generation = sessionCache.generation
        let found = try database.read { tx -> Session? in
            guard let row = try tx.queryOne("""
                SELECT s.kind, s.csrf_token, s.expires_at, u.* FROM gateway_sessions s JOIN gateway_users u ON u.id = s.user_id
                WHERE s.token_hash = ?
                """, [.text(hash)]) else { return nil }
            return Session(tokenHash: hash, kind: try row.text("kind"), csrfToken: try row.text("csrf_token"),
                           expiresAt: try row.int("expires_at"), user: try Self.user(row))
        }
        guard let found, found.expiresAt > now, found.user.status == "active" else { return nil }
        if cacheUsable { sessionCache.put(found, now: now, ifGeneration: generation) }
        return found
    }

    /// Ends a session, here at once and on the other instances within the revocation interval.
    public func deleteSession(tokenHash: String) throws {
        try database.write { tx in
            try tx.execute("DELETE FROM gateway_sessions WHERE token_hash = ?", [.text(tokenHash)])
            try SessionRevocations.record(tx, tokenHash: tokenHash)
        }
        sessionCache.remove(tokenHash)
    }

    // MARK: API keys

    /// Creates an API key; returns the key text (shown once: `ocr_<id>_<secret>`).
    public func createAPIKey(name: String, role: Role, organizationID: String?, accessLevel: Int, permissions: [String],
                             createdBy: String?) throws -> (key: String, record: APIKeyRecord) {
        try database.write { tx in
            try createAPIKey(tx, name: name, role: role, organizationID: organizationID, accessLevel: accessLevel, permissions: permissions,
                             createdBy: createdBy)
        }
    }

    /// ``createAPIKey(name:role:organizationID:accessLevel:permissions:createdBy:)`` in the caller's transaction.
    public func createAPIKey(_ tx: any SQLExecutor, name: String, role: Role, organizationID: String?, accessLevel: Int, permissions: [String],
                             createdBy: String?) throws -> (key: String, record: APIKeyRecord) {
        let id = "K" + Tokens.digest(Tokens.random(8)).prefix(15)
        let secret = Tokens.random(32)
        let record = APIKeyRecord(id: id, name: name, role: role, organizationID: organizationID, accessLevel: accessLevel,
                                  permissions: permissions, createdBy: createdBy, createdAt: Self.now(), revokedAt: nil)
        try tx.execute("""
            INSERT INTO gateway_api_keys (id, key_hash, name, role, organization_id, access_level, permissions, created_by, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(Tokens.digest(secret)), .text(name), .text(role.rawValue), SQLValue(organizationID),
                  .integer(Int64(accessLevel)), .text(permissions.joined(separator: " ")), SQLValue(createdBy), .integer(record.createdAt)])
        return ("ocr_\(id)_\(secret)", record)
    }

    /// 401: the key is right, but the sign-in that made it is disabled or gone.
    public static let apiKeyCreatorDisabled = APIError(
        status: 401, code: "API_KEY_CREATOR_DISABLED",
        pt: "Esta chave de API foi criada por um acesso que está desativado (ou foi removido); ela volta a funcionar se ele for reativado, ou crie outra.",
        en: "This API key was made by a sign-in that is disabled (or removed); it works again if that sign-in is enabled, or make another key.")

    /// The active key matching `key`, `nil` when malformed, unknown, revoked or wrong.
    ///
    /// A key made by a sign-in (`created_by`) works only while that sign-in is not disabled and
    /// still exists: an administrator who leaves is disabled, and their keys stop with them
    /// (and work again if they are enabled). Keys whose maker is unknown (`created_by` empty:
    /// made with another key, or before keys recorded it) keep working.
    /// - Throws: ``apiKeyCreatorDisabled`` for a right key whose maker is disabled or gone.
    public func verifyAPIKey(_ key: String) throws -> APIKeyRecord? {
        guard key.hasPrefix("ocr_") else { return nil }
        let rest = key.dropFirst(4)
        guard let separator = rest.firstIndex(of: "_") else { return nil }
        let id = String(rest[..<separator])
        let secret = String(rest[rest.index(after: separator)...])
        guard !id.isEmpty, !secret.isEmpty else { return nil }
        let row = try database.read { tx in
            try tx.queryOne("""
                SELECT k.*, u.id AS creator_id, u.status AS creator_status FROM gateway_api_keys k
                LEFT JOIN gateway_users u ON u.id = k.created_by WHERE k.id = ?
                """, [.text(id)])
        }
        guard let row, try row.optionalInt("revoked_at") == nil,
              Digest.constantTimeEqual(try row.text("key_hash"), Tokens.digest(secret)) else { return nil }
        let record = try Self.apiKey(row)
        if let creator = record.createdBy, !creator.isEmpty,
           row.optionalText("creator_id") == nil || row.optionalText("creator_status") == "disabled" {
            throw Self.apiKeyCreatorDisabled
        }
        return record
    }

    public func apiKeys() throws -> [APIKeyRecord] {
        try database.read { tx in try tx.query("SELECT * FROM gateway_api_keys ORDER BY created_at", []).map(Self.apiKey) }
    }

    /// Revokes a key; false when unknown.
    public func revokeAPIKey(id: String) throws -> Bool {
        try database.write { tx in
            try tx.execute("UPDATE gateway_api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.integer(Self.now()), .text(id)]) > 0
        }
    }

    static func apiKey(_ row: Row) throws -> APIKeyRecord {
        APIKeyRecord(id: try row.text("id"), name: try row.text("name"), role: Role(rawValue: try row.text("role")) ?? .customerContact,
                     organizationID: row.optionalText("organization_id"), accessLevel: Int(try row.int("access_level")),
                     permissions: try row.text("permissions").split(separator: " ").map(String.init),
                     createdBy: row.optionalText("created_by"), createdAt: try row.int("created_at"),
                     revokedAt: try row.optionalInt("revoked_at"))
    }

    // MARK: one-time tokens (password reset, invitation)

    /// A token for `purpose` (`reset` or `invite`) valid for `lifetimeSeconds`.
    public func createPasswordToken(userID: String, purpose: String, lifetimeSeconds: Int) throws -> String {
        try database.write { tx in try createPasswordToken(tx, userID: userID, purpose: purpose, lifetimeSeconds: lifetimeSeconds) }
    }

    /// ``createPasswordToken(userID:purpose:lifetimeSeconds:)`` in the caller's transaction.
    public func createPasswordToken(_ tx: any SQLExecutor, userID: String, purpose: String, lifetimeSeconds: Int) throws -> String {
        let token = Tokens.random(32)
        try tx.execute("INSERT INTO gateway_password_tokens (token_hash, user_id, purpose, expires_at) VALUES (?, ?, ?, ?)",
                       [.text(Tokens.digest(token)), .text(userID), .text(purpose), .integer(Self.now() + Int64(lifetimeSeconds) * 1000)])
        return token
    }

    /// How many reset links `userID` may have unused and unexpired at once: more asks within the
    /// hour send nothing (the answer stays the same 202), so nobody can fill a person's mailbox with
    /// reset e-mails (or notification's queue with them) at the per-IP rate limit.
    public static let outstandingResetLimit = 3

    /// A reset link (`reset`, one hour) for `userID`, or `nil` when it already has
    /// ``outstandingResetLimit`` unused ones.
    public func createResetToken(userID: String) throws -> String? {
        try database.write { tx in
            let outstanding = try tx.scalar("""
                SELECT COUNT(*) FROM gateway_password_tokens WHERE user_id = ? AND purpose = 'reset' AND used_at IS NULL AND expires_at > ?
                """, [.text(userID), .integer(Self.now())])
            guard case .integer(let count) = outstanding, count < Self.outstandingResetLimit else { return nil }
            return try createPasswordToken(tx, userID: userID, purpose: "reset", lifetimeSeconds: 3600)
        }
    }

    /// A new invitation token for `userID`, its unused earlier ones spent in the same transaction
    /// (a resent invitation: only the newest link works).
    public func renewInvitationToken(_ tx: any SQLExecutor, userID: String, lifetimeSeconds: Int) throws -> String {
        try tx.execute("UPDATE gateway_password_tokens SET used_at = ? WHERE user_id = ? AND purpose = 'invite' AND used_at IS NULL",
                       [.integer(Self.now()), .text(userID)])
        return try createPasswordToken(tx, userID: userID, purpose: "invite", lifetimeSeconds: lifetimeSeconds)
    }

    /// Uses a token once and sets the password in the same transaction; returns the user id, or
    /// `nil` when the token is unknown, used or expired.
    ///
    /// The token is taken by one conditional `UPDATE` before anything else: of two uses at once
    /// (a double submit, or a link read by someone else), the second waits for the first's row
    /// lock and then finds the token used. A read of `used_at` first, as before, let both pass on
    /// PostgreSQL (each set its password; the last one stayed).
    public func consumePasswordToken(_ token: String, newHash: String) throws -> String? {
        let hash = Tokens.digest(token)
        let userID = try database.write { tx -> String? in
            let now = Self.now()
            guard try tx.execute("UPDATE gateway_password_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
                                 [.integer(now), .text(hash), .integer(now)]) == 1,
                  let row = try tx.queryOne("SELECT user_id FROM gateway_password_tokens WHERE token_hash = ?", [.text(hash)]) else { return nil }
            let userID = try row.text("user_id")
            try Self.endPasswordTokens(tx, userID: userID)
            try tx.execute("UPDATE gateway_users SET password_hash = ?, status = CASE WHEN status = 'invited' THEN 'active' ELSE status END, updated_at = ? WHERE id = ?",
                           [.text(newHash), .integer(Self.now()), .text(userID)])
            try Self.endSessions(tx, userID: userID)
            return userID
        }
        if let userID { sessionCache.removeUser(userID) }
        return userID
    }

    /// The user a still-valid token belongs to (without using it).
    public func passwordTokenUser(_ token: String) throws -> User? {
        try database.read { tx in
            guard let row = try tx.queryOne("""
                SELECT u.* FROM gateway_password_tokens t JOIN gateway_users u ON u.id = t.user_id
                WHERE t.token_hash = ? AND t.used_at IS NULL AND t.expires_at > ?
                """, [.text(Tokens.digest(token)), .integer(Self.now())]) else { return nil }
            return try Self.user(row)
        }
    }
}

/// Sessions looked up in the last few seconds, so an authenticated request does not always read
/// the database. Logout and password changes on this instance clear entries at once; other
/// instances learn of them through ``SessionRevocations`` within its interval (1 s by default).
final class SessionCache: @unchecked Sendable {
    static let ttlMilliseconds: Int64 = 5_000
    private let lock = NSLock()
    private var entries: [String: (CredentialStore.Session, Int64)] = [:]
    /// Counts removals: a lookup read from the database is stored only when no removal happened
    /// since its read began (it may predate a revocation).
    private var removals: UInt64 = 0

    var generation: UInt64 { lock.withLock { removals } }

    func get(_ hash: String, now: Int64) -> CredentialStore.Session? {
        lock.lock(); defer { lock.unlock() }
        guard let (session, at) = entries[hash] else { return nil }
        if now - at > Self.ttlMilliseconds { entries[hash] = nil; return nil }
        return session
    }

    /// Stores a lookup read from the database, unless a removal happened since `generation`.
    func put(_ session: CredentialStore.Session, now: Int64, ifGeneration generation: UInt64) {
        lock.lock(); defer { lock.unlock() }
        guard removals == generation else { return }
        if entries.count > 10_000 { entries.removeAll() }
        entries[session.tokenHash] = (session, now)
    }

    func remove(_ hash: String) { apply(tokenHashes: [hash], userIDs: []) }
    func removeUser(_ userID: String) { apply(tokenHashes: [], userIDs: [userID]) }

    /// Drops the sessions named and every session of the users named.
    func apply(tokenHashes: [String], userIDs: [String]) {
        lock.lock(); defer { lock.unlock() }
        removals &+= 1
        for hash in tokenHashes { entries[hash] = nil }
        if !userIDs.isEmpty {
            let users = Set(userIDs)
            entries = entries.filter { !users.contains($0.value.0.user.id) }
        }
    }
}
