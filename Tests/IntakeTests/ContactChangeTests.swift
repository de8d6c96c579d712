import Foundation
import IntakeCore
import Messages
import Observability
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

@Suite("Changing a ticket's contact", .serialized)
struct ContactChangeTests {
    @Test("only the holding agent (or their chefe) with the link-customers permission, only while open; workflow is asked over RPC", arguments: TestEngines.all)
    func changeContact(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let workflow = harness.workflow
        workflow.knowsNoTicket(true)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let joao = try harness.contact(acme, "João", email: "joao@acme.example")
        let stranger = try harness.contact(beta, "Estranho", email: "e@beta.example")
        let visitor = try harness.contact(acme, "Visitante", email: "visitante@acme.example", authorized: false)
        let ticket = try #require(try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                          options: harness.options(IntakeHarness.customer(maria))).ticket)
        var change = IntakeV1.ChangeTicketContactRequest()
        change.ticket = ticket.code
        change.contactID = joao.id
        let holder = IntakeHarness.agent("agent-h", administrator: false, permissions: ["tickets.link_customer"])
        let other = IntakeHarness.agent("agent-o", administrator: false, permissions: ["tickets.link_customer"])
        let noPermission = IntakeHarness.agent("agent-h", administrator: false)
        let chefe = IntakeHarness.agent("chefe-1", administrator: false, permissions: ["link_customers"], chefe: true)
        func attempt(_ principal: AuthV1.Principal) -> RPCError? {
            rpcError { _ = try harness.client.call(IntakeV1.Intake.changeTicketContact, change, options: harness.options(principal)) }
        }

        // Workflow does not know the ticket yet.
        #expect(attempt(holder)?.code == .failedPrecondition)
        workflow.holds("agent-h")
        #expect(attempt(other)?.code == .permissionDenied, "not the holder")
        #expect(attempt(noPermission)?.code == .permissionDenied, "no permission")
        // A permission granted by workflow's directory role (not in the signed principal) counts.
        workflow.holds("agent-h", callerMayLink: true)
        change.contactID = joao.id
        #expect(attempt(noPermission) == nil, "workflow's directory grants linking customers")
        change.contactID = maria.id
        #expect(attempt(noPermission) == nil)
        #expect(try harness.events(IntakeV1.TicketContactChanged.self).count == 2)
        workflow.holds("agent-h")
        #expect(attempt(IntakeHarness.customer(maria))?.code == .permissionDenied, "customers never")
        change.contactID = stranger.id
        #expect(attempt(holder)?.violations.map(\.field) == ["contact_id"], "a contact of another organization")
        // The rule opening applies: a contact not authorized to open tickets is no ticket's contact
        // (accepted before 2026-12-02).
        change.contactID = visitor.id
        let unauthorized = attempt(holder)
        #expect(unauthorized?.code == .invalidArgument
            && unauthorized?.violations.map { "\($0.field):\($0.reason)" } == ["contact_id:not_authorized"], "\(String(describing: unauthorized))")
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, { var get = IntakeV1.GetTicketRequest(); get.ticket = ticket.id; return get }(),
                                        options: harness.staff).contact?.id == maria.id)
        #expect(try harness.events(IntakeV1.TicketContactChanged.self).count == 2)
        change.contactID = joao.id
        #expect(attempt(holder) == nil)
        #expect(workflow.asked.allSatisfy { $0 == ticket.id })
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.id
        #expect(try harness.client.call(IntakeV1.Intake.getTicket, get, options: harness.staff).contact?.id == joao.id)
        let events = try harness.events(IntakeV1.TicketContactChanged.self)
        #expect(events.count == 3 && events[2].contact?.id == joao.id && events[2].changedByAgentID == "agent-h")

        // The chefe of the holder may change it back.
        change.contactID = maria.id
        #expect(attempt(chefe) == nil)
        // Once workflow finished the ticket, the contact is fixed.
        workflow.holds("agent-h", open: false)
        change.contactID = joao.id
        #expect(attempt(holder)?.code == .failedPrecondition)
        #expect(try harness.events(IntakeV1.TicketContactChanged.self).count == 4)
    }
}
