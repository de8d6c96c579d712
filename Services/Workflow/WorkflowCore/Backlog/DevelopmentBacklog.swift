import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// The development backlog: accepted items wait in Para desenvolver ordered by category rank and
/// estimated effort, versions (name, target date) plan them into Em desenvolvimento, and delivering
/// a version finishes its items; a version no item is planned into may be deleted. Everything
/// needs "product.decide".
enum DevelopmentBacklog {
    static let backlogStage = "para_desenvolver"
    static let developmentStage = "em_desenvolvimento"
    static let finalStage = "finalizado"

    /// Backlog order of categories: legal obligations first, then defects, then requests.
    static let categoryRank: [CommonV1.Category] = [.exigenciaFiscal, .problema, .estrategica, .necessidade, .sugestaoMelhoria, .duvida]

    static var orderSQL: String {
        let cases = categoryRank.enumerated().map { "WHEN \($0.element.rawValue) THEN \($0.offset)" }.joined(separator: " ")
        return "CASE t.category \(cases) ELSE 99 END, t.priority DESC, CASE WHEN t.estimated_effort = 0 THEN 1 ELSE 0 END, t.estimated_effort, t.opened_at, t.id"
    }

    static func version(_ tx: any SQLExecutor, _ id: String) throws -> WorkflowV1.Version {
        guard let row = try tx.queryOne("""
            SELECT v.*, (SELECT COUNT(*) FROM tickets t WHERE t.version_id = v.id AND \(HeldTicketIndexes.versionCondition)) AS items FROM dev_versions v WHERE v.id = ?
            """, [.text(id)]) else {
            throw RPCError(.notFound, "versão não encontrada / version not found")
        }
        return version(row)
    }

    /// Locks a version's row until the transaction ends (PostgreSQL; SQLite's writers are
    /// serialized already): `exclusive` for deleting it, shared for planning a ticket into it, so
    /// a ticket is never planned into a version being deleted.
    static func lockVersion(_ tx: any SQLExecutor, _ id: String, exclusive: Bool) throws {
        guard tx.engine == .postgres else { return }
        _ = try tx.query("SELECT id FROM dev_versions WHERE id = ? \(exclusive ? "FOR UPDATE" : "FOR SHARE")", [.text(id)])
    }

    /// Why a version with planned items is not deleted: how many, in both languages.
    static func plannedItemsRefusal(_ count: Int32) -> RPCError {
        let (pt, en) = count == 1 ? ("1 item planejado", "1 planned item") : ("\(count) itens planejados", "\(count) planned items")
        return RPCError(.failedPrecondition,
                        "a versão tem \(pt); planeje-os em outra versão antes de excluí-la / the version has \(en); plan them into another version before deleting it")
    }

    static func version(_ row: Row) -> WorkflowV1.Version {
        var version = WorkflowV1.Version()
        version.id = row.s("id")
        version.name = row.s("name")
        version.targetDateMs = row.i("target_date")
        version.deliveredAtMs = row.i("delivered_at")
        version.plannedItems = Int32(row.i("items"))
        return version
    }

    static func register(_ router: inout RPCRouter, api: WorkflowAPI) {
        let lifecycle = api.lifecycle
        router.register(WorkflowV1.Workflow.putVersion) { request, context in
            try api.write(context, request, requiring: "product.decide") { actor, tx in
                var version = request.version ?? WorkflowV1.Version()
                guard !version.name.trimmingCharacters(in: .whitespaces).isEmpty, version.targetDateMs > 0 else {
                    throw RPCError(.invalidArgument, "versão inválida / invalid version", violations: [
                        FieldViolation(field: "version", reason: "required", pt: "Informe nome e data prevista.", en: "Give the name and the target date.")])
                }
                if version.id.isEmpty { version.id = UUID().uuidString }
                let updated = try tx.execute("UPDATE dev_versions SET name = ?, target_date = ? WHERE id = ?",
                                             [.text(version.name), .integer(version.targetDateMs), .text(version.id)])
                if updated == 0 {
                    try tx.execute("INSERT INTO dev_versions (id, name, target_date, created_at) VALUES (?, ?, ?, ?)",
                                   [.text(version.id), .text(version.name), .integer(version.targetDateMs), .integer(lifecycle.now())])
                }
                return try self.version(tx, version.id)
            }
        }
        router.register(WorkflowV1.Workflow.listVersions) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListVersionsResponse()
                response.versions = try tx.query("""
                    SELECT v.*, (SELECT COUNT(*) FROM tickets t WHERE t.version_id = v.id AND \(HeldTicketIndexes.versionCondition)) AS items FROM dev_versions v
                    \(request.includeDelivered ? "" : "WHERE v.delivered_at = 0") ORDER BY v.target_date, v.id
                    """).map(version)
                return response
            }
        }
        router.register(WorkflowV1.Workflow.setDevelopmentPlan) { request, context in
            try api.write(context, request, requiring: "product.decide") { actor, tx in
                guard request.estimatedEffortHours >= 0 else {
                    throw RPCError(.invalidArgument, "esforço negativo / negative effort", violations: [
                        FieldViolation(field: "estimated_effort_hours", reason: "negative", pt: "Informe horas ≥ 0.", en: "Give hours ≥ 0.")])
                }
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                let at = lifecycle.now()
                let promised = request.promisedDeliveryMs > 0 ? request.promisedDeliveryMs : ticket.promisedDeliveryAt
                try lifecycle.touch(tx, ticket.id, "estimated_effort = ?, promised_delivery_at = ?",
                                    [.integer(Int64(request.estimatedEffortHours)), .integer(promised)], at: at)
                try lifecycle.record(tx, ticket.id, "plan", old: "\(ticket.estimatedEffort)h", new: "\(request.estimatedEffortHours)h",
                                     note: promised > 0 ? "entrega prometida \(promised)" : "", actor: actor, at: at)
                return try api.view(tx, try lifecycle.load(tx, ticket.id), actor)
            }
        }
        router.register(WorkflowV1.Workflow.planTicket) { request, context in
            try api.write(context, request, requiring: "product.decide") { actor, tx in
                try lockVersion(tx, request.versionID, exclusive: false)
                let version = try self.version(tx, request.versionID)
                guard version.deliveredAtMs == 0 else {
                    throw RPCError(.failedPrecondition, "versão já entregue / version already delivered")
                }
                var ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                if ticket.stage == backlogStage {
                    ticket = try lifecycle.move(tx, ticket, to: developmentStage, trigger: .agent, actor: actor, note: "Versão \(version.name)")
                } else if ticket.stage != developmentStage {
                    throw RPCError(.failedPrecondition, "somente itens em Para desenvolver ou Em desenvolvimento / only items in the backlog or in development")
                }
                let at = lifecycle.now()
                try lifecycle.touch(tx, ticket.id, "version_id = ?", [.text(version.id)], at: at)
                try lifecycle.record(tx, ticket.id, "version", old: ticket.versionID, new: version.name, actor: actor, at: at)
                return try api.view(tx, try lifecycle.load(tx, ticket.id), actor)
            }
        }
        router.register(WorkflowV1.Workflow.deliverVersion) { request, context in
            try api.write(context, request, requiring: "product.decide") { actor, tx in
                var version = try self.version(tx, request.versionID)
                guard version.deliveredAtMs == 0 else {
                    throw RPCError(.failedPrecondition, "versão já entregue / version already delivered")
                }
                let at = lifecycle.now()
                try tx.execute("UPDATE dev_versions SET delivered_at = ? WHERE id = ?", [.integer(at), .text(version.id)])
                var response = WorkflowV1.DeliverVersionResponse()
                for row in try tx.query("SELECT t.id FROM tickets t WHERE t.version_id = ? AND \(HeldTicketIndexes.versionCondition) AND t.stage = ? ORDER BY t.opened_at, t.id",
                                        [.text(version.id), .text(developmentStage)]) {
                    let ticket = try lifecycle.load(tx, row.s("id"), forUpdate: true)
                    // Listed before its lock (PostgreSQL): one that moved on while the lock waited
                    // (cancelled, planned into another version) is left as it is now, not failing
                    // the delivery (`BacklogStepsExportTests.deliveryRacingACancel`).
                    guard ticket.stage == developmentStage, ticket.versionID == version.id else { continue }
                    try lifecycle.move(tx, ticket, to: finalStage, trigger: .agent, actor: actor,
                                       publicNote: "Entregue na versão \(version.name).", enforceUnreadGuard: false)
                    response.finishedTicketIDs.append(ticket.id)
                }
                version.deliveredAtMs = at
                response.version = version
                return response
            }
        }
        router.register(WorkflowV1.Workflow.deleteVersion) { request, context in
            try api.write(context, request, requiring: "product.decide") { actor, tx in
                try lockVersion(tx, request.versionID, exclusive: true)
                let version = try self.version(tx, request.versionID)
                guard version.plannedItems == 0 else { throw plannedItemsRefusal(version.plannedItems) }
                try tx.execute("DELETE FROM dev_versions WHERE id = ?", [.text(version.id)])
                var response = WorkflowV1.DeleteVersionResponse()
                response.version = version
                return response
            }
        }
        router.register(WorkflowV1.Workflow.listBacklog) { request, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                let (condition, params) = try backlogCondition(request)
                let visibility = Visibility.predicate(actor)
                let size = try TicketQueries.pageSize(request.pageSize)
                let offset = max(0, Int(request.page)) * size
                let records = try tx.query(TicketRecord.select + " WHERE " + condition + " AND " + visibility.sql + " ORDER BY " + orderSQL
                                           + " LIMIT \(size + 1) OFFSET \(offset)", params + visibility.params).ticketRecords
                var response = WorkflowV1.ListTicketsResponse()
                var versionNames: [String: String] = [:]
                var sequences: [String: [AdvanceSteps.StepRow]] = [:]
                for record in records.prefix(size) {
                    var row = api.queries.row(record, for: actor)
                    if !record.versionID.isEmpty {
                        if versionNames[record.versionID] == nil {
                            versionNames[record.versionID] = try tx.queryOne("SELECT name FROM dev_versions WHERE id = ?", [.text(record.versionID)])?.s("name") ?? ""
                        }
                        row.versionID = record.versionID
                        row.versionName = versionNames[record.versionID] ?? ""
                    }
                    row.estimatedEffortHours = Int32(record.estimatedEffort)
                    row.ticketType = record.ticketType
                    row.stepPosition = Int32(record.stepPosition)
                    if !record.ticketType.isEmpty {
                        if sequences[record.ticketType] == nil { sequences[record.ticketType] = try AdvanceSteps.steps(tx, record.ticketType) }
                        let steps = sequences[record.ticketType] ?? []
                        row.stepCount = Int32(steps.count)
                        if record.stepPosition >= 0 {
                            row.stepName = record.stepPosition < steps.count ? steps[record.stepPosition].name : "concluída"
                        }
                    }
                    response.tickets.append(row)
                }
                if records.count > size { response.nextCursor = String(request.page + 1) }
                return response
            }
        }
    }

    /// The stages `ListBacklog` lists: waiting for product's decision, accepted, in development.
    static let listedStages = ["analise_produto", backlogStage, developmentStage]

    /// `ListBacklog`'s filters as a condition over the tickets alias `t` (without the access rule).
    /// - Throws: `INVALID_ARGUMENT` naming `stages` for a stage outside ``listedStages``.
    static func backlogCondition(_ request: WorkflowV1.ListBacklogRequest) throws -> (String, [SQLValue]) {
        let stages = request.stages.isEmpty ? [backlogStage] : request.stages
        if let unknown = stages.first(where: { !listedStages.contains($0) }) {
            throw RPCError(.invalidArgument, "etapa fora do backlog / stage not in the backlog", violations: [
                FieldViolation(field: "stages", reason: "unknown",
                               pt: "Etapa \(unknown) desconhecida: use analise_produto, para_desenvolver ou em_desenvolvimento.",
                               en: "Unknown stage \(unknown): use analise_produto, para_desenvolver or em_desenvolvimento.")])
        }
        var parts = ["t.stage IN (\(Array(repeating: "?", count: stages.count).joined(separator: ", ")))"]
        var params: [SQLValue] = stages.map { .text($0) }
        if request.versionID == "-" {
            parts.append("t.version_id = ''")
        } else if !request.versionID.isEmpty {
            parts.append("t.version_id = ?")
            params.append(.text(request.versionID))
        }
        if !request.product.isEmpty {
            parts.append("t.product = ?")
            params.append(.text(request.product))
        }
        return (parts.joined(separator: " AND "), params)
    }
}
