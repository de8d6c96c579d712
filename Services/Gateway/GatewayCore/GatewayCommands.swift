import Foundation
import ServiceKit
import Storage

/// Administrative commands of the `gateway` executable, run instead of the server.
///
/// ```sh
/// printf '%s' "$PASSWORD" | gateway create-admin --email admin@example.com --password-stdin [--name "Admin"] [--data-dir DIR]
/// ```
/// The database is the one the server uses (`GATEWAY_DATABASE_URL`, else `<data-dir>/gateway.sqlite`).
public enum GatewayCommands {
    /// Runs the command named by `arguments[1]` and returns its exit status; `nil` when the
    /// arguments do not name a command (start the server).
    public static func run(arguments: [String] = CommandLine.arguments,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           standardInput: FileHandle = .standardInput) -> Int32? {
        if arguments.count >= 2, arguments[1] == "routes" {
            printRoutes()
            return 0
        }
        guard arguments.count >= 2, arguments[1] == "create-admin" else { return nil }
        do {
            try createAdmin(Array(arguments.dropFirst(2)), environment: environment, standardInput: standardInput)
            return 0
        } catch let error as APIError {
            let details = error.details.map { "  - \($0.field): \($0.messagePT ?? $0.reason)" }.joined(separator: "\n")
            FileHandle.standardError.write(Data("gateway create-admin: \(error.messagePT) / \(error.messageEN)\n\(details)\n".utf8))
            return 1
        } catch {
            FileHandle.standardError.write(Data("gateway create-admin: \(error)\n".utf8))
            return 2
        }
    }

    /// `gateway routes`: every route as JSON, with the RPC each plain binding calls (to compare
    /// with `docs/openapi.yaml`, or to start a new route's entry from).
    static func printRoutes() {
        let routes = Gateway.makeRouter().routes.map { route -> [String: Any] in
            var item: [String: Any] = ["method": route.method, "template": route.template,
                                       "authenticated": route.access == .authenticated]
            if route.method == "POST" {
                // Whether a retry with the same Idempotency-Key gets the first answer (docs/GATEWAY.md).
                item["idempotency"] = IdempotencyCoverage.enforced[route.name].map { "enforced by \($0)" }
                    ?? IdempotencyCoverage.exclusions[route.name].map { "excluded: \($0)" } ?? "unknown"
            }
            if let binding = route.binding {
                item["service"] = binding.service
                item["rpc"] = binding.methodPath
                item["request_type"] = binding.requestType
                item["response_type"] = binding.responseType
                item["status"] = binding.status
                item["reads_body"] = binding.readsBody
                item["query"] = binding.query.keys.sorted()
            }
            return item
        }
        let data = (try? JSONSerialization.data(withJSONObject: routes, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    }

    static func createAdmin(_ arguments: [String], environment: [String: String], standardInput: FileHandle) throws {
        var flags: [String: String] = [:]
        var passwordFromStdin = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--password-stdin" {
                passwordFromStdin = true
                index += 1
            } else if argument.hasPrefix("--"), index + 1 < arguments.count {
                let name = String(argument.dropFirst(2))
                // A mistyped flag (`--agentid`) used to be ignored: an administrator without
                // the agent link asked for.
                guard ["email", "name", "agent-id", "data-dir"].contains(name) else {
                    throw ConfigurationError("unknown flag \(argument) (create-admin --email E --password-stdin [--name N] [--agent-id ID] [--data-dir D])")
                }
                flags[name] = arguments[index + 1]
                index += 2
            } else {
                throw ConfigurationError("unexpected argument \(argument)")
            }
        }
        guard let email = flags["email"] else { throw ConfigurationError("--email is required") }
        try SignInAddress.check(email)
        guard passwordFromStdin else { throw ConfigurationError("--password-stdin is required (the password is read from standard input)") }
        // On a terminal: a prompt, the typing hidden, one line; else the whole input.
        let password = PasswordPrompt.read(input: standardInput)
        try PasswordPolicy().check(password, email: email)
        let dataDirectory = flags["data-dir"] ?? environment["OCORRENCIAS_DATA_DIR"] ?? "./data"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let database = try openDatabase(.fromEnvironment(service: "gateway", dataDirectory: dataDirectory, environment: environment),
                                        migrations: GatewayService.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database)
        let user = try store.createUser(email: email, displayName: flags["name"] ?? "Administrador", role: .administrator,
                                        agentID: flags["agent-id"], accessLevel: Int(Int32.max),
                                        passwordHash: try PasswordHasher(environment: environment).hash(password))
        print("administrador criado / administrator created: \(user.id) \(user.email)")
    }
}
