import Foundation
import Messages
import RPC
import Storage
import Synchronization
import Testing
import TestSupport
import WorkflowCore

/// Two people acting on one ticket at the same instant: the ticket's row lock (PostgreSQL) or
/// the single writer (SQLite) orders them, and the second is checked against what the first
/// left — a clear FAILED_PRECONDITION (the ticket moved on) or PERMISSION_DENIED (it is someone
/// else's now), never an INTERNAL error, a lost change or a history out of step with the ticket.
/// Real RPCs from two threads, several tickets per run, both engines.
@Suite("Workflow: concurrent actions on one ticket")
struct ConcurrentActionsTests {
    static let ana = WorkflowHarness.agent("ana")
    static let bruno = WorkflowHarness.agent("bruno")
    static let chefe = WorkflowHarness.agent("chefe")

    /// Runs `first` and `second` at once; their errors (nil: it worked).
    func race(_ first: @escaping @Sendable () throws -> Void, _ second: @escaping @Sendable () throws -> Void) -> (RPCError?, RPCError?) {
        let results = Mutex<[Int: RPCError?]>([:])
        let bodies = [first, second]
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            var failure: RPCError?
            do { try bodies[index]() } catch let error as RPCError { failure = error } catch { failure = RPCError(.unknown, "\(error)") }
            results.withLock { $0[index] = failure }
        }
        return results.withLock { ($0[0] ?? nil, $0[1] ?? nil) }
    }

    @Test("two agents take the same queued ticket: one holds it, the other gets FAILED_PRECONDITION; one take in the history",
          arguments: TestEngines.all)
    func twoTakes(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for index in 0..<6 {
            let id = "q\(index)"
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            let (a, b) = race({ _ = try harness.take(id, as: Self.ana) }, { _ = try harness.take(id, as: Self.bruno) })
            #expect((a == nil) != (b == nil), "exactly one take wins: \(String(describing: a)) \(String(describing: b))")
            let loser = a ?? b
            #expect(loser?.code == .failedPrecondition, "\(String(describing: loser))")
            let view = try harness.ticket(id)
            #expect(view.row?.holder?.agentID == (a == nil ? "ana" : "bruno") && view.row?.stage == "em_atendimento")
            let history = try harness.history(id)
            #expect(history.filter { $0.kind == "holder" }.count == 1 && history.filter { $0.kind == "stage" }.count == 1)
        }
    }

    @Test("a repasse racing a finish by the holder's chefe: both orders end consistent, the late transfer refused on a finished ticket",
          arguments: TestEngines.all)
    func transferRacingAFinish(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for index in 0..<6 {
            let id = "f\(index)"
            try harness.deliver(WorkflowHarness.opened(id, category: .duvida), key: id)
            try harness.take(id, as: Self.ana)
            let (transfer, finish) = race({
                _ = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer(id, agent: "bruno", note: "Contigo"), as: Self.ana)
            }, {
                _ = try harness.move(id, to: "finalizado", publicNote: "Resolvido por telefone.", as: Self.chefe)
            })
            #expect(finish == nil, "the chefe of both holders finishes either way: \(String(describing: finish))")
            let view = try harness.ticket(id)
            #expect(view.row?.stage == "finalizado" && view.outcome == "resolvida")
            let transfers = try harness.published(WorkflowV1.Transferred.self, ticket: id).count
            if let transfer {
                #expect(transfer.code == .failedPrecondition, "\(transfer)")
                #expect(view.row?.holder?.agentID == "ana" && view.transferCount == 0 && transfers == 0)
            } else {
                #expect(view.row?.holder?.agentID == "bruno" && view.transferCount == 1 && transfers == 1)
            }
            // The history says what happened, in the order it happened.
            let lines = try harness.history(id).filter { $0.kind == "holder" || $0.kind == "stage" }.map { "\($0.kind):\($0.newValue)" }
            let expected = transfer == nil
                ? ["holder:grupo Nível 1 / agente Ana", "stage:em_atendimento", "holder:grupo Nível 1 / agente Bruno", "stage:finalizado"]
                : ["holder:grupo Nível 1 / agente Ana", "stage:em_atendimento", "stage:finalizado"]
            #expect(lines == expected, "\(lines)")
            #expect(try harness.published(WorkflowV1.TicketFinished.self, ticket: id).count == 1)
        }
    }

    @Test("the same repasse sent twice at once with one idempotency key happens once; both callers get the same answer",
          arguments: TestEngines.all)
    func idempotentRetryRacingItself(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for index in 0..<6 {
            let id = "i\(index)"
            try harness.deliver(WorkflowHarness.opened(id), key: id)
            try harness.take(id, as: Self.ana)
            let answers = Mutex<[[UInt8]]>([])
            let send: @Sendable () throws -> Void = {
                let view = try harness.call(WorkflowV1.Workflow.transferTicket, HandoffTests.transfer(id, agent: "bruno", note: "Contigo"),
                                            as: Self.ana, idempotencyKey: "repasse-\(id)")
                answers.withLock { $0.append(view.serializedBytes()) }
            }
            let (a, b) = race(send, send)
            #expect(a == nil && b == nil, "\(String(describing: a)) \(String(describing: b))")
            let both = answers.withLock { $0 }
            #expect(both.count == 2 && both.first == both.last)
            #expect(try harness.published(WorkflowV1.Transferred.self, ticket: id).count == 1)
            #expect(try harness.ticket(id).transferCount == 1)
        }
    }

    @Test("the same link asked twice at once, either way round: both callers get the related list, one link each way, one history line per ticket",
          arguments: TestEngines.all)
    func linkRacingItself(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        for index in 0..<4 {
            let (a, b) = ("la\(index)", "lb\(index)")
            try harness.deliver(WorkflowHarness.opened(a, organization: "org-1"), key: a)
            try harness.deliver(WorkflowHarness.opened(b, organization: "org-2"), key: b)
            let answers = Mutex<[[String]]>([])
            func link(_ from: String, _ to: String) -> @Sendable () throws -> Void {
                {
                    var request = WorkflowV1.LinkTicketsRequest()
                    request.ticketID = from
                    request.otherTicketID = to
                    request.note = "Mesmo erro"
                    let related = try harness.call(WorkflowV1.Workflow.linkTickets, request, as: Self.ana)
                    answers.withLock { $0.append(related.linked.map(\.ticketID)) }
                }
            }
            // Even runs: the same request twice; odd runs: each ticket linked to the other.
            let (first, second) = race(link(a, b), index % 2 == 0 ? link(a, b) : link(b, a))
            #expect(first == nil && second == nil, "\(String(describing: first)) \(String(describing: second))")
            let expected = index % 2 == 0 ? [[b], [b]] : [[a], [b]]
            #expect(answers.withLock { $0 }.sorted { $0.joined() < $1.joined() } == expected)
            for (ticket, other) in [(a, b), (b, a)] {
                var list = WorkflowV1.ListRelatedRequest()
                list.ticketID = ticket
                #expect(try harness.call(WorkflowV1.Workflow.listRelated, list, as: Self.ana).linked.map(\.ticketID) == [other])
                #expect(try harness.history(ticket).filter { $0.kind == "link" }.count == 1, "\(ticket)")
            }
        }
    }
}
