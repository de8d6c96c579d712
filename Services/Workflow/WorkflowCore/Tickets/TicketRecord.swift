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
        id = row.s("id"); code = row.s("code")
        organizationID = row.s("organization_id"); organizationName = row.s("organization_name")
        organizationEmail = row.s("organization_email"); plan = row.s("plan")
        contact = CommonV1.PersonRef()
        contact.id = row.s("contact_id"); contact.name = row.s("contact_name"); contact.email = row.s("contact_email")
        contact.phone = row.s("contact_phone")
        representative = CommonV1.PersonRef()
        representative.id = row.s("representative_id"); representative.name = row.s("representative_name")
        representative.email = row.s("representative_email")
        channel = row.s("channel")
        category = CommonV1.Category(_protoRawValue: Int32(row.i("category")))
        priority = CommonV1.Priority(_protoRawValue: Int32(row.i("priority")))
        product = row.s("product"); module = row.s("module"); subject = row.s("subject")
        request = row.s("request_text"); solution = row.s("solution_text")
        flow = row.s("flow"); stage = row.s("stage"); stageSince = row.i("stage_since"); isOpen = row.i("is_open") != 0
        status = row.s("status"); statusReason = row.s("status_reason"); statusByID = row.s("status_by_id")
        statusByName = row.s("status_by_name"); statusAt = row.i("status_at")
        outcome = row.s("outcome"); publicNote = row.s("public_note")
        groupID = row.s("group_id"); agentID = row.s("agent_id")
        accessLevel = Int32(row.i("access_level")); serviceType = row.s("service_type"); locale = row.s("locale")
        openedAt = row.i("opened_at"); updatedAt = row.i("updated_at"); lastInteractionAt = row.i("last_interaction_at")
        firstResponseAt = row.i("first_response_at"); finishedAt = row.i("finished_at")
        unreadCount = Int(row.i("unread_count")); scheduledFor = row.i("scheduled_for"); scheduleCount = Int(row.i("schedule_count"))
        transferCount = Int(row.i("transfer_count")); pingPong = row.i("ping_pong") != 0; reopenCount = Int(row.i("reopen_count"))
        estimatedEffort = Int(row.i("estimated_effort")); promisedDeliveryAt = row.i("promised_delivery_at")
        versionID = row.s("version_id"); ticketType = row.s("ticket_type"); stepPosition = Int(row.i("step_position"))
        agentName = row.s("holder_agent_name"); agentEmail = row.s("holder_agent_email"); chefeAgentID = row.s("holder_chefe_id")
        chefeEmail = row.s("holder_chefe_email"); groupName = row.s("holder_group_name")
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

/// Reads a row's columns by name through a prepared name → position map.
struct ColumnReader {
    let row: Row
    let index: [String: Int]

    init(_ row: Row, _ index: [String: Int]) {
        self.row = row
        self.index = index
    }

    /// The last few column lists seen and their maps: a ticket read always has one of a couple
    /// of column lists, and comparing one with a known list is much cheaper than lower-casing
    /// and hashing its sixty names again.
    private static let recent = Mutex<[(columns: [String], index: [String: Int])]>([])

    /// The name → position map of `columns` (lower-cased names; the first of equal names wins).
    static func index(_ columns: [String]) -> [String: Int] {
        if let known = recent.withLock({ $0.first { $0.columns == columns }?.index }) { return known }
        let map = buildIndex(columns)
        recent.withLock { recent in
            if recent.count >= 4 { recent.removeFirst() }
            recent.append((columns, map))
        }
        return map
    }

    private static func buildIndex(_ columns: [String]) -> [String: Int] {
        var map: [String: Int] = [:]
        map.reserveCapacity(columns.count)
        for (position, name) in columns.enumerated() {
            let key = name.lowercased()
            if map[key] == nil { map[key] = position }
        }
        return map
    }

    func s(_ column: String) -> String {
        guard let position = index[column], case .text(let text) = row[position] else { return "" }
        return text
    }

    func i(_ column: String) -> Int64 {
        guard let position = index[column] else { return 0 }
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
