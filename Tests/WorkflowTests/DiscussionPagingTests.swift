import Foundation
import Messages
import RPC
import ServiceKit
import Storage
import Testing
import TestSupport
import WorkflowCore

/// `GetTicket` answers the discussion, and `GetHistory` the history, a page at a time
/// (``TicketPage``): the newest page by default, the older ones by cursor, customers counting
/// and paging public entries only.
@Suite("Workflow: the discussion and the history a page at a time")
struct DiscussionPagingTests {
    static let ana = WorkflowHarness.agent("ana")
    static let maria = WorkflowHarness.customer("maria", organization: "org-1")

    static func view(_ harness: WorkflowHarness, limit: Int32 = 0, before: String = "", as principal: AuthV1.Principal) throws -> WorkflowV1.TicketView {
        var request = WorkflowV1.GetTicketRequest()
        request.ticketID = "t1"
        request.discussionLimit = limit
        request.discussionBefore = before
        return try harness.call(WorkflowV1.Workflow.getTicket, request, as: principal)
    }

    /// Every entry `principal` may see, walking pages of `limit` from the newest.
    static func walk(_ harness: WorkflowHarness, limit: Int32, as principal: AuthV1.Principal) throws -> [String] {
        var page = try view(harness, limit: limit, as: principal)
        var texts = page.discussion.map(\.text)
        while !page.discussionBefore.isEmpty {
            #expect(page.discussion.count == Int(limit))
            page = try view(harness, limit: limit, before: page.discussionBefore, as: principal)
            texts = page.discussion.map(\.text) + texts
        }
        #expect(page.olderDiscussion == 0)
        return texts
    }

    static func history(_ harness: WorkflowHarness, limit: Int32, before: String = "") throws -> WorkflowV1.GetHistoryResponse {
        var request = WorkflowV1.GetHistoryRequest()
        request.ticketID = "t1"
        request.limit = limit
        request.before = before
        return try harness.call(WorkflowV1.Workflow.getHistory, request, as: WorkflowHarness.admin())
    }

    @Test("the newest 50 entries by default with the older count and cursor; pages walk back in place order; customers page and count public entries only; the history pages by time then place, also when every entry has the same time; bad cursors are INVALID_ARGUMENT",
          arguments: TestEngines.all)
    func paging(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        var entries: [(text: String, isPublic: Bool)] = []
        for index in 0..<70 {
            var add = WorkflowV1.AddDiscussionRequest()
            add.ticketID = "t1"
            add.text = "Entrada \(index)"
            add.isPublic = index % 2 == 0
            add.kind = add.isPublic ? "possible_solution" : "note"
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
            entries.append((add.text, add.isPublic))
        }
        let all = entries.map(\.text)
        let publicOnes = entries.filter(\.isPublic).map(\.text)

        let staff = try Self.view(harness, as: Self.ana)
        #expect(staff.discussion.map(\.text) == Array(all.suffix(TicketPage.defaultLimit)) && staff.olderDiscussion == 20 && !staff.discussionBefore.isEmpty)
        let customer = try Self.view(harness, as: Self.maria)
        #expect(customer.discussion.map(\.text) == publicOnes && customer.olderDiscussion == 0 && customer.discussionBefore.isEmpty)
        #expect(try Self.walk(harness, limit: 6, as: Self.ana) == all)
        #expect(try Self.walk(harness, limit: 6, as: Self.maria) == publicOnes)
        let customerPage = try Self.view(harness, limit: 10, as: Self.maria)
        #expect(customerPage.olderDiscussion == 25, "internal entries are not counted for customers")
        // A change answers its TicketView with the newest page too.
        var solution = WorkflowV1.SetTextRequest()
        solution.ticketID = "t1"
        solution.text = "Renovar o certificado A1."
        let changed = try harness.call(WorkflowV1.Workflow.setSolution, solution, as: Self.ana)
        #expect(changed.discussion.count == TicketPage.defaultLimit && changed.olderDiscussion >= 20)

        // The history (agents' views from a queue are recorded): small pages walk it in the order
        // one page lists it, by time then place.
        for _ in 0..<60 {
            var viewed = WorkflowV1.GetTicketRequest()
            viewed.ticketID = "t1"
            viewed.fromQueue = true
            viewed.discussionLimit = 1
            _ = try harness.call(WorkflowV1.Workflow.getTicket, viewed, as: Self.ana)
        }
        func walkHistory() throws -> [String] {
            var page = try Self.history(harness, limit: 7)
            var lines = page.entries.map { "\($0.kind)|\($0.atMs)|\($0.newValue)" }
            while !page.before.isEmpty {
                page = try Self.history(harness, limit: 7, before: page.before)
                lines = page.entries.map { "\($0.kind)|\($0.atMs)|\($0.newValue)" } + lines
            }
            return lines
        }
        let whole = try Self.history(harness, limit: 200)
        #expect(whole.entries.count > 60 && whole.olderEntries == 0 && whole.before.isEmpty)
        #expect(try walkHistory() == whole.entries.map { "\($0.kind)|\($0.atMs)|\($0.newValue)" })
        #expect(try Self.history(harness, limit: 0).entries.count == TicketPage.defaultLimit)
        // Every entry in one millisecond: the place orders them.
        try harness.database.write { tx in _ = try tx.execute("UPDATE ticket_history SET at = 1764460800000 WHERE ticket_id = 't1'") }
        let sameTime = try Self.history(harness, limit: 200).entries.map { "\($0.kind)|\($0.atMs)|\($0.newValue)" }
        #expect(try walkHistory() == sameTime && sameTime.count == whole.entries.count)

        var bad = WorkflowV1.GetHistoryRequest()
        bad.ticketID = "t1"
        bad.before = TicketPage.cursor([5])
        #expect(harness.failure(WorkflowV1.Workflow.getHistory, bad, as: WorkflowHarness.admin())?.violations.map(\.field) == ["before"],
                "the history's cursor has a time and a place")
        var badView = WorkflowV1.GetTicketRequest()
        badView.ticketID = "t1"
        badView.discussionBefore = "???"
        badView.discussionLimit = -2
        #expect(Set(harness.failure(WorkflowV1.Workflow.getTicket, badView, as: Self.ana)?.violations.map(\.field) ?? [])
                == ["discussion_before", "discussion_limit"])
    }

    @Test("with OCORRENCIAS_RPC_MAX_FRAME_BYTES below the 1 MiB page budget, a discussion page stays within a third of the frame: entries adding up past the frame are served whole, in more pages",
          arguments: TestEngines.all)
    func smallFrame(engine: DatabaseEngine) throws {
        let frame = 256 << 10
        let harness = try WorkflowHarness(engine, environment: ["OCORRENCIAS_RPC_MAX_FRAME_BYTES": String(frame)])
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("t1"), key: "t1")
        try harness.take("t1", as: Self.ana)
        // 12 entries of 30,000 characters: 360 KB, past the 256 KiB frame.
        let texts = (0..<12).map { "Longa \($0) " + String(repeating: "z", count: 30_000) }
        for text in texts {
            var add = WorkflowV1.AddDiscussionRequest()
            add.ticketID = "t1"
            add.text = text
            add.kind = "note"
            _ = try harness.call(WorkflowV1.Workflow.addDiscussion, add, as: Self.ana)
        }
        let newest = try Self.view(harness, as: Self.ana)
        let bytes = newest.discussion.map(\.text.utf8.count).reduce(0, +)
        #expect(newest.discussion.count >= 2 && bytes <= frame / 3, "\(newest.discussion.count) entries, \(bytes) bytes")
        var walked = newest.discussion.map(\.text)
        var page = newest
        var pages = 1
        while !page.discussionBefore.isEmpty {
            page = try Self.view(harness, limit: 200, before: page.discussionBefore, as: Self.ana)
            walked = page.discussion.map(\.text) + walked
            pages += 1
        }
        #expect(walked == texts && pages >= 4, "\(pages) pages")
    }
}
