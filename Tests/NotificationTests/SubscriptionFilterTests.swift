import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// A person's switch for some tickets only: the rules' and webhooks' filter (`TicketCriteria`) on
/// a subscription — on: only the tickets it matches; off: all but those.
@Suite("Notification: person subscriptions filtered by ticket", .serialized)
struct SubscriptionFilterTests {
    @discardableResult
    static func set(_ harness: NotificationHarness, _ person: String, _ kind: String, enabled: Bool, filter: NotificationV1.TicketFilter? = nil,
                    as principal: AuthV1.Principal = NotificationHarness.administrator()) throws -> NotificationV1.Subscription? {
        var request = NotificationV1.SetSubscriptionRequest()
        var subscription = NotificationV1.Subscription()
        subscription.person = person
        subscription.eventKind = kind
        subscription.enabled = enabled
        subscription.filter = filter
        request.subscription = subscription
        return try harness.client.call(NotificationV1.Notification.setSubscription, request, options: harness.options(principal)).subscription
    }

    static func listed(_ harness: NotificationHarness, _ person: String) throws -> [NotificationV1.Subscription] {
        var request = NotificationV1.ListSubscriptionsRequest()
        request.person = person
        return try harness.client.call(NotificationV1.Notification.listSubscriptions, request,
                                       options: harness.options(NotificationHarness.administrator())).subscriptions
    }

    @Test("Ana hears of SLA breaches of Urgente tickets only (her own switch, on with a filter), the chefe of all but Baixa (off with a filter); the switch read per recipient decides alike; listed with its filter; bad values refused naming subscription.filter, nothing stored",
          arguments: TestEngines.all)
    func filteredSwitches(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        let saved = try Self.set(harness, "", "SLABreached", enabled: true, filter: TicketFilterTests.filter(priorities: [.urgente, .urgente]),
                                 as: NotificationHarness.agent())
        #expect(saved?.person == "ana@suporte.example" && saved?.filter?.priorities == [.urgente], "her own, named twice kept once: \(String(describing: saved))")
        try Self.set(harness, "chefe@suporte.example", "SLABreached", enabled: false, filter: TicketFilterTests.filter(priorities: [.baixa]))
        // A `*` switch off for the chefe: the kind's own switch (with its filter) still decides SLA breaches.
        try Self.set(harness, "chefe@suporte.example", "*", enabled: false)

        func recipients(_ ticketID: String) throws -> [String] { try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted() }
        #expect(try harness.deliver([TicketFilterTests.breach("t-urgent", code: "2026-000961", priority: .urgente),
                                     TicketFilterTests.breach("t-normal", code: "2026-000962", priority: .normal),
                                     TicketFilterTests.breach("t-low", code: "2026-000963", priority: .baixa)]).accepted == 3)
        #expect(try recipients("t-urgent") == ["ana@suporte.example", "chefe@suporte.example"])
        #expect(try recipients("t-normal") == ["chefe@suporte.example"])
        #expect(try recipients("t-low") == [])

        // The switches read per recipient (a table too large to keep in memory) decide alike.
        var urgent = TicketTraits(), low = TicketTraits()
        urgent.priority = .urgente
        low.priority = .baixa
        let perRecipient = try harness.database.read { tx in
            try [(["ana@suporte.example"], urgent), (["ana@suporte.example"], low), (["chefe@suporte.example"], urgent),
                 (["chefe@suporte.example"], low), (["agent-1", "Ana@Suporte.example"], urgent)].map { keys, traits in
                try SubscriptionStore().isEnabled(tx, person: keys, kind: "SLABreached", ticket: traits)
            }
        }
        #expect(perRecipient == [true, false, true, false, true], "\(perRecipient)")

        let listed = try Self.listed(harness, "chefe@suporte.example")
        #expect(listed.map(\.eventKind) == ["*", "SLABreached"] && listed.first?.filter == nil
                && listed.last?.enabled == false && listed.last?.filter?.priorities == [.baixa], "\(listed)")

        func refusal(_ filter: NotificationV1.TicketFilter) -> String? {
            SuppressionTests.rpcError { _ = try Self.set(harness, "ana@suporte.example", "SLAWarning", enabled: true, filter: filter) }?.violations.first?.field
        }
        var unspecified = NotificationV1.TicketFilter()
        unspecified.priorities = [.unspecified]
        #expect(refusal(unspecified) == "subscription.filter.priorities[0]")
        #expect(refusal(TicketFilterTests.filter(products: ["ERP", " "])) == "subscription.filter.products[1]")
        #expect(refusal(TicketFilterTests.filter(organizations: ["org;1"])) == "subscription.filter.organization_ids[0]")
        #expect(try Self.listed(harness, "ana@suporte.example").map(\.eventKind) == ["SLABreached"], "the refusals stored nothing")
        // Saved again without a filter: every ticket, as before filters existed.
        #expect(try Self.set(harness, "ana@suporte.example", "SLABreached", enabled: true)?.filter == nil)
        #expect(try Self.listed(harness, "ana@suporte.example").first?.filter == nil)
    }

    @Test("Switches stored before migration 14 apply to every ticket, as before", arguments: TestEngines.all)
    func storedSwitchesCarriedOver(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1), stored: (13, { tx in
            try tx.execute("INSERT INTO notification_subscriptions (person, event_kind, enabled, updated_at) VALUES (?, ?, ?, ?)",
                           [.text("chefe@suporte.example"), .text("SLABreached"), .integer(0), .integer(1_700_000_000_000)])
        }))
        #expect(try harness.deliver([TicketFilterTests.breach("t-urgent", code: "2026-000964", priority: .urgente),
                                     TicketFilterTests.breach("t-low", code: "2026-000965", priority: .baixa)]).accepted == 2)
        #expect(try harness.deliveries(ticketID: "t-urgent").map(\.recipient) == ["ana@suporte.example"])
        #expect(try harness.deliveries(ticketID: "t-low").map(\.recipient) == ["ana@suporte.example"])
        #expect(try Self.listed(harness, "chefe@suporte.example").map { "\($0.eventKind) \($0.enabled) \($0.filter == nil)" } == ["SLABreached false true"])
    }
}
