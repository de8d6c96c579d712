import Messages
import RPC
import RPCTransport

/// Who is calling and what that allows, from the signed principal (never from request fields).
///
/// - Customers act only on their own organization and only when they are one of its active,
///   authorized contacts (checked against the directory by the handlers).
/// - Agents (internal staff) may act for any customer, e.g. register a phone call for them.
/// - Services act on their own (the e-mail channel acts as the sending contact instead).
/// - Agents and integrations that are not administrators reach one ticket's content only when
///   workflow lets them see the ticket (``IntakeContext/requireTicketAccess(_:caller:)``).
public struct Caller: Sendable {
    public let principal: AuthV1.Principal
    /// The call this caller made, when it came over RPC (``upstream`` is built from it only when
    /// intake calls workflow on the caller's behalf, which most calls never do).
    private let call: ServerContext?
    private let givenUpstream: CallOptions

    /// The deadline, trace and request id of the call this caller made, for the calls intake
    /// makes to workflow on their behalf (empty for a caller made in-process, e.g. the e-mail
    /// channel).
    public var upstream: CallOptions { call.map { CallOptions(propagating: $0) } ?? givenUpstream }

    public init(_ principal: AuthV1.Principal, upstream: CallOptions = CallOptions()) {
        self.principal = principal
        self.call = nil
        self.givenUpstream = upstream
    }

    /// The caller of the RPC call `context` serves; ``upstream`` carries that call's deadline,
    /// trace and request id on.
    public init(_ principal: AuthV1.Principal, calling context: ServerContext) {
        self.principal = principal
        self.call = context
        self.givenUpstream = CallOptions()
    }

    public var id: String { principal.id }
    /// Made by intake itself (the e-mail channel taking in a message, a test), not signed by
    /// anyone over RPC: what such a caller's request says of its channel is intake's own word.
    public var isInProcess: Bool { call == nil }
    /// The call's `idempotency-key` (none for a caller made in-process).
    public var idempotencyKey: String? { call?.idempotencyKey }
    public var isCustomer: Bool { principal.kind == .customer }
    public var isAgent: Bool { principal.kind == .agent }
    public var isService: Bool { principal.kind == .service }
    /// An integration API key (principal kind integration).
    public var isIntegration: Bool { principal.kind == .integration }
    /// Internal staff: may choose the Estratégica category and open for any customer.
    public var isInternalStaff: Bool { isAgent || isService }
    /// Staff or an internal system (integration API key).
    public var isStaffOrSystem: Bool { isAgent || isService || isIntegration }
    public var isAdministrator: Bool { principal.administrator || isService }
    /// Staff whose reach over tickets workflow decides (access levels, holder): agents and
    /// integrations that are not administrators. Services and administrators see every ticket;
    /// customers and representatives are checked against intake's own directory.
    public var needsWorkflowAccess: Bool { (isAgent || isIntegration) && !isAdministrator }

    /// Whether the caller holds `permission` (both spellings in use are accepted).
    public func has(permission: String) -> Bool {
        principal.permissions.contains(permission) || principal.administrator
    }

    /// Throws `PERMISSION_DENIED` unless the caller is staff or an internal system.
    public func requireStaff() throws {
        guard isStaffOrSystem else { throw Denied.staffOnly }
    }

    /// The permission an integration's key needs to change tickets or the directory (every
    /// agent role of the gateway holds it).
    public static let workPermission = "tickets.work"

    /// Throws `PERMISSION_DENIED` for an integration whose key lacks ``workPermission``: it
    /// reads what staff read (within workflow's reach) but opens, replies, cancels and edits the
    /// directory only with it. Every other caller passes (each operation checks the rest).
    public func requireIntegrationMayWrite() throws {
        guard principal.kind != .integration || has(permission: Self.workPermission) else {
            throw RPCError(.permissionDenied, "chave de integração sem \(Self.workPermission) / integration key without \(Self.workPermission)")
        }
    }

    /// Throws `PERMISSION_DENIED` unless the caller configures the system.
    public func requireAdministrator() throws {
        guard isAdministrator else {
            throw RPCError(.permissionDenied, "apenas administradores / administrators only")
        }
    }

    /// A representative's person (principal kind customer with `representative_id`): acts for
    /// the organizations the representative represents (handlers check them against the directory).
    public var isRepresentative: Bool { isCustomer && !principal.representativeID.isEmpty }

    /// Whether the caller may see data of `organizationID` (customers: only their own;
    /// representatives: the organizations they represent).
    public func canSee(organizationID: String) -> Bool {
        guard isCustomer else { return true }
        if isRepresentative { return !organizationID.isEmpty && principal.representedOrganizationIDs.contains(organizationID) }
        return !principal.organizationID.isEmpty && principal.organizationID == organizationID
    }
}

/// The permission errors intake returns, worded once.
enum Denied {
    static let staffOnly = RPCError(.permissionDenied, "apenas a equipe de suporte / support staff only")
    static let otherOrganization = RPCError(.permissionDenied,
                                            "sem acesso a outra organização / no access to another organization")
    static let notTheTicketsOwn = RPCError(.permissionDenied,
                                           "apenas o contato da ocorrência, o representante que a abriu, os administradores da empresa ou a equipe de suporte podem cancelá-la / only the ticket's contact, the representative who opened it, the company's administrators or support staff may cancel it")
    static let notAuthorized = RPCError(.permissionDenied,
                                        "contato não autorizado a abrir ocorrências / contact not authorized to open tickets")
}
