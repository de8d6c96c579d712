import Foundation
@testable import GatewayCore
import Testing

/// Where the multipart open's files go (`TicketForm.positions(of:carried:)`): the
/// `file_positions` the gateway adds to intake's `OpenTicket` so the ticket lists the files in
/// form order with only the large ones uploaded.
@Suite("The multipart open places its files")
struct TicketFormPositionsTests {
    @Test("small, large, small: the small ones at 0 and 2, the upload takes 1; after the JSON's own attachment_ids and files (its own positions kept); nothing inside the call: no positions")
    func positions() {
        #expect(TicketForm.positions(of: [:], carried: [true, false, true]) == [0, 2])
        #expect(TicketForm.positions(of: [:], carried: [false, false]) == nil)
        #expect(TicketForm.positions(of: [:], carried: []) == nil)
        // The JSON names two uploads (one twice: intake counts it once) and one file of its own.
        let own: [String: Any] = ["attachment_ids": ["u1", "u2", "u1"], "files": [["file_name": "a.txt"]]]
        #expect(TicketForm.positions(of: own, carried: [false, true]) == [2, 4])
        // Its own file placed first by the JSON itself.
        var placed = own
        placed["file_positions"] = [0]
        #expect(TicketForm.positions(of: placed, carried: [true]) == [0, 3])
    }
}
