import Foundation
import Messages
import RPC
import RPCTransport
import Testing
import TestSupport

/// What callers are told while a service is down: HTTP 503 and the RPC port's UNAVAILABLE name
/// the service (not the internal address the gateway failed to reach, which went to clients
/// before), the gateway's log keeps the transport's text with the request id, and `ocorre call`
/// says the service is unavailable instead of "method not found".
@Suite("A stopped service, as clients see it", .serialized)
struct ServiceDownAnswersTests {
    @Test("HTTP 503 and the RPC port's UNAVAILABLE name the service, not its address; ocorre call says it is unavailable, not that the method is unknown")
    func stoppedIntake() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let config = gateway.directory.path + "/ocorre.json"
        let key = try CLITests.adminKey(deployment, config: config)
        let intake = try #require(deployment.services.first { $0.name == "intake" })
        let address = "127.0.0.1:\(intake.port)"
        intake.stop(signal: SIGKILL)

        let answer = try gateway.request("GET", "/v1/customers?q=Acme", headers: ["X-Request-Id": "down-1"], bearer: key)
        #expect(answer.status == 503, "\(answer.text)")
        let error = try #require(answer.json["error"] as? [String: Any])
        #expect(error["code"] as? String == "UNAVAILABLE")
        #expect(error["message"] as? String == "serviço intake indisponível no momento; tente de novo em instantes", "\(answer.text)")
        #expect(error["message_en"] as? String == "the intake service is unavailable right now; try again shortly")
        #expect(!answer.text.contains(address))
        #expect(answer.header("Retry-After") == "1")
        #expect(gateway.process.waitForOutput(containing: "\"request.id\":\"down-1\"", timeout: 20) && gateway.process.log.contains(address),
                "the log keeps the cause")

        let client = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { client.close() }
        var lookup = IntakeV1.LookupCustomersRequest()
        lookup.query = "Acme"
        let failure = #expect(throws: RPCError.self) { try client.call(IntakeV1.Intake.lookupCustomers, lookup) }
        #expect(failure?.code == .unavailable && failure?.message.contains("intake") == true && failure?.message.contains(address) == false,
                "\(String(describing: failure))")

        let call = try CLITests.ocorre(["call", "intake/LookupCustomers", #"{"query": "Acme"}"#], deployment, config: config,
                                       extra: ["OCORRE_API_KEY": key])
        #expect(call.status != 0 && call.error.contains("UNAVAILABLE") && !call.error.contains("method not found"), "\(call.error)")
        let unknown = try CLITests.ocorre(["call", "nosuch/Method", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(unknown.status != 0 && unknown.error.contains("unknown service nosuch"), "\(unknown.error)")
        // A service that answers still gets "method not found" with its methods.
        let typo = try CLITests.ocorre(["call", "workflow/ListQueu", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(typo.status == 2 && typo.error.contains("method not found") && typo.error.contains("/ocorrencias.workflow.v1.Workflow/ListQueue"),
                "\(typo.error)")
    }
}
