import Foundation
import Messages
@testable import NotificationCore
import ServiceKit
import Storage
import Testing
import TestSupport

@Suite("Notification: claims and outcome records")
struct ClaimRecordTests {
    @Test("An outcome is written to the claimed row even when its rowid changed since the claim (as a VACUUM may do); a claim another instance holds is not",
          arguments: TestEngines.all)
    func outcomeAfterRowidChange(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: try FreePort.next()))
        // Due tomorrow: the running dispatcher leaves them alone; the test claims with tomorrow's clock.
        let tomorrow = Date().addingTimeInterval(86_400)
        let ids = ["claim-record-1", "claim-record-2"]
        try harness.database.write { tx in
            for id in ids {
                try DeliveryStore.insert(tx, NewDelivery(id: id, eventID: "e-\(id)", recipient: "jose@cliente.example", channel: .email,
                                                         eventKind: "TicketOpened", ticketID: "t-claim", lane: "email|test",
                                                         envelopeTo: ["jose@cliente.example"], messageID: "\(id)@suporte.example",
                                                         subject: "Assunto", payload: Array("mensagem".utf8)), now: tomorrow)
            }
        }
        let claimed = try harness.database.write { tx in
            try DeliveryClaims.claim(tx, lane: "email|test", instance: "me", limit: 10, now: tomorrow.addingTimeInterval(1), lease: 60)
        }
        #expect(claimed.map(\.id).sorted() == ids)
        #expect(claimed.allSatisfy { $0.payload == Array("mensagem".utf8) && $0.attempts == 1 })
        #expect(claimed.allSatisfy { (engine == .sqlite) == ($0.rowID != 0) })
        try harness.database.write { tx in
            if engine == .sqlite {
                try tx.execute("UPDATE notification_deliveries SET rowid = rowid + 100000 WHERE id = ?", [.text(ids[0])])
            }
            // Another instance took the second one over and claimed it again.
            try tx.execute("UPDATE notification_deliveries SET claimed_by = 'other', attempts = 2 WHERE id = ?", [.text(ids[1])])
        }
        let at = tomorrow.addingTimeInterval(2)
        let written = try harness.database.write { tx in
            try DeliveryClaims.recordAll(tx, claimed.map { ($0, SendOutcome.accepted("250 OK"), at) }, instance: "me",
                                         retry: RetryPolicy(), publisher: EventPublisher(source: "notification"))
        }
        let result = Dictionary(uniqueKeysWithValues: written.map { ($0.0.id, $0.1?.0) })
        #expect(result[ids[0]] == .some(.sent))
        #expect(result[ids[1]] == .some(nil))
        let states = try harness.database.read { tx in
            try tx.query("SELECT id, state, claimed_by FROM notification_deliveries WHERE ticket_id = 't-claim' ORDER BY id", [])
                .map { "\(try $0.text("id")) \(try $0.text("state")) \(try $0.text("claimed_by"))" }
        }
        #expect(states == ["\(ids[0]) sent me", "\(ids[1]) sending other"])
        // One EmailSent, for the row written.
        #expect(try harness.emailSentEvents().filter { $0.ticketID == "t-claim" }.count == 1)
    }
}
