import Foundation
@testable import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// The per-ticket total (`INTAKE_MAX_TICKET_BYTES`) holds when files arrive on one ticket at
/// the same time. Before, each reply or upload checked the total it read without a lock and then
/// added its bytes, so on PostgreSQL two of them could both pass on the same old total and
/// together go over the limit (`IntakeContext.addAttachmentBytes`).
@Suite("A ticket's total under concurrent replies and uploads", .serialized)
struct TicketTotalRaceTests {
    @Test("replies with files and uploads onto the ticket, sent at once, never take it past its limit; the refused store nothing and say ticket_too_large",
          arguments: TestEngines.all)
    func concurrentFilesKeepTheLimit(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_MAX_TICKET_BYTES": "10000"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        for round in 0..<6 {
            let request = IntakeHarness.request(acme, subject: "Rodada \(round)")
            let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, request, options: maria).ticket)
            let stored = Atomic(0)
            let refusals = Mutex<[String]>([])
            // 6,000 bytes each: only one of them fits in 10,000.
            DispatchQueue.concurrentPerform(iterations: 8) { index in
                let bytes = randomBytes(6_000, seed: UInt64(round * 100 + index))
                do {
                    if index % 2 == 0 {
                        _ = try harness.reply(ticket.id, text: "Segue.", files: [openFile("r\(index).bin", bytes)], as: maria)
                    } else {
                        _ = try harness.upload(bytes, name: "u\(index).bin", as: maria, ticketID: ticket.id)
                    }
                    stored.add(1, ordering: .relaxed)
                } catch let error as RPCError {
                    refusals.withLock { $0.append(error.violations.first?.reason ?? "\(error.code)") }
                } catch {
                    refusals.withLock { $0.append("\(error)") }
                }
            }
            let total = try harness.database.read {
                try $0.scalar("SELECT attachment_bytes FROM tickets WHERE id = ?", [.text(ticket.id)]).integerValue
            }
            let files = try harness.database.read {
                try $0.scalar("SELECT COUNT(*) FROM attachments WHERE ticket_id = ?", [.text(ticket.id)]).integerValue
            }
            #expect(stored.load(ordering: .relaxed) == 1, "round \(round)")
            #expect(total == 6_000 && files == 1, "round \(round): \(total) bytes in \(files) files")
            #expect(refusals.withLock { $0 } == Array(repeating: "ticket_too_large", count: 7), "round \(round)")
        }
        // The refused stored nothing: every content is named by exactly the attachments counted on it.
        #expect(try harness.count("attachments") == 6 && harness.count("contents") == 6)
        #expect(try harness.referenceCountMismatches().isEmpty)
    }
}
