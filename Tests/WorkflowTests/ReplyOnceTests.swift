import Foundation
import Messages
import Storage
import Testing
import TestSupport
import WorkflowCore

/// A customer reply is applied once, by intake's message id, whatever the number of events
/// carrying it (``AppliedReplies``): the inbox de-duplicates by event id only, and a copy under a
/// new event id (an outbox re-publish, a reply retried at intake's level) must add no second
/// discussion entry, unread message, SLA cycle, move or announcement. Through the real service,
/// on both engines.
@Suite("Workflow: the same customer reply under two event ids is applied once")
struct ReplyOnceTests {
    static let ana = WorkflowHarness.agent("ana")
    static let start = LateReplyTests.start

    /// Ticket `t1` taken and waiting on the customer (LateReplyTests' set-up), and a reply to it
    /// written a minute later (message `m1`).
    func waitingForReply(_ engine: DatabaseEngine) throws -> (LateReplyTests, ManualClock, WorkflowHarness, IntakeV1.CustomerReplied) {
        let late = LateReplyTests()
        let clock = ManualClock(Self.start)
        let harness = try late.harness(engine, clock: clock)
        try late.openAndAsk(harness, "t1", clock: clock)
        return (late, clock, harness, LateReplyTests.reply("t1", writtenAt: Self.start + 60_000))
    }

    /// The ticket waits on the customer; the reply comes, the agent answers it (the next-response
    /// cycle it opened is met), then a copy of the reply comes under another event id: nothing
    /// changes — one entry, one unread message, still cycle 1 and met, one move back to Em
    /// atendimento, one `CustomerActionApplied`. A different reply (another message id) still counts.
    @Test("a copy of a reply under another event id adds nothing", arguments: TestEngines.all)
    func copyUnderAnotherEventIDChangesNothing(engine: DatabaseEngine) throws {
        let (late, clock, harness, reply) = try waitingForReply(engine)
        clock.set(Self.start + 60_000)
        _ = try harness.deliver(reply, key: "t1", id: "event-1")
        clock.set(Self.start + 120_000)
        var answer = WorkflowV1.AddDiscussionRequest()
        answer.ticketID = "t1"
        answer.text = "Recebido, obrigado."
        answer.isPublic = true
        _ = try harness.call(WorkflowV1.Workflow.addDiscussion, answer, as: Self.ana)
        let answered = try #require(try late.target(harness, "t1", .nextResponse))
        #expect(answered.cycle == 1 && answered.status != "running", "the reply's cycle, met: \(answered)")
        let appliedBefore = try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: "t1").count

        clock.set(Self.start + 180_000)
        _ = try harness.deliver(reply, key: "t1", id: "event-2")

        let view = try harness.ticket("t1")
        #expect(view.discussion.filter { $0.kind == "customer_reply" }.count == 1, "one entry for the reply")
        #expect(view.row?.unreadMessages == 1)
        #expect(view.row?.stage == "em_atendimento")
        let next = try #require(try late.target(harness, "t1", .nextResponse))
        #expect(next.cycle == answered.cycle && next.status == answered.status, "no second SLA cycle: \(next)")
        #expect(try harness.published(WorkflowV1.CustomerActionApplied.self, ticket: "t1").count == appliedBefore)
        #expect(try harness.published(WorkflowV1.StageChanged.self, ticket: "t1").filter { $0.0.toStage == "em_atendimento" }.count == 2,
                "taken, then the reply's move: no other")
        let claims = try harness.database.read { tx in
            try tx.query("SELECT message_id FROM wf_applied_replies WHERE ticket_id = 't1'").map { try $0.text("message_id") }
        }
        #expect(claims == ["m1"])

        // Another reply of the same customer is a new message: applied.
        _ = try harness.deliver(LateReplyTests.reply("t1", writtenAt: Self.start + 240_000, message: "m2"), key: "t1", id: "event-3")
        let after = try harness.ticket("t1")
        #expect(after.discussion.filter { $0.kind == "customer_reply" }.count == 2)
        #expect(after.row?.unreadMessages == 2)
        #expect(try late.target(harness, "t1", .nextResponse)?.cycle == 2)
    }

    /// Two copies in one delivery (two envelopes of a batch, applied in one transaction) give
    /// one entry too: the claim is taken inside the transaction, before anything is written.
    @Test("two copies in one delivery give one entry", arguments: TestEngines.all)
    func copiesInOneDelivery(engine: DatabaseEngine) throws {
        let (late, _, harness, reply) = try waitingForReply(engine)
        _ = try harness.deliver([WorkflowHarness.envelope(reply, key: "t1"), WorkflowHarness.envelope(reply, key: "t1")])
        let view = try harness.ticket("t1")
        #expect(view.discussion.filter { $0.kind == "customer_reply" }.count == 1)
        #expect(view.row?.unreadMessages == 1)
        #expect(try late.target(harness, "t1", .nextResponse)?.cycle == 1)
    }
}
