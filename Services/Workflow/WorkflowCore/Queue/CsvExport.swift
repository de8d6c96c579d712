import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// Streams the queue (same filters and access rules as ListQueue) as CSV, in keyset batches each
/// read in its own snapshot, so an export has no row cap and holds no long transaction. Names are
/// as people read them (category, priority, stage, and how a finished ticket ended, `outcome`:
/// ``TicketOutcome``'s Portuguese label, empty while open; `outcome_en`, its English label, as the
/// JSON carries both). Category, priority and stage read in Portuguese; their English labels come
/// last, `category_en`, `priority_en` and (since 2026-12-02) `stage_en` — the flow's English name
/// of the stage (``StageDefinition/nameEN``, the row's `stage_name_en`) — appended, so columns read by position stay put.
enum CsvExport {
    static let batch = 1_000
    static let header = ["code", "subject", "organization", "category", "priority", "product", "module", "stage", "group", "agent",
                         "access_level", "opened_at", "last_interaction_at", "ping_pong", "outcome", "outcome_en",
                         "category_en", "priority_en", "stage_en"]

    /// One cell (``CSVCell``: quoting, and formulas kept from running in a spreadsheet).
    static func field(_ text: String) -> String { CSVCell.text(text) }

    static func iso(_ millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    static func register(_ router: inout RPCRouter, api: WorkflowAPI) {
        router.registerStreaming(WorkflowV1.Workflow.exportQueue) { requests, writer, context in
            guard let request = try requests.receive() else { return nil }
            var chunk = WorkflowV1.CsvChunk()
            // The header goes with the first rows, once the filter has been read: a filter refused
            // (an unknown stage, a bad SLA state) is the call's error, not a 200 with the header
            // alone and an error cut into the download after it.
            var head = header.joined(separator: ",") + "\r\n"
            var cursor = ""
            // Check the caller before writing anything.
            _ = try api.read(context) { actor, _ in try actor.requireStaff() }
            repeat {
                try context.checkCancellation()
                var page = WorkflowV1.ListQueueRequest()
                page.filter = request.filter
                page.pageSize = Int32(TicketQueries.maxPageSize)
                page.cursor = cursor
                var text = ""
                var rows: Int64 = 0
                var pages = 0
                while pages < batch / TicketQueries.maxPageSize {
                    let response = try api.read(context) { actor, tx in try api.queries.listQueue(tx, page, actor: actor) }
                    for row in response.tickets {
                        let values = [row.code, row.subject, row.organizationName, row.category.label(), row.priority.label(),
                                      row.product, row.module, row.stageName, row.holder?.groupName ?? "", row.holder?.agentName ?? "",
                                      String(row.accessLevel), iso(row.openedAtMs), iso(row.lastInteractionAtMs), row.pingPong ? "1" : "0",
                                      TicketOutcome.label(row.outcome), TicketOutcome.label(row.outcome, .english),
                                      row.category.label(.english), row.priority.label(.english),
                                      row.stageNameEn]
                        text += values.map(field).joined(separator: ",") + "\r\n"
                        rows += 1
                    }
                    cursor = response.nextCursor
                    page.cursor = cursor
                    pages += 1
                    if cursor.isEmpty { break }
                }
                if !text.isEmpty || !head.isEmpty {
                    chunk.text = head + text
                    chunk.rows = rows
                    try writer.send(chunk)
                    head = ""
                }
            } while !cursor.isEmpty
            return nil
        }
    }
}
