import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// An organization deactivated while its tickets are being opened: once the deactivation is
/// answered, no open of that organization commits (directory review of 2026-12-02). On
/// PostgreSQL an open share-locks the organization row it read; SQLite's one writer runs an
/// open's transaction or the deactivation's, never both at once.
@Suite("An organization's deactivation and opens at once", .serialized)
struct DeactivationRaceTests {
    /// Acme with `count` contacts, and Beta with a ticket (so this year's code counter row exists).
    private static func setUp(_ harness: IntakeHarness, contacts count: Int) throws -> (IntakeV1.Organization, [IntakeV1.Contact], year: String) {
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<count).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let bia = try harness.contact(beta, "Bia", email: "bia@beta.example")
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(beta),
                                                         options: harness.options(IntakeHarness.customer(bia))).ticket)
        return (acme, contacts, String(first.code.prefix(4)))
    }

    private static func tickets(_ harness: IntakeHarness, of organization: IntakeV1.Organization) throws -> Int64 {
        try harness.database.read {
            try $0.scalar("SELECT COUNT(*) FROM tickets WHERE organization_id = ?", [.text(organization.id)]).integerValue
        }
    }

    private static func deactivate(_ harness: IntakeHarness, _ organization: IntakeV1.Organization) throws {
        var inactive = organization
        inactive.active = false
        _ = try harness.client.call(IntakeV1.Intake.updateOrganization, inactive, options: harness.staff)
    }

    @Test("an open that read its organization active and waits (behind the held code counter) holds a concurrent deactivation back on PostgreSQL until it commits; whichever comes first on SQLite, no ticket of the organization is stored after the deactivation's answer, and later opens are refused",
          arguments: TestEngines.all, [true, false])
    func heldOpenHoldsTheDeactivationBack(engine: DatabaseEngine, groupCommit: Bool) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": groupCommit ? "true" : "false"])
        let (acme, contacts, year) = try Self.setUp(harness, contacts: 1)
        let held = HeldWriter(harness.database, ticketYear: year)
        let open = ConcurrentCalls(1) { _ in
            try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Antes"),
                                                 options: harness.options(IntakeHarness.customer(contacts[0]))).ticket)
        }
        if engine == .postgres {
            // The open has read (and share-locked) Acme and waits for the counter row.
            let limit = Date().addingTimeInterval(20)
            while try harness.database.read({ try $0.scalar("SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").integerValue }) < 1 && Date() < limit {
                usleep(10_000)
            }
        } else {
            usleep(200_000)
        }
        let answered = Mutex<Int64?>(nil)
        let deactivation = ConcurrentCalls(1) { _ in
            try Self.deactivate(harness, acme)
            // What is stored the moment the deactivation is answered.
            let stored = try Self.tickets(harness, of: acme)
            answered.withLock { $0 = stored }
        }
        usleep(500_000)
        if engine == .postgres {
            #expect(deactivation.finished == 0, "the deactivation waits for the open that read Acme active")
        }
        held.release()
        let opened = open.wait()[0]
        let deactivated = deactivation.wait()[0]
        if case .failure(let error) = deactivated { Issue.record("deactivation failed: \(error)") }
        let atAnswer = try #require(answered.withLock { $0 })
        #expect(try Self.tickets(harness, of: acme) == atAnswer, "no open of Acme committed after the deactivation was answered")
        switch opened {
        case .success?: #expect(atAnswer == 1)
        case .failure(let error)?: #expect(error.code == .failedPrecondition && atAnswer == 0, "\(error)")
        case nil: Issue.record("the open did not return")
        }
        if engine == .postgres, case .failure(let error)? = opened { Issue.record("the open that locked Acme first failed: \(error)") }
        let later = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Depois"),
                                        options: harness.options(IntakeHarness.customer(contacts[0])))
        }
        #expect(later?.code == .failedPrecondition)
        #expect(try Self.tickets(harness, of: acme) == atAnswer)
    }

    @Test("eight threads opening tickets for an organization while it is deactivated: what is stored when the deactivation is answered is all that is ever stored; every open acknowledged is stored",
          arguments: TestEngines.all)
    func opensRacingADeactivation(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let (acme, contacts, _) = try Self.setUp(harness, contacts: 8)
        let stop = Mutex(false)
        let acknowledged = Mutex<Set<String>>([])
        let openers = ConcurrentCalls(8) { index in
            for attempt in 0..<2_000 {
                if stop.withLock({ $0 }) { return }
                do {
                    let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket,
                                                                      IntakeHarness.request(acme, subject: "Pedido \(index)-\(attempt)"),
                                                                      options: harness.options(IntakeHarness.customer(contacts[index]))).ticket)
                    acknowledged.withLock { _ = $0.insert(ticket.id) }
                } catch let error as RPCError where error.code == .failedPrecondition {
                    return
                }
            }
        }
        // Let the openers get going.
        let limit = Date().addingTimeInterval(20)
        while acknowledged.withLock({ $0.count }) < 16 && Date() < limit { usleep(5_000) }
        try Self.deactivate(harness, acme)
        let atAnswer = try Self.tickets(harness, of: acme)
        let results = openers.wait()
        stop.withLock { $0 = true }
        for (index, result) in results {
            if case .failure(let error) = result { Issue.record("opener \(index): \(error)") }
        }
        #expect(atAnswer > 0)
        #expect(try Self.tickets(harness, of: acme) == atAnswer, "no open of Acme committed after the deactivation was answered")
        let stored = try harness.database.read { tx in
            Set(try tx.query("SELECT id FROM tickets WHERE organization_id = ?", [.text(acme.id)]).map { try $0.text("id") })
        }
        #expect(acknowledged.withLock { $0 }.isSubset(of: stored))
    }
}
