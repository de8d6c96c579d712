import Foundation
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// An API key created with a customer's role (`customer_contact`, `customer_admin`) and an
/// organization acts as a customer of that organization, on the HTTP API and on the gateway's
/// RPC port: it never reads another company's tickets, the queue or the metrics. (It used to be
/// signed as an integration, which workflow and intake treat as staff: every company's tickets at
/// the key's level, 0 by default.)
@Suite("API keys with a customer's role reach only their organization", .serialized)
struct CustomerKeyScopeTests {
    @Test("another company's customer key gets no ticket of Acme (HTTP and RPC port), no queue, no metrics; Acme's own key lists Acme's ticket",
          arguments: TestEngines.all)
    func customerKeyScope(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let ticketID = try setup.openTicket(subject: "Balanço sigiloso da Acme", request: "Os valores do balanço não batem.", module: "Contábil")

        func key(_ name: String, role: String, organization: String) throws -> String {
            let created = try gateway.request("POST", "/v1/api-keys", json: ["name": name, "role": role, "organization_id": organization],
                                              bearer: seeded.admin)
            setup.ok(created, 201)
            return try #require(created.json["key"] as? String, "\(created.text)")
        }
        let (_, betaID) = try gateway.createOutsider(admin: seeded.admin, email: "gestor@beta.example")
        for role in ["customer_contact", "customer_admin"] {
            let beta = try key("Beta ERP \(role)", role: role, organization: betaID)
            // HTTP: the ticket, the list, the metrics.
            let ticket = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: beta)
            #expect([403, 404].contains(ticket.status), "\(role): \(ticket.status) \(ticket.text)")
            #expect(!ticket.text.contains("sigiloso"))
            let list = try gateway.request("GET", "/v1/tickets?stage=", bearer: beta)
            #expect(!list.text.contains(ticketID) && !list.text.contains("sigiloso"), "\(role): \(list.text)")
            let metrics = try gateway.request("GET", "/v1/reports/metrics?from_day=2026-01-01&to_day=2028-01-01", bearer: beta)
            #expect(metrics.status == 403, "\(role): \(metrics.status) \(metrics.text)")

            // The RPC port, straight to workflow and intake.
            let proxy = ProxyTests.client(port: gateway.proxyPort, key: beta)
            defer { proxy.close() }
            func code(_ body: () throws -> Void) -> RPCStatusCode? {
                do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
            }
            var get = WorkflowV1.GetTicketRequest()
            get.ticketID = ticketID
            #expect([.notFound, .permissionDenied].contains(code { _ = try proxy.call(WorkflowV1.Workflow.getTicket, get) }), "\(role)")
            var holder = WorkflowV1.GetTicketHolderRequest()
            holder.ticketID = ticketID
            #expect([.notFound, .permissionDenied].contains(code { _ = try proxy.call(WorkflowV1.Workflow.getTicketHolder, holder) }), "\(role)")
            var intakeGet = IntakeV1.GetTicketRequest()
            intakeGet.ticket = ticketID
            #expect([.notFound, .permissionDenied].contains(code { _ = try proxy.call(IntakeV1.Intake.getTicket, intakeGet) }), "\(role)")
            if let queue = try? proxy.call(WorkflowV1.Workflow.listQueue, WorkflowV1.ListQueueRequest()) {
                #expect(!queue.tickets.contains { $0.ticketID == ticketID }, "\(role): the queue shows Acme's ticket")
            }
            if let customers = try? proxy.call(WorkflowV1.Workflow.listCustomerTickets, WorkflowV1.ListCustomerTicketsRequest()) {
                #expect(!customers.tickets.contains { $0.ticketID == ticketID }, "\(role): Acme's ticket among Beta's")
            }
            var metricsAsk = WorkflowV1.GetMetricsRequest()
            (metricsAsk.fromDay, metricsAsk.toDay) = ("2026-01-01", "2028-01-01")
            #expect(code { _ = try proxy.call(WorkflowV1.WorkflowTime.getMetrics, metricsAsk) } == .permissionDenied, "\(role)")

            // Its own company's directory: a key is no contact of it, so it manages none (over
            // HTTP the gateway refuses keys without tickets.work first).
            var contact = IntakeV1.Contact()
            (contact.organizationID, contact.name, contact.email, contact.active, contact.authorized) = (betaID, "Intruso", "intruso@beta.example", true, true)
            #expect(code { _ = try proxy.call(IntakeV1.Intake.addContact, contact) } == .permissionDenied, "\(role)")
            let added = try gateway.request("POST", "/v1/organizations/\(betaID)/contacts",
                                            json: ["name": "Intruso", "email": "intruso@beta.example", "authorized": true], bearer: beta)
            #expect(added.status == 403, "\(role): \(added.text)")
        }

        // Acme's own customer key sees Acme's ticket in its list, as Acme's contacts do.
        let acme = try key("Acme ERP", role: "customer_contact", organization: seeded.organizationID)
        let proxy = ProxyTests.client(port: gateway.proxyPort, key: acme)
        defer { proxy.close() }
        let own = try proxy.call(WorkflowV1.Workflow.listCustomerTickets, WorkflowV1.ListCustomerTicketsRequest())
        #expect(own.tickets.contains { $0.ticketID == ticketID })

        // A customer key needs its organization; a representative's key is refused (it would act
        // for no organization).
        let orphan = try gateway.request("POST", "/v1/api-keys", json: ["name": "sem empresa", "role": "customer_contact"], bearer: seeded.admin)
        #expect(orphan.status == 400, "\(orphan.text)")
        let representative = try gateway.request("POST", "/v1/api-keys", json: ["name": "revenda", "role": "representative"], bearer: seeded.admin)
        #expect(representative.status == 400, "\(representative.text)")
    }
}
