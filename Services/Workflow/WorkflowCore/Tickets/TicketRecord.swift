import Messages
import Storage
import Synchronization

/// A ticket as workflow stores it, with its holder's names joined in.
public struct TicketRecord: Sendable {
    public var id: String
    public var code: String
    public var organizationID: String
    public var organizationName: String
    public var organizationEmail: String
    public var plan: String
    public var contact: CommonV1.PersonRef
    public var representative: CommonV1.PersonRef
    public var channel: String
    public var category: CommonV1.Category
    public var priority: CommonV1.Priority
    public var product: String
    public var module: String
    public var subject: String
    public var request: String
    public var solution: String
    public var flow: String
    public var stage: String
    public var stageSince: Int64
    public var isOpen: Bool
    public var status: String
    public var statusReason: String
    public var statusByID: String
    public var statusByName: String
    public var statusAt: Int64
    public var outcome: String
    public var publicNote: String
    public var groupID: String
    public var agentID: String
    public var accessLevel: Int32
    public var serviceType: String
    public var locale: String
    public var openedAt: Int64
    public var updatedAt: Int64
    public var lastInteractionAt: Int64
    public var firstResponseAt: Int64
    public var finishedAt: Int64
    public var unreadCount: Int
    public var scheduledFor: Int64
    public var scheduleCount: Int
    public var transferCount: Int
    public var pingPong: Bool
    public var reopenCount: Int
    /// Development backlog: estimated effort in hours, promised delivery date, planned version.
    public var estimatedEffort: Int
    public var promisedDeliveryAt: Int64
    public var versionID: String
    /// Advance step: the ticket type and the current step (-1: no sequence).
    public var ticketType: String
    public var stepPosition: Int
    public var agentName: String
    public var agentEmail: String
    public var chefeAgentID: String
    public var chefeEmail: String
    public var groupName: String

    /// The columns and joins every ticket read uses (`t` is the ticket).
    static let select = """
        SELECT t.*, a.name AS holder_agent_name, a.email AS holder_agent_email, a.chefe_agent_id AS holder_chefe_id,
               c.email AS holder_chefe_email, g.name AS holder_group_name
        FROM tickets t
        LEFT JOIN agents a ON a.id = t.agent_id
        LEFT JOIN agents c ON c.id = a.chefe_agent_id
        LEFT JOIN staff_groups g ON g.id = t.group_id
        """

    /// Decodes one row (for many rows use ``all(_:)``, which maps the column names once).
    init(_ row: Row) {
        self.init(ColumnReader(row, ColumnReader.index(row.columns)))
    }

    /// Decodes the rows of one result, looking the column names up once.
    static func all(_ rows: [Row]) -> [TicketRecord] {
        guard let first = rows.first else { return [] }
        let index = ColumnReader.index(first.columns)
        return rows.map { TicketRecord(ColumnReader($0, index)) }
    }

    private init(_ row: ColumnReader) {
        id = row.s(.id); code = row.s(.code)
        organizationID = row.s(.organizationID); organizationName = row.s(.organizationName)
        organizationEmail = row.s(.organizationEmail); plan = row.s(.plan)
        contact = CommonV1.PersonRef()
        contact.id = row.s(.contactID); contact.name = row.s(.contactName); contact.email = row.s(.contactEmail)
        contact.phone = row.s(.contactPhone)
        representative = CommonV1.PersonRef()
        representative.id = row.s(.representativeID); representative.name = row.s(.representativeName)
        representative.email = row.s(.representativeEmail)
        channel = row.s(.channel)
        category = CommonV1.Category(_protoRawValue: Int32(row.i(.category)))
        priority = CommonV1.Priority(_protoRawValue: Int32(row.i(.priority)))
        product = row.s(.product); module = row.s(.module); subject = row.s(.subject)
        request = row.s(.requestText); solution = row.s(.solutionText)
        flow = row.s(.flow); stage = row.s(.stage); stageSince = row.i(.stageSince); isOpen = row.i(.isOpen) != 0
        status = row.s(.status); statusReason = row.s(.statusReason); statusByID = row.s(.statusByID)
        statusByName = row.s(.statusByName); statusAt = row.i(.statusAt)
        outcome = row.s(.outcome); publicNote = row.s(.publicNote)
        groupID = row.s(.groupID); agentID = row.s(.agentID)
        accessLevel = Int32(row.i(.accessLevel)); serviceType = row.s(.serviceType); locale = row.s(.locale)
        openedAt = row.i(.openedAt); updatedAt = row.i(.updatedAt); lastInteractionAt = row.i(.lastInteractionAt)
        firstResponseAt = row.i(.firstResponseAt); finishedAt = row.i(.finishedAt)
        unreadCount = Int(row.i(.unreadCount)); scheduledFor = row.i(.scheduledFor); scheduleCount = Int(row.i(.scheduleCount))
        transferCount = Int(row.i(.transferCount)); pingPong = row.i(.pingPong) != 0; reopenCount = Int(row.i(.reopenCount))
        estimatedEffort = Int(row.i(.estimatedEffort)); promisedDeliveryAt = row.i(.promisedDeliveryAt)
        versionID = row.s(.versionID); ticketType = row.s(.ticketType); stepPosition = Int(row.i(.stepPosition))
        agentName = row.s(.holderAgentName); agentEmail = row.s(.holderAgentEmail); chefeAgentID = row.s(.holderChefeID)
        chefeEmail = row.s(.holderChefeEmail); groupName = row.s(.holderGroupName)
    }

    /// The holder as events and replies carry it.
    public var holder: WorkflowV1.Holder {
        var holder = WorkflowV1.Holder()
        holder.agentID = agentID; holder.agentName = agentName; holder.agentEmail = agentEmail
        holder.groupID = groupID; holder.groupName = groupName
        holder.chefeAgentID = chefeAgentID; holder.chefeEmail = chefeEmail
        return holder
    }

    /// The holder as a value observers and the transfer history compare.
    public var holderRef: HolderRef { HolderRef(agentID: agentID, groupID: groupID) }
}

/// Who holds a ticket: an agent (inside a group or not) or a group.
public struct HolderRef: Sendable, Hashable, CustomStringConvertible {
    public var agentID: String
    public var groupID: String

    public init(agentID: String, groupID: String) {
        self.agentID = agentID
        self.groupID = groupID
    }

    /// "a:<agent>" when an agent holds it, else "g:<group>": the identity ping-pong compares.
    public var key: String { agentID.isEmpty ? "g:\(groupID)" : "a:\(agentID)" }
    public var description: String { key }
    public var isEmpty: Bool { agentID.isEmpty && groupID.isEmpty }
}

/// The columns ``TicketRecord`` decodes (`tickets` and the joined holder names), in the order
/// of ``names``: a row is read by position through ``ColumnReader``, not by hashing each name.
enum TicketColumn: Int, CaseIterable {
    case id, code, organizationID, organizationName, organizationEmail, plan, contactID, contactName, contactEmail, contactPhone
    case representativeID, representativeName, representativeEmail, channel, category, priority, product, module, subject
    case requestText, solutionText, flow, stage, stageSince, isOpen, status, statusReason, statusByID, statusByName, statusAt
    case outcome, publicNote, groupID, agentID, accessLevel, serviceType, locale, openedAt, updatedAt, lastInteractionAt
    case firstResponseAt, finishedAt, unreadCount, scheduledFor, scheduleCount, transferCount, pingPong, reopenCount
    case estimatedEffort, promisedDeliveryAt, versionID, ticketType, stepPosition, holderAgentName, holderAgentEmail
    case holderChefeID, holderChefeEmail, holderGroupName

    /// Each column's name, at its case's raw value.
    static let names = [
        "id", "code", "organization_id", "organization_name", "organization_email", "plan", "contact_id", "contact_name",
        "contact_email", "contact_phone", "representative_id", "representative_name", "representative_email", "channel",
        "category", "priority", "product", "module", "subject", "request_text", "solution_text", "flow", "stage", "stage_since",
        "is_open", "status", "status_reason", "status_by_id", "status_by_name", "status_at", "outcome", "public_note",
        "group_id", "agent_id", "access_level", "service_type", "locale", "opened_at", "updated_at", "last_interaction_at",
        "first_response_at", "finished_at", "unread_count", "scheduled_for", "schedule_count", "transfer_count", "ping_pong",
        "reopen_count", "estimated_effort", "promised_delivery_at", "version_id", "ticket_type", "step_position",
        "holder_agent_name", "holder_agent_email", "holder_chefe_id", "holder_chefe_email", "holder_group_name",
    ]

    var name: String { Self.names[rawValue] }
}

/// Reads a row's ``TicketColumn``s by position through a map made once per column list.
struct ColumnReader {
    let row: Row
    /// Each ``TicketColumn``'s position in `row` (−1: the row does not have it).
    let positions: [Int]

    init(_ row: Row, _ positions: [Int]) {
        self.row = row
        self.positions = positions
    }

    /// The last few column lists seen and their maps: a ticket read always has one of a couple
    /// of column lists, and comparing one with a known list is much cheaper than lower-casing
    /// and hashing its sixty names again.
    private static let recent = Mutex<[(columns: [String], positions: [Int])]>([])

    /// Each ``TicketColumn``'s position in `columns` (names compared lower-cased; the first of
    /// equal names wins; −1 when absent).
    static func index(_ columns: [String]) -> [Int] {
        if let known = recent.withLock({ $0.first { $0.columns == columns }?.positions }) { return known }
        let positions = buildPositions(columns)
        recent.withLock { recent in
            if recent.count >= 4 { recent.removeFirst() }
            recent.append((columns, positions))
        }
        return positions
    }

    private static func buildPositions(_ columns: [String]) -> [Int] {
        var map: [String: Int] = [:]
        map.reserveCapacity(columns.count)
        for (position, name) in columns.enumerated() {
            let key = name.lowercased()
            if map[key] == nil { map[key] = position }
        }
        return TicketColumn.names.map { map[$0] ?? -1 }
    }

    func s(_ column: TicketColumn) -> String {
        let position = positions[column.rawValue]
        guard position >= 0, case .text(let text) = row[position] else { return "" }
        return text
    }

    func i(_ column: TicketColumn) -> Int64 {
        let position = positions[column.rawValue]
        guard position >= 0 else { return 0 }
        switch row[position] {
        case .integer(let value): return value
        case .real(let value): return Int64(value)
        case .text(let text): return Int64(text) ?? 0
        default: return 0
        }
    }
}

extension Array where Element == Row {
    /// The rows decoded as tickets.
    var ticketRecords: [TicketRecord] { TicketRecord.all(self) }
}
