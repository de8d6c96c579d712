import Foundation
import Storage
import Testing
import TestSupport

/// A real `gateway` executable on loopback ports chosen by the OS, with its credentials on
/// SQLite or PostgreSQL, and a curl-based HTTP client that checks every answer against
/// docs/openapi.yaml.
final class GatewayHarness: @unchecked Sendable {
    let directory: TemporaryDirectory
    let process: ServiceProcess
    let httpPort: Int
    let proxyPort: Int
    let environment: [String: String]
    let secret: String
    static let adminEmail = "admin@example.com"
    static let adminPassword = "Adm1n-Passw0rd!"

    /// - Parameter createAdmin: create the first administrator (off for a second gateway on a
    ///   database that already has one).
    init(engine: DatabaseEngine, extra: [String: String] = [:], createAdmin: Bool = true) throws {
        directory = try TemporaryDirectory()
        httpPort = try FreePort.next()
        proxyPort = try FreePort.next()
        secret = "gateway-test-secret-\(UUID().uuidString)"
        var environment = [
            "OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret, "OCORRENCIAS_LOG_LEVEL": "notice",
            "GATEWAY_HTTP_PORT": String(httpPort), "GATEWAY_RPC_PROXY_PORT": String(proxyPort),
            "GATEWAY_COOKIE_SECURE": "0", "GATEWAY_PWHASH": "minimal", "GATEWAY_EXPOSE_TOKENS": "1",
            "GATEWAY_HTTP_THREADS": "4",
        ]
        if engine == .postgres {
            environment["GATEWAY_DATABASE_URL"] = try ScratchDatabase(.postgres).configuration.url
        }
        for (k, v) in extra { environment[k] = v }
        self.environment = environment
        if createAdmin {
            let status = try Self.run(BuildProducts.executable("gateway"), ["create-admin", "--email", Self.adminEmail, "--password-stdin", "--name", "Ana Admin"],
                                      environment: environment, input: Self.adminPassword + "\n").status
            #expect(status == 0)
        }
        process = try ServiceProcess(name: "gateway", environment: environment)
    }

    deinit { process.stop() }

    /// Runs a program to completion with `environment` added to this process's.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String], input: String = "") throws -> (status: Int32, output: String, error: String) {
        let run = try ChildProcess.run(executable.path, arguments, environment: ChildProcess.inheritedEnvironment(adding: environment),
                                       input: .bytes(Array(input.utf8)))
        return (run.status, run.outputText, run.errorText)
    }

    // MARK: HTTP

    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: Data

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func headers(_ name: String) -> [String] { headers.filter { $0.0.lowercased() == name.lowercased() }.map(\.1) }
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var text: String { String(decoding: body, as: UTF8.self) }

        /// The value of a cookie set by this response.
        func cookie(_ name: String) -> String? {
            for header in headers("set-cookie") where header.hasPrefix(name + "=") {
                return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
            }
            return nil
        }
    }

    /// Sends a request with curl; the answer's status must be declared in docs/openapi.yaml for
    /// the route (unless `conform` is false).
    @discardableResult
    func request(_ method: String, _ path: String, json: Any? = nil, body: Data? = nil, headers: [String: String] = [:],
                 bearer: String? = nil, conform: Bool = true, maxSeconds: Int = 20,
                 sourceLocation: SourceLocation = #_sourceLocation) throws -> Response {
        var arguments = ["-s", "-i", "-X", method, "--max-time", String(maxSeconds), "http://127.0.0.1:\(httpPort)\(path)"]
        var headers = headers
        if let bearer { headers["Authorization"] = "Bearer \(bearer)" }
        var input = Data()
        if let json {
            input = try JSONSerialization.data(withJSONObject: json)
            headers["Content-Type"] = "application/json"
        } else if let body {
            input = body
        }
        if !input.isEmpty || method == "POST" { arguments += ["--data-binary", "@-"] }
        if headers["Expect"] == nil { headers["Expect"] = "" }  // curl's own 100-continue wait only when asked for
        for (k, v) in headers { arguments += ["-H", "\(k): \(v)"] }
        let response = try Self.curl(arguments, input: input)
        if conform {
            let problem = OpenAPISpec.shared.check(method: method, path: path, status: response.status)
            #expect(problem == nil, "\(problem ?? "")", sourceLocation: sourceLocation)
        }
        return response
    }

    static func curl(_ arguments: [String], input: Data) throws -> Response {
        let curl = try ChildProcess.run("/usr/bin/curl", arguments, input: .bytes(Array(input)), error: .null)
        return parse(Data(curl.output))
    }

    static func parse(_ raw: Data) -> Response {
        var data = raw
        while true {
            guard let range = data.range(of: Data("\r\n\r\n".utf8)) else { return Response(status: 0, headers: [], body: data) }
            let head = String(decoding: data[data.startIndex..<range.lowerBound], as: UTF8.self)
            let rest = data[range.upperBound...]
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst()
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
            if status == 100 { data = Data(rest); continue }
            let headers = lines.compactMap { line -> (String, String)? in
                guard let colon = line.firstIndex(of: ":") else { return nil }
                return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
            }
            return Response(status: status, headers: headers, body: Data(rest))
        }
    }

    // MARK: sign-in helpers

    /// A portal session: the cookies to send and the CSRF token.
    struct Session {
        var cookie: String
        var csrf: String
        var headers: [String: String] { ["Cookie": cookie, "X-CSRF-Token": csrf] }
        var cookieOnly: [String: String] { ["Cookie": cookie] }
    }

    func login(_ email: String, _ password: String) throws -> Session {
        let response = try request("POST", "/v1/auth/login", json: ["email": email, "password": password])
        #expect(response.status == 200, "\(response.text)")
        let session = try #require(response.cookie("ocorrencias_session"))
        let csrf = try #require(response.cookie("ocorrencias_csrf"))
        #expect(response.json["csrf_token"] as? String == csrf)
        return Session(cookie: "ocorrencias_session=\(session); ocorrencias_csrf=\(csrf)", csrf: csrf)
    }

    func token(_ email: String, _ password: String) throws -> String {
        let response = try request("POST", "/v1/auth/tokens", json: ["email": email, "password": password])
        #expect(response.status == 201, "\(response.text)")
        return try #require(response.json["token"] as? String)
    }

    func adminToken() throws -> String { try token(Self.adminEmail, Self.adminPassword) }

    /// Creates a user as the administrator and returns its bearer token.
    @discardableResult
    func createUser(admin: String, email: String, role: String, password: String = "Us3r-Passw0rd!x", organization: String? = nil,
                    contact: String? = nil, agent: String? = nil, accessLevel: Int = 0) throws -> String {
        var body: [String: Any] = ["email": email, "display_name": email, "role": role, "password": password, "access_level": accessLevel]
        if let organization { body["organization_id"] = organization }
        if let contact { body["contact_id"] = contact }
        if let agent { body["agent_id"] = agent }
        let created = try request("POST", "/v1/users", json: body, bearer: admin)
        #expect(created.status == 201, "\(created.text)")
        return try token(email, password)
    }

    /// A customer of another company, signed in: its organization (`organization`, or a new
    /// one named "Outra") and an authorized contact with the e-mail are made in intake first,
    /// since a customer login is one of intake's active contacts (needs a deployment with intake).
    func createOutsider(admin: String, email: String, role: String = "customer_contact",
                        organization: String? = nil) throws -> (token: String, organizationID: String) {
        var organizationID = organization ?? ""
        if organization == nil {
            let created = try request("POST", "/v1/organizations", json: ["name": "Outra", "tax_id": "11444777000161", "kind": "ORGANIZATION_CUSTOMER", "active": true],
                                      bearer: admin)
            #expect(created.status == 201, "\(created.text)")
            organizationID = try #require(created.json["id"] as? String, "\(created.text)")
        }
        let contact = try request("POST", "/v1/organizations/\(organizationID)/contacts",
                                  json: ["name": email, "email": email, "authorized": true, "admin": role == "customer_admin"], bearer: admin)
        #expect(contact.status == 201, "\(contact.text)")
        let token = try createUser(admin: admin, email: email, role: role, organization: organizationID,
                                   contact: try #require(contact.json["id"] as? String, "\(contact.text)"))
        return (token, organizationID)
    }
}

/// The paths, methods and statuses declared in docs/openapi.yaml (read by indentation: the
/// document is written in the block style this reader expects).
struct OpenAPISpec: Sendable {
    /// `GET /v1/users/{id}` → declared statuses.
    var operations: [String: Set<Int>] = [:]
    var templates: [String] = []

    static let shared = try! OpenAPISpec(path: OpenAPISpec.documentPath)

    static var documentPath: String {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("docs/openapi.yaml").path
    }

    init(path: String) throws {
        try self.init(text: String(contentsOfFile: path, encoding: .utf8))
    }

    init(text: String) {
        var inPaths = false
        var path: String?
        var method: String?
        var inResponses = false
        for line in text.components(separatedBy: "\n") {
            let indent = line.prefix { $0 == " " }.count
            let content = line.trimmingCharacters(in: .whitespaces)
            if content.isEmpty || content.hasPrefix("#") { continue }
            if indent == 0 { inPaths = content == "paths:"; continue }
            guard inPaths else { continue }
            if indent == 2, content.hasPrefix("/"), content.hasSuffix(":") {
                path = String(content.dropLast())
                templates.append(path!)
                method = nil
            } else if indent == 4, ["get:", "post:", "put:", "patch:", "delete:"].contains(content) {
                method = content.dropLast().uppercased()
                inResponses = false
                operations["\(method!) \(path!)"] = []
            } else if indent == 6 {
                inResponses = content == "responses:"
            } else if indent == 8, inResponses, let method, let path {
                let code = content.replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "\"", with: "").dropLast()
                if let status = Int(code) { operations["\(method) \(path)", default: []].insert(status) }
            }
        }
    }

    /// The template a concrete path matches: among those matching (with `method`, when given),
    /// the one with the most literal segments (`/presets` before `/{id}`), as the router does.
    func template(for path: String, method: String? = nil) -> String? {
        let parts = path.split(separator: "?").first.map { $0.split(separator: "/") } ?? []
        let matching = templates.filter { template in
            let segments = template.split(separator: "/")
            guard segments.count == parts.count else { return false }
            return zip(segments, parts).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
        }
        let literals = { (template: String) in template.split(separator: "/").filter { !$0.hasPrefix("{") }.count }
        let withMethod = matching.filter { method == nil || operations["\(method!) \($0)"] != nil }
        return (withMethod.isEmpty ? matching : withMethod).max { literals($0) < literals($1) }
    }

    /// A description of the problem, or nil when the answer is declared.
    func check(method: String, path: String, status: Int) -> String? {
        guard let template = template(for: path, method: method) else { return "\(path) is not in docs/openapi.yaml" }
        guard let statuses = operations["\(method) \(template)"] else { return "\(method) \(template) is not in docs/openapi.yaml" }
        return statuses.contains(status) ? nil : "\(method) \(template) answered \(status), not declared in docs/openapi.yaml"
    }
}
