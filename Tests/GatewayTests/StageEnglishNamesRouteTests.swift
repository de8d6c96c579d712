import Foundation
import Storage
import Testing
import TestSupport

/// Workflow names every stage in Portuguese and in English (`stage_name_en` beside each
/// `stage_name`, `customer_stage_name_en` beside `customer_stage_name`): the gateway's JSON carries
/// both, and the portal shows the English one when switched to English, for an administrator's own
/// stage (``FlowFixtures/addTaxTriage(_:)``) as for the shipped ones.
@Suite("Gateway: stages named in English in the JSON (stage_name_en, customer_stage_name_en) and in the portal", .serialized)
struct StageEnglishNamesRouteTests {
    /// A deployment whose `padrao` flow has the administrator's Triagem fiscal (workflow restarted
    /// to read it), and a ticket of Maria's that Ana took (Em atendimento); its id.
    static func deployment(_ engine: DatabaseEngine) throws -> (SeededDeployment, String) {
        let seeded = try SeededDeployment(engine: engine)
        try FlowFixtures.addTaxTriage(try seeded.deployment.database(of: "workflow"))
        try seeded.deployment.restart("workflow")
        let ticket = try seeded.openTicket(subject: "Nova alíquota de ICMS", request: "A alíquota muda em janeiro.", module: "Fiscal")
        seeded.ok(try seeded.gateway.request("POST", "/v1/tickets/\(ticket)/take", json: [:], bearer: seeded.seeded.ana))
        return (seeded, ticket)
    }

    @Test("the JSON names the administrator's stage in English beside Portuguese: the moves offered, the move's answer, the team's view, queue and counts (Tax triage), the customer's list and view (In triage); a shipped stage in ShippedStageNames' words",
          arguments: TestEngines.all)
    func json(engine: DatabaseEngine) throws {
        let (seeded, ticket) = try Self.deployment(engine)
        let gateway = seeded.gateway, ana = seeded.seeded.ana, maria = seeded.seeded.maria
        let taken = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: ana).json["workflow"] as? [String: Any] ?? [:]
        let takenRow = taken["row"] as? [String: Any] ?? [:]
        #expect(takenRow["stage_name"] as? String == "Em atendimento" && takenRow["stage_name_en"] as? String == "In service", "\(taken)")
        let moves = try gateway.request("GET", "/v1/tickets/\(ticket)/moves", bearer: ana).json["moves"] as? [[String: Any]] ?? []
        let triage = moves.first { $0["to_stage"] as? String == "triagem_fiscal" }
        #expect(triage?["stage_name"] as? String == "Triagem fiscal" && triage?["stage_name_en"] as? String == "Tax triage", "\(moves)")

        let moved = try gateway.request("POST", "/v1/tickets/\(ticket)/move", json: ["to_stage": "triagem_fiscal"], bearer: ana)
        seeded.ok(moved)
        #expect((moved.json["row"] as? [String: Any])?["stage_name_en"] as? String == "Tax triage", "\(moved.text)")
        let view = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: ana).json["workflow"] as? [String: Any] ?? [:]
        let row = view["row"] as? [String: Any] ?? [:]
        #expect(row["stage_name"] as? String == "Triagem fiscal" && row["stage_name_en"] as? String == "Tax triage", "\(view)")
        #expect(view["customer_stage_name"] as? String == "Em triagem" && view["customer_stage_name_en"] as? String == "In triage", "\(view)")
        let queue = try gateway.request("GET", "/v1/tickets?stage=", bearer: ana).json["tickets"] as? [[String: Any]] ?? []
        #expect(queue.first { $0["ticket_id"] as? String == ticket }?["stage_name_en"] as? String == "Tax triage", "\(queue)")
        let counts = try gateway.request("GET", "/v1/tickets/counts", bearer: ana).json["counts"] as? [[String: Any]] ?? []
        #expect(counts.first { $0["stage"] as? String == "triagem_fiscal" }?["stage_name_en"] as? String == "Tax triage", "\(counts)")

        // The customer: their names of the stage.
        let own = try gateway.request("GET", "/v1/tickets", bearer: maria).json["tickets"] as? [[String: Any]] ?? []
        let ownRow = own.first { $0["ticket_id"] as? String == ticket }
        #expect(ownRow?["stage_name"] as? String == "Em triagem" && ownRow?["stage_name_en"] as? String == "In triage", "\(own)")
        let customerView = try gateway.request("GET", "/v1/tickets/\(ticket)", bearer: maria).json["workflow"] as? [String: Any] ?? [:]
        #expect(customerView["customer_stage_name_en"] as? String == "In triage", "\(customerView)")
    }

    @Test("in the browser: switched to English, Ana's move form offers Tax triage and the page then reads it (Triagem fiscal in Portuguese); Maria's list reads Em triagem, and In triage in English, as her ticket's page does")
    func portal() throws {
        try PortalBrowser.requireChromium()
        let (seeded, ticket) = try Self.deployment(.sqlite)
        let result = try PortalBrowser.run("stage_english_names.py", seeded.gateway, [ticket], environment: [
            "PORTAL_AGENT": "ana@suporte.example:\(seeded.seeded.password)", "PORTAL_CUSTOMER": "maria@acme.com.br:\(seeded.seeded.password)"])
        #expect(result.status == 0, Comment(rawValue: result.output + "\n" + result.error))
        #expect(result.output.hasPrefix("OK"))
    }
}
