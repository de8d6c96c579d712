import Messages
import RPC
import Storage

/// Who is acting, resolved from the signed principal and the staff directory.
///
/// For agents the directory is authoritative when it knows them (chefe flag, active, role
/// permissions); an agent the directory does not know keeps what the gateway signed. The access
/// level is the **lower** of the two: the gateway's sign-in and workflow's agent record are set
/// apart by an administrator (or by a change saved in one and not yet in the other), and the
/// safe reading of two levels is the smaller; metrics, SLA and surveys use the same one
/// (``TicketCoreSeam/caller(_:_:)``).
public struct Actor: Sendable {
    public enum Kind: String, Sendable { case agent, customer, service }

    public var kind: Kind
    public var id: String
    public var name: String
    public var email: String
    /// Highest access level the actor may see (agents and services).
    public var level: Int32
    public var isChefe: Bool
    public var isAdministrator: Bool
    /// Customers: their organization.
    public var organizationID: String
    /// Customers: every organization whose tickets they see — their own, or, for a
    /// representative's person, the organizations the representative acts for (as the gateway
    /// signed them, from intake).
    public var organizationIDs: [String]
    public var permissions: Set<String>
    /// An integration's API key (kind ``Kind/agent`` otherwise): changes tickets only with
    /// ``workPermission`` (``requireWork()``).
    public var isIntegration = false
    /// Customers: the representative whose person the actor is ("" for a company's own contact).
    public var representativeID = ""
    /// Customers: a company administrator (`organization_admin`) of their organization.
    public var isOrganizationAdmin = false

    /// The permission to change tickets (take, move, write, transfer…): every agent role of the
    /// gateway holds it; an integration's key only when it was given it.
    public static let workPermission = "tickets.work"

    public init(kind: Kind, id: String, name: String, email: String = "", level: Int32 = 0, isChefe: Bool = false,
                isAdministrator: Bool = false, organizationID: String = "", organizationIDs: [String]? = nil, permissions: Set<String> = []) {
        self.kind = kind
        self.id = id
        self.name = name
        self.email = email
        self.level = level
        self.isChefe = isChefe
        self.isAdministrator = isAdministrator
        self.organizationID = organizationID
        self.organizationIDs = organizationIDs ?? (organizationID.isEmpty ? [] : [organizationID])
        self.permissions = permissions
    }

    /// The workflow service acting on its own (event handlers, timers).
    public static let system = Actor(kind: .service, id: "workflow", name: "workflow", level: Int32.max, isAdministrator: true)

    public var isStaff: Bool { kind != .customer }

    public func has(_ permission: String) -> Bool {
        isAdministrator || kind == .service || permissions.contains(permission)
    }

    /// Names of the permission to change (link) a ticket's contact or representative: the
    /// gateway's `tickets.link_customer` first, then spellings used elsewhere.
    public static let linkCustomersPermissions = ["tickets.link_customer", "tickets.link_customers", "link_customers"]

    /// Whether the actor may change the contact or representative of `ticket`: open, held by the
    /// actor (or by an agent whose chefe the actor is), and the link-customers permission.
    public func mayLinkCustomers(_ ticket: TicketRecord) -> Bool {
        guard kind == .agent, ticket.isOpen, Self.linkCustomersPermissions.contains(where: has) else { return false }
        return (!ticket.agentID.isEmpty && ticket.agentID == id) || (isChefe && !ticket.chefeAgentID.isEmpty && ticket.chefeAgentID == id)
    }

    /// Resolves `principal` against the directory.
    /// - Throws: `PERMISSION_DENIED` for an inactive agent or an unsupported principal kind.
    public static func resolve(_ principal: AuthV1.Principal, _ tx: any SQLExecutor) throws -> Actor {
        switch principal.kind {
        case .customer where !principal.representativeID.isEmpty:
            // A representative's person: the organizations the representative acts for.
            var actor = Actor(kind: .customer, id: principal.id, name: principal.displayName, email: principal.email,
                              organizationIDs: principal.representedOrganizationIDs.filter { !$0.isEmpty })
            actor.representativeID = principal.representativeID
            return actor
        case .customer:
            guard !principal.organizationID.isEmpty else {
                throw RPCError(.permissionDenied, "cliente sem organização / customer without an organization")
            }
            var actor = Actor(kind: .customer, id: principal.id, name: principal.displayName, email: principal.email,
                              organizationID: principal.organizationID)
            actor.isOrganizationAdmin = principal.organizationAdmin
            return actor
        case .service:
            return Actor(kind: .service, id: principal.id, name: principal.displayName, level: principal.accessLevel,
                         isAdministrator: true, permissions: Set(principal.permissions))
        case .agent, .integration:
            var actor = Actor(kind: .agent, id: principal.id, name: principal.displayName, email: principal.email,
                              level: principal.accessLevel, isChefe: principal.chefe, isAdministrator: principal.administrator,
                              permissions: Set(principal.permissions))
            actor.isIntegration = principal.kind == .integration
            if let row = try tx.queryOne("SELECT name, email, max_access_level, active, is_chefe, role FROM agents WHERE id = ?",
                                         [.text(principal.id)]) {
                guard row.i("active") != 0 else {
                    throw RPCError(.permissionDenied, "agente inativo / inactive agent")
                }
                actor.name = row.s("name")
                actor.email = row.s("email")
                actor.level = min(principal.accessLevel, Int32(clamping: row.i("max_access_level")))
                // An administrator is always a chefe, whatever its agent record says.
                actor.isChefe = row.i("is_chefe") != 0 || principal.administrator
                let role = row.s("role")
                if !role.isEmpty {
                    for permission in try tx.query("SELECT permission FROM role_permissions WHERE role = ?", [.text(role)]) {
                        actor.permissions.insert(permission.s("permission"))
                    }
                }
            }
            return actor
        default:
            throw RPCError(.permissionDenied, "tipo de identidade não suportado / unsupported principal kind")
        }
    }

    /// - Throws: `PERMISSION_DENIED` unless the actor is staff (agent or service).
    public func requireStaff() throws {
        guard isStaff else { throw RPCError(.permissionDenied, "somente a equipe de suporte / support staff only") }
    }

    /// - Throws: `PERMISSION_DENIED` unless the actor is staff who may change tickets: agents and
    ///   services, and integrations whose key holds ``workPermission`` (a read-only key is refused).
    public func requireWork() throws {
        try requireStaff()
        if isIntegration { try require(Self.workPermission) }
    }

    /// - Throws: `PERMISSION_DENIED` unless the actor has `permission` (administrators have all).
    public func require(_ permission: String) throws {
        guard has(permission) else {
            throw RPCError(.permissionDenied, "permissão necessária: \(permission) / permission required: \(permission)")
        }
    }
}

extension Row {
    /// Text of `column`, empty when `NULL` or missing.
    func s(_ column: String) -> String { optionalText(column) ?? "" }
    /// Integer of `column`, 0 when `NULL` or missing.
    func i(_ column: String) -> Int64 { ((try? optionalInt(column)) ?? nil) ?? 0 }
}
