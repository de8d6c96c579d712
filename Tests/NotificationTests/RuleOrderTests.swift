import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport

/// A kind's rules are a union: their order (the order they were added; `position`) is how they
/// are listed, never who is mailed nor how (docs/NOTIFICATION.md, "Several rules per kind").
@Suite("Notification: the order of a kind's rules changes nothing", .serialized)
struct RuleOrderTests {
    @Test("An address named by a fixed-address rule and by the holder rule is one e-mail whose person's switches apply, in either order of the rules; rules are listed in the order they were added, an updated one in its place",
          arguments: TestEngines.all)
    func orderIsIrrelevant(engine: DatabaseEngine) throws {
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: 1))
        let admin = harness.options(NotificationHarness.administrator())
        // Ana switched SolutionGiven off by her id (not by her address).
        try SubscriptionFilterTests.set(harness, "agent-1", "SolutionGiven", enabled: false)
        func recipients(_ ticketID: String, code: String) throws -> [String] {
            #expect(try harness.deliver([RuleEntryTests.solution(ticketID, code: code)]).accepted == 1)
            return try harness.deliveries(ticketID: ticketID).map(\.recipient).sorted()
        }
        func reset() throws {
            var request = NotificationV1.ResetAudienceRuleRequest()
            request.eventKind = "SolutionGiven"
            _ = try harness.client.call(NotificationV1.Notification.resetAudienceRule, request, options: admin)
        }

        // The fixed address first, then the holder (the kind's default, the customer, first of all).
        let fixed = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(addresses: ["ana@suporte.example"]))
        let holder = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(["holder"]))
        #expect(try recipients("t-fixed-first", code: "2026-000971") == ["jose@cliente.example"],
                "Ana switched it off: the holder rule names her person, whatever rule named her address first")
        // Listed in the order added; an update keeps its place.
        _ = try RuleEntryTests.update(harness, "SolutionGiven", RuleEntryTests.entry(addresses: ["ana@suporte.example", "fiscal@suporte.example"],
                                                                                     id: try #require(fixed.entry?.id)))
        let listed = try #require(try RuleEntryTests.listed(harness, "SolutionGiven"))
        #expect(listed.entries.map { $0.audiences + $0.addresses } == [["customer"], ["ana@suporte.example", "fiscal@suporte.example"], ["holder"]],
                "\(listed.entries)")
        #expect(listed.entries.last?.id == holder.entry?.id)

        // The other order: the same recipients.
        try reset()
        _ = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(["holder"]))
        _ = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(addresses: ["ana@suporte.example", "fiscal@suporte.example"]))
        #expect(try recipients("t-holder-first", code: "2026-000972") == ["fiscal@suporte.example", "jose@cliente.example"])
        try reset()
        _ = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(addresses: ["ana@suporte.example", "fiscal@suporte.example"]))
        _ = try RuleEntryTests.add(harness, "SolutionGiven", RuleEntryTests.entry(["holder"]))
        #expect(try recipients("t-fixed-first-2", code: "2026-000973") == ["fiscal@suporte.example", "jose@cliente.example"])
    }
}
