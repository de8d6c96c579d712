import Foundation
import Messages
import RPC
import Storage

/// Listings, counts and search over tickets, every one filtered by ``Visibility``.
public struct TicketQueries: Sendable {
    let lifecycle: TicketLifecycle
    /// Largest page a listing returns.
    public static let maxPageSize = 200

    public init(lifecycle: TicketLifecycle) {
        self.lifecycle = lifecycle
    }

    /// The flows, the default one first, then by key: the known stages are listed in a stable order.
    var flowsInOrder: [StageFlow] {
        lifecycle.flows.sorted { ($0.key != lifecycle.defaultFlow ? 1 : 0, $0.key) < ($1.key != lifecycle.defaultFlow ? 1 : 0, $1.key) }.map(\.value)
    }

    /// Refuses a stage key no flow has (`stage=nova` for `novo`), naming `field`: it used to
    /// filter everything out, an empty list that read as "no tickets there".
    /// `known` is only worked out when `stages` names any (a listing without a stage filter pays nothing).
    func requireKnownStages(_ stages: [String], known: @autoclosure () -> [String], field: String) throws {
        guard !stages.isEmpty else { return }
        let known = known()
        guard let unknown = stages.first(where: { !known.contains($0) }) else { return }
        var keys: [String] = []
        for key in known where !keys.contains(key) { keys.append(key) }
        throw RPCError(.invalidArgument, "etapa desconhecida / unknown stage", violations: [
            FieldViolation(field: field, reason: "unknown_stage", pt: "Etapa \(unknown) desconhecida: use \(keys.joined(separator: ", ")).",
                           en: "Unknown stage \(unknown): use \(keys.joined(separator: ", ")).")])
    }

    /// WHERE clauses and parameters for `filter` seen by `actor` (tickets alias `t`).
    func conditions(_ filter: WorkflowV1.TicketFilter?, actor: Actor, tx: any SQLExecutor) throws -> (clauses: [String], params: [SQLValue]) {
        let visibility = Visibility.predicate(actor)
        var clauses = [visibility.sql], params = visibility.params
        guard let filter else { return (clauses, params) }
        func list(_ column: String, _ values: [SQLValue]) {
            guard !values.isEmpty else { return }
            clauses.append("\(column) IN (\(placeholders(values.count)))")
            params += values
        }
        try requireKnownStages(filter.stages, known: flowsInOrder.flatMap { $0.stages.map(\.key) }, field: "filter.stages")
        list("t.stage", filter.stages.map { .text($0) })
        list("t.priority", filter.priorities.map { .integer(Int64($0.rawValue)) })
        list("t.category", filter.categories.map { .integer(Int64($0.rawValue)) })
        for (column, value) in [("t.product", filter.product), ("t.module", filter.module), ("t.group_id", filter.groupID),
                                ("t.agent_id", filter.agentID), ("t.organization_id", filter.organizationID)] where !value.isEmpty {
            clauses.append("\(column) = ?")
            params.append(.text(value))
        }
        // An agent's tickets: the agent index is partial (HeldTicketIndexes), and this says so.
        if !filter.agentID.isEmpty || filter.mine { clauses.append(HeldTicketIndexes.agentCondition) }
        if filter.mine {
            clauses.append("t.agent_id = ?")
            params.append(.text(actor.id))
        }
        if filter.openOnly { clauses.append("t.is_open = 1") }
        let words = SearchText.words(filter.text)
        if !words.isEmpty {
            let text = try TextIndex.condition(tx, words: words, match: .allWords, fields: [.subject, .request], ordered: true)
            clauses.append(text.sql)
            params += text.params
        } else if Self.asksForText(filter.text) {
            clauses.append("1 = 0")
        }
        if !filter.slaState.isEmpty {
            // "on_time" is how listing rows name on_track (TicketRow.sla_state).
            guard let state = SLAQueueFilter.State(rawValue: filter.slaState == "on_time" ? "on_track" : filter.slaState) else {
                throw RPCError(.invalidArgument, "estado de SLA inválido / invalid SLA state", violations: [
                    FieldViolation(field: "filter.sla_state", reason: "invalid", pt: "Use breached, at_risk, paused ou on_track (on_time).",
                                   en: "Use breached, at_risk, paused or on_track (on_time).")])
            }
            let sla = SLAQueueFilter.condition(state, ticketID: "t.id", now: lifecycle.now())
            clauses.append(sla.sql)
            params += sla.params
        }
        return (clauses, params)
    }

    // MARK: Queue

    /// The queue, oldest first (or newest first), by keyset pagination on (opened_at, id).
    public func listQueue(_ tx: any SQLExecutor, _ request: WorkflowV1.ListQueueRequest, actor: Actor) throws -> WorkflowV1.ListTicketsResponse {
        try actor.requireStaff()
        let (sql, params, size) = try queueStatement(request, actor: actor, tx: tx)
        let records = try tx.query(sql, params).ticketRecords
        let page = Array(records.prefix(size))
        // The page's SLA states, from the SLA clocks in one more query of the same read.
        let sla = try SLAQueueFilter.states(tx, ticketIDs: page.map(\.id), now: lifecycle.now())
        var response = WorkflowV1.ListTicketsResponse()
        response.tickets = page.map { record in
            var row = self.row(record, for: actor)
            if let state = sla[record.id] { (row.slaState, row.slaDueAtMs, row.slaWarnAtMs) = (state.state, state.dueAt, state.warnAt) }
            return row
        }
        if records.count > size, let last = records.prefix(size).last {
            response.nextCursor = Cursor(time: last.openedAt, id: last.id).encoded
        }
        return response
    }

    /// True when `text` says something (not blank) that has no searchable word (only emoji or
    /// punctuation): such a search matches nothing, rather than being dropped and listing all.
    static func asksForText(_ text: String) -> Bool {
        !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
    }

    /// A list's page size: 0 the default (50), at most ``maxPageSize``; negative refused (``RPC/PageSize``).
    static func pageSize(_ requested: Int32, field: String = "page_size") throws -> Int {
        try PageSize.resolve(requested, field: field, default: 50, maximum: maxPageSize)
    }

    /// Counts per stage (for dashboards) under the same filters and access rules.
    public func countByStage(_ tx: any SQLExecutor, _ filter: WorkflowV1.TicketFilter?, actor: Actor) throws -> [WorkflowV1.StageCount] {
        try actor.requireStaff()
        let (clauses, params) = try conditions(filter, actor: actor, tx: tx)
        let rows = try tx.query("SELECT t.flow, t.stage, COUNT(*) AS n FROM tickets t"
                                + " WHERE " + clauses.joined(separator: " AND ") + " GROUP BY t.flow, t.stage", params)
        var counts: [String: Int64] = [:]
        var names: [String: (portuguese: String, english: String)] = [:]
        for row in rows {
            counts[row.s("stage"), default: 0] += row.i("n")
            let stage = lifecycle.flows[row.s("flow")]?.stage(row.s("stage"))
            names[row.s("stage")] = (stage?.name ?? row.s("stage"), stage?.nameEN ?? row.s("stage"))
        }
        let order = (lifecycle.flows[lifecycle.defaultFlow]?.stages.map(\.key) ?? [])
        return counts.keys.sorted { (order.firstIndex(of: $0) ?? 99, $0) < (order.firstIndex(of: $1) ?? 99, $1) }.map {
            var count = WorkflowV1.StageCount()
            count.stage = $0
            (count.stageName, count.stageNameEn) = names[$0] ?? ($0, $0)
            count.count = counts[$0] ?? 0
            return count
        }
    }

    // MARK: Customers

    /// The customer's organization's tickets in any state, newest interaction first.
    public func listCustomerTickets(_ tx: any SQLExecutor, _ request: WorkflowV1.ListCustomerTicketsRequest, actor: Actor) throws -> WorkflowV1.ListTicketsResponse {
        guard actor.kind == .customer else {
            throw RPCError(.permissionDenied, "somente clientes / customers only")
        }
        let own = Visibility.organizations(actor)
        var clauses = [own.sql], params: [SQLValue] = own.params
        try requireKnownStages(request.stages, known: flowsInOrder.flatMap { $0.stages.map(\.customerStage) }, field: "stages")
        if !request.stages.isEmpty {
            // Public stage keys → every internal stage shown as one of them.
            var internalKeys = Set<String>()
            for flow in lifecycle.flows.values {
                for stage in flow.stages where request.stages.contains(stage.customerStage) { internalKeys.insert(stage.key) }
            }
            let keys = internalKeys.sorted()
            clauses.append(keys.isEmpty ? "1 = 0" : "t.stage IN (\(placeholders(keys.count)))")
            params += keys.map { .text($0) }
        }
        if !request.product.isEmpty {
            clauses.append("t.product = ?")
            params.append(.text(request.product))
        }
        if !request.categories.isEmpty {
            clauses.append("t.category IN (\(placeholders(request.categories.count)))")
            params += request.categories.map { .integer(Int64($0.rawValue)) }
        }
        let words = SearchText.words(request.text)
        if !words.isEmpty {
            // What the customer can read: subject, request, solution and public entries.
            // The organization's tickets are few: walk them newest first, checking the index.
            let text = try TextIndex.condition(tx, words: words, match: .allWords, fields: TextIndex.customerFields, ordered: true)
            clauses.append(text.sql)
            params += text.params
        } else if Self.asksForText(request.text) {
            clauses.append("1 = 0")
        }
        if !request.cursor.isEmpty {
            let cursor = try Cursor.decode(request.cursor)
            clauses.append("(t.last_interaction_at, t.id) < (?, ?)")
            params += [.integer(cursor.time), .text(cursor.id)]
        }
        let size = try Self.pageSize(request.pageSize)
        let records = try tx.query(TicketRecord.select + " WHERE " + clauses.joined(separator: " AND ")
                                   + " ORDER BY t.last_interaction_at DESC, t.id DESC LIMIT \(size + 1)", params).ticketRecords
        var response = WorkflowV1.ListTicketsResponse()
        response.tickets = records.prefix(size).map { row($0, for: actor) }
        if records.count > size, let last = records.prefix(size).last {
            response.nextCursor = Cursor(time: last.lastInteractionAt, id: last.id).encoded
        }
        return response
    }

    // MARK: Search

    /// Search in subject, request, discussion and solution (or one of them), by whole phrase or
    /// any word, or "same subject as" a ticket; same filters and access rules as the queue.
    public func search(_ tx: any SQLExecutor, _ request: WorkflowV1.SearchTicketsRequest, actor: Actor) throws -> WorkflowV1.ListTicketsResponse {
        try actor.requireStaff()
        var (clauses, params) = try conditions(request.filter, actor: actor, tx: tx)
        let limit = try Self.pageSize(request.limit, field: "limit")
        var score = "0"
        var scoreParams: [SQLValue] = []
        if !request.sameSubjectAs.isEmpty {
            let reference = try lifecycle.loadVisible(tx, request.sameSubjectAs, actor: actor)
            let words = SearchText.significantWords(reference.subject)
            guard !words.isEmpty else { return WorkflowV1.ListTicketsResponse() }
            // The index finds candidates; the score counts the shared words among them only.
            let each = words.map { _ in "(CASE WHEN (' ' || s.subject || ' ') LIKE ? THEN 1 ELSE 0 END)" }
            score = each.joined(separator: " + ")
            scoreParams = words.map { .text("% " + $0 + " %") }
            let text = TextIndex.condition(tx.engine, words: words, match: .anyExactWord, fields: [.subject])
            clauses.append(text.sql)
            params += text.params
            clauses.append("t.id <> ?")
            params.append(.text(reference.id))
        } else {
            let fields: [TextIndex.Field]
            switch request.field {
            case "", "all": fields = TextIndex.staffFields
            case "subject", "request", "discussion", "solution": fields = [TextIndex.Field(rawValue: request.field)!]
            default:
                throw RPCError(.invalidArgument, "campo de busca inválido / invalid search field", violations: [
                    FieldViolation(field: "field", reason: "invalid", pt: "Use all, subject, request, discussion ou solution.",
                                   en: "Use all, subject, request, discussion or solution.")])
            }
            let match: TextIndex.Match
            switch request.mode {
            case "", "phrase": match = .phrase
            case "any": match = .anyWord
            default:
                throw RPCError(.invalidArgument, "modo de busca inválido / invalid search mode", violations: [
                    FieldViolation(field: "mode", reason: "invalid", pt: "Use phrase ou any.", en: "Use phrase or any.")])
            }
            let words = SearchText.words(request.query)
            guard !words.isEmpty else {
                throw RPCError(.invalidArgument, "busca vazia / empty query", violations: [
                    FieldViolation(field: "query", reason: "required", pt: "Informe o que buscar.", en: "Say what to search for.")])
            }
            let text = try TextIndex.condition(tx, words: words, match: match, fields: fields, ordered: true)
            clauses.append(text.sql)
            params += text.params
        }
        // "Same subject" ranks by shared words (and needs every candidate); other searches list
        // the newest tickets first, along the opening-time index, so a page can stop early.
        let sql = request.sameSubjectAs.isEmpty
            ? TicketRecord.select + " WHERE " + clauses.joined(separator: " AND ") + " ORDER BY t.opened_at DESC, t.id DESC LIMIT \(limit)"
            : TicketRecord.select.replacingOccurrences(of: "SELECT t.*", with: "SELECT (\(score)) AS score, t.*")
                + " JOIN ticket_search s ON s.ticket_id = t.id WHERE " + clauses.joined(separator: " AND ")
                + " ORDER BY score DESC, t.last_interaction_at DESC, t.id DESC LIMIT \(limit)"
        let records = try tx.query(sql, scoreParams + params).ticketRecords
        var response = WorkflowV1.ListTicketsResponse()
        response.tickets = records.map { row($0, for: actor) }
        return response
    }

    // MARK: Rows

    /// A listing row; customers get the public stage and no internal details.
    public func row(_ ticket: TicketRecord, for actor: Actor) -> WorkflowV1.TicketRow {
        var row = WorkflowV1.TicketRow()
        row.ticketID = ticket.id
        row.code = ticket.code
        row.subject = ticket.subject
        row.organizationID = ticket.organizationID
        row.organizationName = ticket.organizationName
        row.category = ticket.category
        row.priority = ticket.priority
        row.product = ticket.product
        row.module = ticket.module
        row.openedAtMs = ticket.openedAt
        row.lastInteractionAtMs = ticket.lastInteractionAt
        row.contactName = ticket.contact.name
        row.outcome = ticket.outcome
        row.outcomeLabel = TicketOutcome.label(ticket.outcome)
        row.outcomeLabelEn = TicketOutcome.label(ticket.outcome, .english)
        let stage = lifecycle.flow(of: ticket).stage(ticket.stage)
        if actor.kind == .customer {
            row.stage = stage?.customerStage ?? ticket.stage
            row.stageName = stage?.customerName ?? ticket.stage
            row.stageNameEn = stage?.customerNameEN ?? ticket.stage
            var holder = WorkflowV1.Holder()
            holder.agentName = ticket.agentName
            holder.groupName = ticket.groupName
            row.holder = holder
        } else {
            row.stage = ticket.stage
            row.stageName = stage?.name ?? ticket.stage
            row.stageNameEn = stage?.nameEN ?? ticket.stage
            row.holder = ticket.holder
            row.accessLevel = ticket.accessLevel
            row.unreadMessages = Int32(ticket.unreadCount)
            row.pingPong = ticket.pingPong
            if !ticket.status.isEmpty {
                var status = WorkflowV1.StatusInfo()
                status.status = ticket.status
                status.reason = ticket.statusReason
                status.setByID = ticket.statusByID
                status.setByName = ticket.statusByName
                status.setAtMs = ticket.statusAt
                row.status = status
            }
        }
        return row
    }
}

/// The opaque keyset cursor: base64url of "v1|<time>|<id>".
struct Cursor {
    var time: Int64
    var id: String

    var encoded: String {
        Data("v1|\(time)|\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) throws -> Cursor {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let plain = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = plain.split(separator: "|", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "v1", let time = Int64(parts[1]), !parts[2].isEmpty else { throw invalid }
        return Cursor(time: time, id: String(parts[2]))
    }

    static var invalid: RPCError {
        RPCError(.invalidArgument, "cursor inválido / invalid cursor",
                 violations: [FieldViolation(field: "cursor", reason: "invalid", pt: "Use o cursor devolvido pela listagem.",
                                             en: "Use the cursor the listing returned.")])
    }
}
