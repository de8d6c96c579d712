import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// Time entries (apontamento): agents log time spent on a ticket; totals per ticket, agent,
/// organization, service type or month, over a period, counting only tickets the caller may see.
enum TimeEntries {
    static let modes: Set<String> = ["", "remote", "phone", "on_site"]
    static let groupings = ["ticket": "e.ticket_id", "agent": "e.agent_id", "organization": "e.organization_id",
                            "service_type": "e.service_type", "month": "e.month"]

    /// "2026-11" in São Paulo time.
    static func month(_ millis: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "America/Sao_Paulo") ?? .gmt
        let parts = calendar.dateComponents([.year, .month], from: Date(timeIntervalSince1970: Double(millis) / 1000))
        return String(format: "%04d-%02d", parts.year ?? 0, parts.month ?? 0)
    }

    static func register(_ router: inout RPCRouter, api: WorkflowAPI) {
        router.register(WorkflowV1.Workflow.addTimeEntry) { request, context in
            try api.work(context, request) { actor, tx in
                guard actor.kind == .agent else { throw RPCError(.permissionDenied, "somente agentes / agents only") }
                var violations: [FieldViolation] = []
                if request.minutes <= 0 || request.minutes > 24 * 60 {
                    violations.append(FieldViolation(field: "minutes", reason: "out_of_range", pt: "Entre 1 e 1440 minutos.", en: "Between 1 and 1440 minutes."))
                }
                let serviceType = request.serviceType.isEmpty ? "support" : request.serviceType
                if !WorkflowAPI.serviceTypes.contains(serviceType) {
                    violations.append(FieldViolation(field: "service_type", reason: "invalid", pt: "Use support ou consulting.", en: "Use support or consulting."))
                }
                if !modes.contains(request.mode) {
                    violations.append(FieldViolation(field: "mode", reason: "invalid", pt: "Use remote, phone ou on_site.", en: "Use remote, phone or on_site."))
                }
                if let long = FieldViolation.length(of: request.note, "note", limit: TextLimits.note) { violations.append(long) }
                guard violations.isEmpty else { throw RPCError(.invalidArgument, "apontamento inválido / invalid time entry", violations: violations) }
                let ticket = try api.lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                let now = api.lifecycle.now()
                var entry = WorkflowV1.TimeEntry()
                entry.entryID = UUID().uuidString
                entry.ticketID = ticket.id
                entry.agentID = actor.id
                entry.organizationID = ticket.organizationID
                entry.minutes = request.minutes
                entry.serviceType = serviceType
                entry.mode = request.mode
                entry.note = request.note
                entry.workedAtMs = request.workedAtMs > 0 ? request.workedAtMs : now
                try tx.execute("""
                    INSERT INTO time_entries (id, ticket_id, agent_id, organization_id, minutes, service_type, mode, note, worked_at, month, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(entry.entryID), .text(entry.ticketID), .text(entry.agentID), .text(entry.organizationID),
                          .integer(Int64(entry.minutes)), .text(serviceType), .text(entry.mode), .text(entry.note),
                          .integer(entry.workedAtMs), .text(month(entry.workedAtMs)), .integer(now)])
                try api.lifecycle.record(tx, ticket.id, "time", new: "\(entry.minutes) min \(serviceType)", note: entry.note, actor: actor, at: now)
                return entry
            }
        }
        router.register(WorkflowV1.Workflow.timeTotals) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                let groupBy = request.groupBy.isEmpty ? "ticket" : request.groupBy
                guard let column = groupings[groupBy] else {
                    throw RPCError(.invalidArgument, "agrupamento inválido / invalid grouping", violations: [FieldViolation(
                        field: "group_by", reason: "invalid", pt: "Use \(groupings.keys.sorted().joined(separator: ", ")).",
                        en: "Use \(groupings.keys.sorted().joined(separator: ", ")).")])
                }
                let visibility = Visibility.predicate(actor)
                var clauses = [visibility.sql], params = visibility.params
                if request.fromMs > 0 { clauses.append("e.worked_at >= ?"); params.append(.integer(request.fromMs)) }
                if request.toMs > 0 { clauses.append("e.worked_at < ?"); params.append(.integer(request.toMs)) }
                for (name, value) in [("e.organization_id", request.organizationID), ("e.agent_id", request.agentID),
                                      ("e.service_type", request.serviceType)] where !value.isEmpty {
                    clauses.append("\(name) = ?")
                    params.append(.text(value))
                }
                let rows = try tx.query("""
                    SELECT \(column) AS k, SUM(e.minutes) AS minutes, COUNT(*) AS n FROM time_entries e JOIN tickets t ON t.id = e.ticket_id
                    WHERE \(clauses.joined(separator: " AND ")) GROUP BY \(column) ORDER BY \(column)
                    """, params)
                var response = WorkflowV1.TimeTotalsResponse()
                response.totals = rows.map {
                    var total = WorkflowV1.TimeTotal()
                    total.key = $0.s("k")
                    total.minutes = $0.i("minutes")
                    total.entries = $0.i("n")
                    return total
                }
                return response
            }
        }
    }
}
