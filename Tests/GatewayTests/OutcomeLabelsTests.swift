import Foundation
@testable import GatewayCore
import Messages
import Testing

/// The portal's outcome labels (`OUTCOMES` in portal.js, JavaScript) are a copy of
/// ``TicketOutcome`` (Swift, shared with notification's e-mails and the CLI): one wording per
/// outcome and language wherever people read it.
@Suite("Gateway: the portal words every outcome as TicketOutcome does (the e-mails' and the CLI's wording)")
struct OutcomeLabelsTests {
    /// `key: ['português', 'English']` pairs of the `OUTCOMES` table of the embedded portal.js.
    static func portalOutcomes() throws -> [String: [String]] {
        let script = try #require(PortalAssets.files["portal.js"]?.text)
        let start = try #require(script.range(of: "const OUTCOMES = {"))
        let end = try #require(script.range(of: "};", range: start.upperBound..<script.endIndex))
        let table = String(script[start.upperBound..<end.lowerBound])
        let entry = try Regex(#"(\w+): \['([^']*)', '([^']*)'\]"#)
        var found: [String: [String]] = [:]
        for match in table.matches(of: entry) {
            found[String(match.output[1].substring ?? "")] = [String(match.output[2].substring ?? ""), String(match.output[3].substring ?? "")]
        }
        return found
    }

    @Test("OUTCOMES in portal.js holds every known outcome, and only those, with TicketOutcome's Portuguese and English labels")
    func portalMatchesShared() throws {
        let portal = try Self.portalOutcomes()
        #expect(Set(portal.keys) == Set(TicketOutcome.keys), "\(portal)")
        for outcome in TicketOutcome.allCases {
            #expect(portal[outcome.rawValue] == [outcome.label(.portuguese), outcome.label(.english)], "\(outcome.rawValue): \(portal[outcome.rawValue] ?? [])")
        }
        // The wording both sides pin (notification's UnitTests pins its e-mails to the same words).
        #expect(portal["cancelada_cliente"] == ["cancelada pelo cliente", "cancelled by the customer"])
    }
}
