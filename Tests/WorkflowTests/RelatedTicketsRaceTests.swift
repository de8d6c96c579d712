import Foundation
import Messages
import Storage
import Synchronization
import Testing
import TestSupport
@testable import WorkflowCore

/// `RelatedTickets.link` written by two transactions that overlap: the second checks and inserts
/// while the first has inserted and not committed yet (as two retries of `OpenRelatedTicket`
/// with one key, which lock no ticket first). On PostgreSQL its insert waits for the first and
/// then finds the pair taken: it must count as "already linked", not fail.
@Suite("Workflow: two overlapping writes of one link")
struct RelatedTicketsRaceTests {
    @Test("the later of two overlapping links of one pair succeeds and adds nothing: one link each way, one history line per ticket",
          arguments: TestEngines.all)
    func overlappingLinks(engine: DatabaseEngine) throws {
        let harness = try WorkflowHarness(engine)
        try harness.seedDirectory()
        try harness.deliver(WorkflowHarness.opened("ra", organization: "org-1"), key: "ra")
        try harness.deliver(WorkflowHarness.opened("rb", organization: "org-2"), key: "rb")
        let actor = Actor(kind: .agent, id: "ana", name: "Ana")
        let (database, lifecycle) = (harness.database, harness.lifecycle)
        let failures = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            // The first holds its transaction open after linking; the second starts meanwhile.
            if index == 1 { Thread.sleep(forTimeInterval: 0.1) }
            do {
                try database.write { tx in
                    try RelatedTickets.link(tx, "ra", "rb", codes: ("RA", "RB"), note: "Mesmo erro", actor: actor, at: lifecycle.now(),
                                            lifecycle: lifecycle)
                    if index == 0 { Thread.sleep(forTimeInterval: 0.4) }
                }
            } catch { failures.withLock { $0.append("\(error)") } }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        let links = try database.read { tx in
            try tx.query("SELECT ticket_id, other_ticket_id FROM ticket_links ORDER BY ticket_id").map {
                "\(try $0.text("ticket_id"))>\(try $0.text("other_ticket_id"))"
            }
        }
        #expect(links == ["ra>rb", "rb>ra"])
        for ticket in ["ra", "rb"] {
            #expect(try harness.history(ticket).filter { $0.kind == "link" }.count == 1, "\(ticket)")
        }
    }
}
