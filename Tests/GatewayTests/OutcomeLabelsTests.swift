import Foundation
@testable import GatewayCore
import Messages
import Testing

/// The portal's label tables (portal.js, JavaScript) are copies of Messages' (Swift, shared with
/// notification's e-mails, the CLI and the CSV exports): one wording per value and language
/// wherever people read it. `OUTCOMES` copies ``TicketOutcome``, `CATEGORIES` and `PRIORITIES`
/// the labels of `CommonV1.Category` and `CommonV1.Priority`, `SHIPPED_STAGES` (the stage codes
/// the backlog and deadlines pages offer) ``ShippedStageNames``. A stage workflow sends carries
/// its English name (`stage_name_en`), which the portal shows: it has no table of stage names.
@Suite("Gateway: the portal words every outcome, category, priority and shipped stage as Messages does (the e-mails' and the CLI's wording)")
struct OutcomeLabelsTests {
    /// `key: ['português', 'English']` pairs of the table `const <name> = {…};` of the embedded portal.js.
    static func portalTable(_ name: String) throws -> [String: [String]] {
        let script = try #require(PortalAssets.files["portal.js"]?.text)
        let start = try #require(script.range(of: "const \(name) = {"))
        let end = try #require(script.range(of: "};", range: start.upperBound..<script.endIndex))
        let table = String(script[start.upperBound..<end.lowerBound])
        let entry = try Regex(#"(\w+): \['([^']*)', '([^']*)'\]"#)
        var found: [String: [String]] = [:]
        for match in table.matches(of: entry) {
            found[String(match.output[1].substring ?? "")] = [String(match.output[2].substring ?? ""), String(match.output[3].substring ?? "")]
        }
        return found
    }

    static func portalOutcomes() throws -> [String: [String]] { try portalTable("OUTCOMES") }

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

    /// `table` holds every value of `E` but the unspecified one, by `.proto` name, with its labels.
    func expectCopy<E: LabelledEnum>(_ table: [String: [String]], of type: E.Type, _ name: String) {
        let values = E.allCases.filter { !$0.protoName.hasSuffix("_UNSPECIFIED") }
        #expect(Set(table.keys) == Set(values.map(\.protoName)), "\(name): \(table)")
        for value in values {
            #expect(table[value.protoName] == [value.label(.portuguese), value.label(.english)], "\(name).\(value.protoName): \(table[value.protoName] ?? [])")
        }
    }

    @Test("CATEGORIES and PRIORITIES in portal.js hold every category and priority with Messages' Portuguese and English labels (the portal said \"Improvement\", the CLI and the CSV \"Improvement suggestion\")")
    func categoriesAndPriorities() throws {
        expectCopy(try Self.portalTable("CATEGORIES"), of: CommonV1.Category.self, "CATEGORIES")
        expectCopy(try Self.portalTable("PRIORITIES"), of: CommonV1.Priority.self, "PRIORITIES")
    }

    @Test("SHIPPED_STAGES in portal.js names the shipped flows' stages in English as ShippedStageNames does (workflow's English names of them); the portal names workflow's stages with their stage_name_en, no table of customers' names")
    func shippedStages() throws {
        var portal: [String: String] = [:]
        for pair in try Self.portalTable("SHIPPED_STAGES").values { portal[pair[0]] = pair[1] }
        let customers = ["Aguardando sua resposta", "Em análise", "Aguardando sua validação"]
        #expect(portal == ShippedStageNames.english.filter { !customers.contains($0.key) }, "\(portal)")
        let script = try #require(PortalAssets.files["portal.js"]?.text)
        #expect(!script.contains("SHIPPED_CUSTOMER_STAGES") && script.contains("entry[field + '_en']"))
    }
}
