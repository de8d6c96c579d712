import Foundation
import Storage
import Testing
import TestSupport

/// The gateway in front of two instances of intake and of workflow (issue 8: "the gateway and every
/// client spread calls over the instances and stop calling one that is down").
@Suite("Production: the gateway over two instances of intake and workflow", .serialized)
struct GatewayScaleOutTests {
    @Test("HTTP calls spread over both instances of each service, and every call still succeeds after one instance of each is killed")
    func spreadsAndSurvivesALostInstance() throws {
        guard PostgresTestServer.isEnabled else { return }
        let cluster = try Cluster(engine: .postgres, instances: ["intake": 2, "workflow": 2])
        defer { cluster.stop() }
        let gateway = try GatewayProcess(cluster: cluster)
        defer { gateway.process.stop() }
        let admin = try gateway.adminToken()

        let created = try gateway.request("POST", "/v1/organizations", json: ["name": "Distribuidora Norte", "tax_id": cpf(999), "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin)
        #expect(created.status == 201, "\(created.text)")
        let organization = try #require(created.json["id"] as? String)

        /// One intake read, one workflow read and one intake write; returns the statuses.
        func round(_ index: Int) throws -> [Int] {
            [try gateway.request("GET", "/v1/organizations/\(organization)", bearer: admin).status,
             try gateway.request("GET", "/v1/tickets", bearer: admin).status,
             try gateway.request("POST", "/v1/organizations", json: ["name": "Cliente \(index)", "tax_id": cpf(index), "kind": "ORGANIZATION_CUSTOMER", "active": true], bearer: admin).status]
        }
        let before = try (0..<20).flatMap { try round($0) }
        #expect(before.allSatisfy { (200..<300).contains($0) }, "\(before)")
        for service in ["intake", "workflow"] {
            let calls = (0..<2).map { cluster.log(service, $0).components(separatedBy: "ocorrencias.\(service).v1.").count - 1 }
            #expect(calls.allSatisfy { $0 >= 5 }, "calls per \(service) instance: \(calls)")
        }

        cluster.kill("intake", 1)
        cluster.kill("workflow", 1)
        // The killed processes have exited (kill waits), but the gateway's connections to them
        // learn it only when their reader threads see the end of the stream: a write sent on one
        // before that is ambiguous (it may have reached the instance) and is not retried, so the
        // next round could fail for a reason this test is not about. A reader that sees the end
        // marks its connection unusable, then shuts its socket down: wait until none of the
        // gateway's sockets to the killed instances is still established or half-closed.
        let killed = [cluster.ports["intake"]![1], cluster.ports["workflow"]![1]]
        var open: [String] = []
        #expect(waitFor(20) {
            open = TCPSockets.connected(process: gateway.process.process.processIdentifier, toPorts: killed, states: ["01", "08"])
            return open.isEmpty
        }, "the gateway's connections to the killed instances still open: \(open)")
        let after = try (20..<60).flatMap { try round($0) }
        #expect(after.allSatisfy { (200..<300).contains($0) }, "statuses after losing one instance of each: \(after)")

        // Every acknowledged organization is stored exactly once in intake's one database.
        let database = try openDatabase(DatabaseConfiguration(url: cluster.databases["intake"]!, sqlitePath: "", poolSize: 1), migrations: [])
        let stored = try database.read { try $0.scalar("SELECT count(*) FROM organizations WHERE name LIKE 'Cliente %'") }
        #expect(stored == .integer(60), "organizations stored: \(stored)")
    }
}

/// A valid CPF (check digits computed) built from `seed`, for organizations that need a tax id.
func cpf(_ seed: Int) -> String {
    var digits = String(format: "%09d", 100_000_000 + seed).compactMap { $0.wholeNumberValue }
    for length in [9, 10] {
        let sum = (0..<length).reduce(0) { $0 + digits[$1] * (length + 1 - $1) }
        let rest = sum % 11
        digits.append(rest < 2 ? 0 : 11 - rest)
    }
    return digits.map(String.init).joined()
}

/// A real `gateway` executable wired to a ``Cluster``'s instances, with an administrator.
final class GatewayProcess: @unchecked Sendable {
    let process: ServiceProcess
    let httpPort: Int
    static let adminEmail = "admin@example.com"
    static let adminPassword = "Adm1n-Passw0rd!"

    init(cluster: Cluster) throws {
        httpPort = try FreePort.next()
        var environment = [
            "OCORRENCIAS_DATA_DIR": "\(cluster.directory.path)/gateway", "OCORRENCIAS_SECRET": cluster.secret,
            "GATEWAY_HTTP_PORT": String(httpPort), "GATEWAY_RPC_PROXY_PORT": String(try FreePort.next()),
            "GATEWAY_COOKIE_SECURE": "0", "GATEWAY_PWHASH": "minimal",
        ]
        for service in Cluster.services {
            environment["\(service.uppercased())_ADDRESSES"] = cluster.ports[service]!.map { "127.0.0.1:\($0)" }.joined(separator: ",")
        }
        let setUp = try ChildProcess.run(BuildProducts.executable("gateway").path,
                                         ["create-admin", "--email", Self.adminEmail, "--password-stdin", "--name", "Ana Admin"],
                                         environment: ChildProcess.inheritedEnvironment(adding: environment),
                                         input: .bytes(Array((Self.adminPassword + "\n").utf8)), output: .null)
        guard setUp.status == 0 else { throw TestSupportError("gateway create-admin failed: \(setUp.errorText)") }
        process = try ServiceProcess(name: "gateway", environment: environment)
    }

    struct Response {
        var status: Int
        var body: Data
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Sends one request with curl; the status comes from `--write-out`.
    func request(_ method: String, _ path: String, json: Any? = nil, bearer: String? = nil) throws -> Response {
        var arguments = ["-s", "-X", method, "--max-time", "20", "-w", "\n%{http_code}", "http://127.0.0.1:\(httpPort)\(path)"]
        if let bearer { arguments += ["-H", "Authorization: Bearer \(bearer)"] }
        var input = Data()
        if let json {
            input = try JSONSerialization.data(withJSONObject: json)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        }
        let raw = try ChildProcess.run("/usr/bin/curl", arguments, input: .bytes(Array(input))).output
        let text = String(decoding: raw, as: UTF8.self)
        let split = text.range(of: "\n", options: .backwards)
        let status = Int(split.map { String(text[$0.upperBound...]) } ?? "") ?? 0
        let body = split.map { String(text[..<$0.lowerBound]) } ?? text
        return Response(status: status, body: Data(body.utf8))
    }

    func adminToken() throws -> String {
        let response = try request("POST", "/v1/auth/tokens", json: ["email": Self.adminEmail, "password": Self.adminPassword])
        guard response.status == 201, let token = response.json["token"] as? String else {
            throw TestSupportError("no token: \(response.status) \(response.text)")
        }
        return token
    }
}
