import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension TimeAPI {
    func registerMetrics(_ router: inout RPCRouter) {
        let api = self
        router.registerStreaming(WorkflowV1.WorkflowTime.exportMetricsReport) { requests, responses, context in
            let caller = try api.staff(context)
            guard let request = try requests.receive() else { return nil }
            let report = try api.report(request, caller: caller)
            var chunk = WorkflowV1.CsvChunk()
            chunk.text = MetricsExport.csv(report, stages: api.stages)
            chunk.rows = Int64(chunk.text.components(separatedBy: "\r\n").count - 1)
            try responses.send(chunk)
            return nil
        }
        router.register(WorkflowV1.WorkflowTime.getMetrics) { request, context in
            let caller = try api.staff(context)
            let report = try api.report(request, caller: caller)
            var response = WorkflowV1.GetMetricsResponse()
            response.totals = MetricsMapping.totals(report.totals)
            response.byCategory = report.byCategory.map(MetricsMapping.row)
            response.byProduct = report.byProduct.map(MetricsMapping.row)
            response.byModule = report.byModule.map(MetricsMapping.row)
            response.byGroup = report.byGroup.map(MetricsMapping.row)
            response.stageTime = report.stageTime.map {
                var row = WorkflowV1.StageTimeRow()
                row.stage = $0.stage
                (row.stageName, row.stageNameEn) = api.stages.names($0.stage)
                row.exits = $0.exits
                row.avgWallMs = $0.averageWallMs
                row.avgBusinessMs = $0.averageBusinessMs
                return row
            }
            response.byOutcome = report.byOutcome.map {
                var row = WorkflowV1.OutcomeRow()
                row.outcome = $0.outcome
                row.outcomeLabel = TicketOutcome.label($0.outcome)
                row.outcomeLabelEn = TicketOutcome.label($0.outcome, .english)
                row.finished = $0.finished
                return row
            }
            response.backlog = report.backlog.map {
                var row = WorkflowV1.BacklogStageRow()
                row.stage = $0.stage
                (row.stageName, row.stageNameEn) = api.stages.names($0.stage)
                row.count = $0.count
                row.byAge = $0.byAge
                return row
            }
            return response
        }
        router.registerStreaming(WorkflowV1.WorkflowTime.exportMetrics) { requests, responses, context in
            let caller = try api.staff(context)
            guard let request = try requests.receive() else { return nil }
            let level = TimeAPI.levelCap(caller) ?? Int32.max
            // Their own tickets above their level too, as their report counts them.
            let holder = TimeAPI.levelCap(caller) == nil ? "" : caller.id
            let pageSize = try PageSize.resolve(request.pageSize, field: "page_size", default: 1_000, maximum: 10_000)
            let to = request.toMs == 0 ? Int64.max : request.toMs
            let filter = try TimeAPI.filter(groupID: request.groupID, product: request.product, agentID: request.agentID)
            var cursor: MetricsExport.Cursor?
            var first = true
            repeat {
                try context.checkCancellation()
                // One short read per page: memory stays flat and no transaction is held open.
                let page = try api.database.read { tx in
                    try MetricsExport.page(tx, from: request.fromMs, to: to, after: cursor, limit: pageSize, maxAccessLevel: level, holder: holder,
                                           filter: filter, stages: api.stages)
                }
                var chunk = WorkflowV1.CsvChunk()
                chunk.text = (first ? MetricsExport.header : "") + page.csv
                chunk.rows = Int64(page.csv.isEmpty ? 0 : page.csv.components(separatedBy: "\r\n").count - 1)
                if !chunk.text.isEmpty { try responses.send(chunk) }
                first = false
                cursor = page.next
            } while cursor != nil
            return nil
        }
    }
}

extension TimeAPI {
    /// The report `request` asks for: from the rollups without a filter, from the matching
    /// tickets' facts with one (``MetricsFilter``). A caller held to a level (agents, chefes and
    /// integration keys below administrator, at the level ``staff(_:)`` resolved) counts only
    /// the tickets they may see, filtered or not (as ``Visibility`` and the ticket facts'
    /// export): the rollups, sums over every ticket, are for administrators and services.
    func report(_ request: WorkflowV1.GetMetricsRequest, caller: AuthV1.Principal) throws -> MetricsReport {
        // Each refusal names the field that is wrong (a bad `to_day` was refused on `from_day`).
        guard let from = LocalDay(iso: request.fromDay) else {
            throw TimeAPI.invalid("from_day", ["dia inválido: use AAAA-MM-DD / invalid day: use YYYY-MM-DD"])
        }
        guard let to = LocalDay(iso: request.toDay) else {
            throw TimeAPI.invalid("to_day", ["dia inválido: use AAAA-MM-DD / invalid day: use YYYY-MM-DD"])
        }
        guard from < to else {
            throw TimeAPI.invalid("to_day", ["o fim deve ser depois do início (from_day) / the end must be after the start (from_day)"])
        }
        var filter = try Self.filter(groupID: request.groupID, product: request.product, agentID: request.agentID)
        if let level = Self.levelCap(caller) { filter.visibleTo = (level, caller.id) }
        let now = time.clock()
        return try database.read { tx in try MetricsQuery.report(tx, from: from, to: to, now: now, filter: filter) }
    }
}

extension TimeAPI {
    /// The highest access level whose tickets `caller`'s metrics may name or count: an agent's or
    /// an integration key's own (a key is staff held to its level, as ``Actor`` holds it);
    /// `nil` (every level) for administrators and services.
    static func levelCap(_ caller: AuthV1.Principal) -> Int32? {
        (caller.kind == .agent || caller.kind == .integration) && !caller.administrator ? caller.accessLevel : nil
    }

    /// The filter of a metrics request: each value up to 200 bytes and without control
    /// characters, else INVALID_ARGUMENT naming its field.
    static func filter(groupID: String, product: String, agentID: String) throws -> MetricsFilter {
        for (field, value) in [("group_id", groupID), ("product", product), ("agent_id", agentID)] {
            if value.utf8.count > 200 || value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                throw TimeAPI.invalid(field, ["filtro inválido (até 200 bytes, sem caracteres de controle) / invalid filter (up to 200 bytes, no control characters)"])
            }
        }
        return MetricsFilter(groupID: groupID, product: product, agentID: agentID)
    }
}

enum MetricsMapping {
    static func totals(_ t: MetricTotals) -> WorkflowV1.MetricTotals {
        var m = WorkflowV1.MetricTotals()
        m.opened = t.opened
        m.finished = t.finished
        m.reopened = t.reopened
        m.firstResponses = t.firstResponses
        m.avgFirstResponseWallMs = t.averageFirstResponseWallMs
        m.avgFirstResponseBusinessMs = t.averageFirstResponseBusinessMs
        m.resolutions = t.resolutions
        m.avgResolutionWallMs = t.averageResolutionWallMs
        m.avgResolutionBusinessMs = t.averageResolutionBusinessMs
        m.slaMetPercent = t.slaMetPercent
        m.reopenPercent = t.reopenPercent
        m.transfers = t.transfers
        m.pingPongs = t.pingPongs
        m.surveys = t.surveys
        m.avgSurveyScore = t.averageSurveyScore
        return m
    }

    static func row(_ entry: (key: String, totals: MetricTotals)) -> WorkflowV1.MetricsBreakdownRow {
        var row = WorkflowV1.MetricsBreakdownRow()
        row.key = entry.key
        row.totals = totals(entry.totals)
        return row
    }
}
