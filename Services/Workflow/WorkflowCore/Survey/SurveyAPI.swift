import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

extension TimeAPI {
    func registerSurvey(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.WorkflowTime.answerSurvey) { request, context in
            let now = api.time.clock()
            // No principal: the signed token is the caller, so keys are one survey link's.
            let caller = "survey:" + Digest.hex(Digest.sha256(Array(request.token.utf8)))
            return try Idempotent.write(api.database, context, caller: caller, request) { tx in
                var response = WorkflowV1.AnswerSurveyResponse()
                response.ticketID = try api.time.answerSurvey(tx, token: request.token, score: request.score, comment: request.comment, at: now)
                return response
            }
        }
        // No principal either: the token names the one ticket whose code and subject it shows.
        router.register(WorkflowV1.WorkflowTime.getSurveyByToken) { request, _ in
            let now = api.time.clock()
            return try api.database.read { tx in try api.time.survey.byToken(tx, token: request.token, at: now) }
        }
        router.register(WorkflowV1.WorkflowTime.getTicketSurvey) { request, context in
            let signed = try api.principals.require(context)
            let customer = signed.kind == .customer
            let caller = customer ? signed : try api.staff(context)
            let now = api.time.clock()
            return try api.database.read { tx in
                // Who may not see the ticket learns nothing, not even that it has no survey yet.
                try api.requireVisibleTicket(tx, request.ticketID, caller)
                // A representative's person sees the survey of the organizations it acts for (before
                // 2026-12 only their own: the tickets they opened for a client answered NOT_FOUND).
                let organizations = caller.representativeID.isEmpty ? [caller.organizationID] : caller.representedOrganizationIDs
                return try api.time.survey.ticketSurvey(tx, ticketID: request.ticketID, organizationIDs: customer ? organizations : nil, at: now)
            }
        }
        router.register(WorkflowV1.WorkflowTime.getSurveyResults) { request, context in
            // Below administrator, only the answers of tickets the caller may see (as the metrics).
            let caller = try api.staff(context)
            let visibleTo = TimeAPI.levelCap(caller).map { (level: $0, agentID: caller.id) }
            let names: [String: SurveyGrouping] = ["agent": .agent, "group": .group, "product": .product, "module": .module,
                                                   "category": .category, "organization": .organization]
            guard let grouping = names[request.groupBy] else {
                throw TimeAPI.invalid("group_by", ["use agent, group, product, module, category ou organization / use agent, group, product, module, category or organization"])
            }
            let to = request.toMs == 0 ? Int64.max : request.toMs
            var response = WorkflowV1.SurveyResultsResponse()
            response.rows = try api.database.read { tx in try api.time.survey.results(tx, by: grouping, from: request.fromMs, to: to, visibleTo: visibleTo) }.map {
                var row = WorkflowV1.SurveyResultRow()
                row.key = $0.key
                row.answers = Int64($0.answers)
                row.averageScore = $0.averageScore
                row.distribution = $0.distribution.map(Int64.init)
                return row
            }
            return response
        }
    }
}
