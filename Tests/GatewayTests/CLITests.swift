import Foundation
import Testing
import TestSupport

@Suite("ocorre, the command line", .serialized)
struct CLITests {
    static func ocorre(_ arguments: [String], _ deployment: ProxyTests.Deployment, config: String, input: String = "",
                       extra: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        var environment = ["OCORRE_URL": "http://127.0.0.1:\(deployment.gateway.httpPort)", "OCORRE_RPC": "127.0.0.1:\(deployment.gateway.proxyPort)",
                           "OCORRE_CONFIG": config]
        for (k, v) in extra { environment[k] = v }
        return try GatewayHarness.run(BuildProducts.executable("ocorre"), arguments, environment: environment, input: input)
    }

    @Test("login, whoami, health as a table and as JSON, methods and call through reflection with an API key")
    func commands() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre.json"
        let login = try Self.ocorre(["login", "--email", GatewayHarness.adminEmail, "--password-stdin"], deployment, config: config,
                                    input: GatewayHarness.adminPassword + "\n")
        #expect(login.status == 0, "\(login.error)")
        #expect(login.output.contains("administrator"))
        let whoami = try Self.ocorre(["whoami", "--json"], deployment, config: config)
        let me = try JSONSerialization.jsonObject(with: Data(whoami.output.utf8)) as? [String: Any]
        #expect((me?["user"] as? [String: Any])?["email"] as? String == GatewayHarness.adminEmail)

        let health = try Self.ocorre(["health"], deployment, config: config)
        #expect(health.status == 0, "\(health.error)")
        #expect(health.output.contains("SERVICE") && health.output.contains("intake") && health.output.contains("SERVING"))
        let healthJSON = try Self.ocorre(["health", "--json"], deployment, config: config)
        #expect(((try JSONSerialization.jsonObject(with: Data(healthJSON.output.utf8)) as? [String: Any])?["status"] as? String) == "ready")

        // An API key for the RPC port, created with the CLI's generic POST.
        let created = try Self.ocorre(["post", "/v1/api-keys", #"{"name": "cli", "role": "administrator"}"#, "--json"], deployment, config: config)
        #expect(created.status == 0, "\(created.error)")
        let key = try #require((try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: Any])?["key"] as? String)

        let methods = try Self.ocorre(["methods", "intake"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(methods.status == 0, "\(methods.error)")
        #expect(methods.output.contains("/ocorrencias.rpc.v1.Health/Check"))
        let echo = try Self.ocorre(["call", "knowledge/Echo", #"{"payload": "b2zDoQ=="}"#, "--json"], deployment, config: config,
                                   extra: ["OCORRE_API_KEY": key])
        #expect(echo.status == 0, "\(echo.error)")
        #expect(((try? JSONSerialization.jsonObject(with: Data(echo.output.utf8))) as? [String: Any])?["payload"] as? String == "b2zDoQ==")
        let check = try Self.ocorre(["call", "workflow/Check", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(check.output.contains("status: SERVING"), "\(check.output) \(check.error)")
        let unknownField = try Self.ocorre(["call", "knowledge/Echo", #"{"nope": 1}"#], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(unknownField.status != 0)
        #expect(unknownField.error.contains("unknown field nope"))
        // A mistyped option is an error with the usage, not silently ignored.
        let typo = try Self.ocorre(["tickets", "open", "--subject", "S", "--atach", "a.png"], deployment, config: config)
        #expect(typo.status == 2 && typo.error.contains("--atach"), "\(typo.error)")
        let badKey = try Self.ocorre(["methods"], deployment, config: config, extra: ["OCORRE_API_KEY": "ocr_x_y"])
        #expect(badKey.status != 0)
        #expect(try Self.ocorre(["logout"], deployment, config: config).status == 0)
        #expect(try Self.ocorre(["whoami"], deployment, config: config).status != 0)
    }
}
