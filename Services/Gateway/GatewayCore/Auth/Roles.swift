import Messages

/// What a gateway user is.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// A customer company's authorized contact (an intake contact).
    case customerContact = "customer_contact"
    /// A customer company's administrator: also invites authorized contacts.
    case customerAdmin = "customer_admin"
    /// Support staff (a workflow agent).
    case agent
    /// Support staff who also write the knowledge base (articles, synonyms, the editors' queue).
    case knowledgeEditor = "knowledge_editor"
    /// An agent who supervises other agents.
    case chefe
    /// Configures the system.
    case administrator
    /// A person of a representative (a reseller's or consultant's staff, intake's
    /// RepresentativeContact): sees the tickets of the organizations the representative acts for.
    case representative

    public var isCustomer: Bool { self == .customerContact || self == .customerAdmin }

    /// Fine-grained permissions carried in the principal (services check them again).
    /// `knowledge.write` (editing the knowledge base) belongs to knowledge editors and
    /// administrators only, not to every agent.
    public var permissions: [String] {
        switch self {
        case .customerContact: ["tickets.open", "tickets.read_own_organization", "knowledge.read"]
        case .customerAdmin: ["tickets.open", "tickets.read_own_organization", "knowledge.read", "contacts.invite"]
        case .representative: ["tickets.read_represented_organizations", "knowledge.read"]
        case .agent: ["tickets.read", "tickets.work", "knowledge.read"]
        case .knowledgeEditor: ["tickets.read", "tickets.work", "knowledge.read", "knowledge.write"]
        case .chefe: ["tickets.read", "tickets.work", "tickets.transfer", "agents.supervise", "knowledge.read"]
        case .administrator: ["tickets.read", "tickets.work", "tickets.transfer", "tickets.link_customer", "agents.supervise",
                              "knowledge.read", "knowledge.write", "admin.configure", "admin.users", "admin.api_keys"]
        }
    }
}

/// A person who can sign in, linked to an intake contact or a workflow agent.
public struct User: Sendable, Codable, Equatable {
    public var id: String
    public var email: String
    public var displayName: String
    public var role: Role
    /// Intake's contact id (customers).
    public var contactID: String?
    /// Workflow's agent id (agents, chefes, administrators).
    public var agentID: String?
    /// The customer's organization (intake's id).
    public var organizationID: String?
    /// Representatives: intake's representative id (`contactID` is its representative contact).
    public var representativeID: String?
    /// Agents: the highest confidentiality level they may see.
    public var accessLevel: Int
    /// `active`, `invited` (no password yet) or `disabled`.
    public var status: String
    public var locale: String
    /// Why a `disabled` user is: by an administrator, or because its intake person is inactive.
    public var disabledBy: DisabledBy? = nil

    /// The principal of this user as its role says. A representative's represented
    /// organizations are filled in by the request (from intake); what the gateway signs for a
    /// request is ``RequestContext/principal``, whose `customer_admin` is one only while its
    /// contact has intake's `admin` flag (``RequestContext/effectiveUser``).
    public var principal: AuthV1.Principal {
        var p = AuthV1.Principal()
        let customerSide = role.isCustomer || role == .representative
        p.kind = customerSide ? .customer : .agent
        p.id = (customerSide ? contactID : agentID) ?? id
        if role == .representative { p.representativeID = representativeID ?? "" }
        p.displayName = displayName
        p.organizationID = organizationID ?? ""
        p.organizationAdmin = role == .customerAdmin
        p.accessLevel = Int32(clamping: accessLevel)
        p.chefe = role == .chefe || role == .administrator
        p.administrator = role == .administrator
        p.permissions = role.permissions
        p.email = email
        p.locale = locale
        return p
    }

    enum CodingKeys: String, CodingKey {
        case id, email, role, status, locale
        case displayName = "display_name", contactID = "contact_id", agentID = "agent_id"
        case organizationID = "organization_id", accessLevel = "access_level", representativeID = "representative_id"
        case disabledBy = "disabled_by"
    }
}

/// Why a sign-in is disabled (`gateway_users.disabled_by`).
public enum DisabledBy: String, Sendable, Codable {
    /// By hand by support (an administrator's `POST /v1/users/{id}/disable`; also every sign-in
    /// disabled by hand before `company` existed): only an administrator's enable undoes it, not
    /// the company's administrator's (403 `DISABLED_BY_SUPPORT`).
    case administrator
    /// By hand by the company's administrator (a `customer_admin`'s `POST /v1/users/{id}/disable`
    /// of one of its contacts): that company's administrators or support enable it again.
    case company
    /// Its intake contact (or representative's person) is inactive: reactivating that person
    /// enables it again (``ContactSignIns``).
    case contact
    /// Its workflow agent record is inactive (an agent, knowledge editor or chefe): reactivating
    /// the agent enables it again (``AgentSignIns``).
    case agent
}

/// An integration's API key as stored (the secret part only as a digest).
public struct APIKeyRecord: Sendable, Codable, Equatable {
    public var id: String
    public var name: String
    public var role: Role
    public var organizationID: String?
    public var accessLevel: Int
    public var permissions: [String]
    public var createdBy: String?
    public var createdAt: Int64
    public var revokedAt: Int64?

    /// The principal of calls made with this key: an integration with the key's own permissions;
    /// a key made with a customer's role is a customer of its organization instead (kind
    /// `customer`), so every service holds it to that organization's tickets and their public
    /// entries. As an integration it was staff to workflow and intake: every company's tickets at
    /// the key's level. Never its company's administrator, `customer_admin` included: a key names
    /// no contact, and a company's administrator is a contact with intake's `admin` flag
    /// (docs/GATEWAY.md, "Company administrators follow the contact's flag"). Until 2026-12-02 a
    /// `customer_admin` key was signed `organization_admin` and answered colleagues' proposed
    /// solutions in workflow, and listed the company's contacts and cancelled its tickets in intake.
    public var principal: AuthV1.Principal {
        var p = AuthV1.Principal()
        p.kind = role.isCustomer || role == .representative ? .customer : .integration
        p.id = id
        p.displayName = name
        p.organizationID = organizationID ?? ""
        p.organizationAdmin = false
        p.accessLevel = Int32(clamping: accessLevel)
        p.chefe = role == .chefe || role == .administrator
        p.administrator = role == .administrator
        p.permissions = permissions.isEmpty ? role.permissions : permissions
        return p
    }

    enum CodingKeys: String, CodingKey {
        case id, name, role, permissions
        case organizationID = "organization_id", accessLevel = "access_level", createdBy = "created_by"
        case createdAt = "created_at", revokedAt = "revoked_at"
    }
}
