import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// What a ticket says of how it came in (channel, origin, representative) is decided by who opens
/// it, not by what the request claims (directory review of 2026-12-02, closed the same day).
@Suite("Channel and origin by caller", .serialized)
struct OpeningSourceTests {
    @Test("a customer (and the company's administrator for a colleague) names only the portal and the customer origin: `phone`, `whatsapp`, `email` over the API, origin `representative` and a representative are refused naming each field; omitted ones get the portal and `customer`; nothing stored",
          arguments: TestEngines.all)
    func customersOpenThroughThePortal(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let ana = try harness.contact(acme, "Ana", email: "ana@acme.example", admin: true)
        var draft = IntakeV1.Representative()
        draft.name = "Revenda Sul"
        draft.organizationIDs = [acme.id]
        let sul = try harness.client.call(IntakeV1.Intake.createRepresentative, draft, options: harness.staff)
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let asAnaForMaria = harness.options(IntakeHarness.customer(ana, admin: true))
        func refusal(_ options: CallOptions, channel: String = "", origin: String = "", representative: String = "",
                     messageID: String = "") -> [String] {
            var request = IntakeHarness.request(acme, subject: "Pedido \(channel) \(origin) \(representative)")
            request.contactID = maria.id
            request.channel = channel
            request.origin = origin
            request.representativeID = representative
            request.emailMessageID = messageID
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: options) }
            return error.map { [$0.code == .invalidArgument ? "invalidArgument" : "\($0.code)"] + $0.violations.map { "\($0.field):\($0.reason)" } } ?? []
        }
        for options in [asMaria, asAnaForMaria] {
            #expect(refusal(options, channel: "phone") == ["invalidArgument", "channel:not_for_customers"])
            #expect(refusal(options, channel: "WhatsApp") == ["invalidArgument", "channel:not_for_customers"])
            #expect(refusal(options, channel: "email") == ["invalidArgument", "channel:not_for_customers"])
            #expect(refusal(options, channel: "email", messageID: "forjado@acme.example") == ["invalidArgument", "channel:not_for_customers"])
            #expect(refusal(options, origin: "representative") == ["invalidArgument", "origin:not_for_customers"])
            #expect(refusal(options, channel: "phone", origin: "representative")
                == ["invalidArgument", "channel:not_for_customers", "origin:not_for_customers"])
            #expect(refusal(options, representative: sul.id) == ["invalidArgument", "representative_id:not_for_customers"])
            // An unknown channel is still unknown.
            #expect(refusal(options, channel: "telegram") == ["invalidArgument", "channel:unknown_channel"])
        }
        #expect(try harness.count("tickets") == 0)
        let error = rpcError {
            var request = IntakeHarness.request(acme)
            request.channel = "phone"
            _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: asMaria)
        }
        // Bilingual, the field named in both halves.
        #expect(error?.message.contains("channel") == true && error?.violations.first?.descriptionPT.contains("portal") == true
            && error?.violations.first?.descriptionEN.contains("portal") == true)

        // What the portal sends, and nothing at all.
        var named = IntakeHarness.request(acme, subject: "Pelo portal")
        named.channel = "Portal"
        named.origin = "customer"
        let portal = try #require(try harness.client.call(IntakeV1.Intake.openTicket, named, options: asMaria).ticket)
        #expect(portal.channel == "portal" && portal.origin == "customer" && portal.representative == nil)
        var forMaria = IntakeHarness.request(acme, subject: "Sem canal")
        forMaria.contactID = maria.id
        let omitted = try #require(try harness.client.call(IntakeV1.Intake.openTicket, forMaria, options: asAnaForMaria).ticket)
        #expect(omitted.channel == "portal" && omitted.origin == "customer" && omitted.contact?.id == maria.id)
        #expect(try harness.count("tickets") == 2)
    }

    @Test("a representative's person opens with the portal and the representative origin only; staff and integrations name any active channel and origin; the mail-in path records `email`",
          arguments: TestEngines.all)
    func representativesStaffAndMail(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let (paula, _) = try harness.representativePerson(for: acme)
        func open(_ options: CallOptions, channel: String = "", origin: String = "", subject: String) -> (IntakeV1.Ticket?, [String]) {
            var request = IntakeHarness.request(acme, subject: subject)
            request.contactID = maria.id
            request.channel = channel
            request.origin = origin
            var ticket: IntakeV1.Ticket?
            let error = rpcError { ticket = try harness.client.call(IntakeV1.Intake.openTicket, request, options: options).ticket }
            return (ticket, error?.violations.map { "\($0.field):\($0.reason)" } ?? [])
        }
        #expect(open(paula, origin: "customer", subject: "a").1 == ["origin:not_for_representatives"])
        #expect(open(paula, channel: "phone", subject: "b").1 == ["channel:not_for_customers"])
        let byPaula = try #require(open(paula, channel: "portal", origin: "representative", subject: "c").0)
        #expect(byPaula.channel == "portal" && byPaula.origin == "representative" && byPaula.representative != nil)
        #expect(open(paula, subject: "d").0?.origin == "representative")

        // Staff: any active entry.
        let byPhone = try #require(open(harness.staff, channel: "phone", origin: "representative", subject: "e").0)
        #expect(byPhone.channel == "phone" && byPhone.origin == "representative")
        var integration = IntakeHarness.agent("erp-key", administrator: true, permissions: ["tickets.read", "tickets.work"])
        integration.kind = .integration
        let byKey = try #require(open(harness.options(integration), channel: "whatsapp", origin: "customer", subject: "f").0)
        #expect(byKey.channel == "whatsapp" && byKey.origin == "customer")

        // Intake's own mail-in path is the one way a customer's ticket gets the e-mail channel.
        var mail = IntakeHarness.request(acme, subject: "Por e-mail")
        mail.contactID = maria.id
        mail.channel = "email"
        mail.origin = "customer"
        mail.emailMessageID = "<mail-1@acme.example>"
        let byMail = try harness.intake.openTicket(mail, caller: Caller(IntakeHarness.customer(maria)))
        #expect(byMail.ticket?.channel == "email")
    }
}
