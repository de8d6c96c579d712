import Foundation
import IntakeCore
import Messages
import Storage
import Testing
import TestSupport

@Suite("The year in ticket codes", .serialized)
struct TicketCodeYearTests {
    @Test("ticket codes carry the year of INTAKE_TICKET_CODE_TIME_ZONE and number from 1 in each year's counter",
          arguments: TestEngines.all)
    func codesUseTheConfiguredYear(engine: DatabaseEngine) throws {
        // Fourteen hours ahead of UTC and twelve behind: on 31 December and 1 January one of
        // the two is in another year than UTC; on other days both codes agree with it.
        for zone in ["+14:00", "-12:00"] {
            let harness = try IntakeHarness(engine, environment: ["INTAKE_TICKET_CODE_TIME_ZONE": zone])
            let acme = try harness.organization("Acme", taxID: "11222333000181")
            let maria = IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example"))
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                              options: harness.options(maria)).ticket)
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            let years = Set([before, after].map { try! TicketCodeTimeZone(parsing: zone).year(ofMilliseconds: $0) })
            #expect(years.contains { ticket.code == String(format: "%04d-000001", $0) }, "\(zone): \(ticket.code)")
        }
    }

    @Test("past 999,999 in a year a code gets seven digits (2026-999999, then 2026-1000000), found by its code like any other",
          arguments: TestEngines.all)
    func codesPastSixDigits(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = harness.options(IntakeHarness.customer(try harness.contact(acme, "Maria", email: "maria@acme.example")))
        let first = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Primeira"), options: maria).ticket)
        let year = String(first.code.prefix(4))
        try harness.database.write { try $0.execute("UPDATE counters SET last_value = 999998 WHERE name = ?", [.text("ticket-\(year)")]) }
        let codes = try ["Penúltima", "Sete dígitos", "Depois"].map { subject in
            try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: subject), options: maria).ticket).code
        }
        #expect(codes == ["\(year)-999999", "\(year)-1000000", "\(year)-1000001"])
        for code in codes {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = code
            #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: maria).code == code)
        }
    }
}
