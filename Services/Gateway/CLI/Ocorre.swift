import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayCore
import Messages
import RPC
import RPCTransport

/// The commands of `ocorre`. Global options: `--url` (`OCORRE_URL`, default
/// `http://127.0.0.1:8080`), `--rpc` (`OCORRE_RPC`, default `127.0.0.1:7190`), `--api-key`
/// (`OCORRE_API_KEY`), `--token` (`OCORRE_TOKEN`, else the one `login` saved), `--json`.
enum Ocorre {
    static let usage = """
    uso / usage: ocorre [--url URL] [--rpc HOST:PORT] [--api-key KEY] [--token TOKEN] [--json] COMMAND

      login --email EMAIL [--password-stdin]   entra e guarda um token / signs in and keeps a token
      logout                                   sai / signs out
      whoami                                   quem sou / who am I
      health                                   prontidão de cada serviço / readiness of every service
      methods [SERVICE]                        métodos RPC (reflexão) / RPC methods (reflection)
      call SERVICE/METHOD '{json}'             chama qualquer método / calls any method (gateway RPC port, API key);
                                               com streaming / streaming: '[{json}, ...]' ou / or - (JSON Lines na entrada / on stdin)
      tickets list [--stage S[,S]] [--priority P] [--category C] [--text T] [--product P] [--agent ID] [--group ID]
                   [--sla breached|at_risk|paused|on_track] [--mine] [--open-only] [--page-size N] [--cursor C]
              | show ID | open --subject S --description D --category C --priority P --product P [--module M] [--attach FILE]...
              | reply ID [--text T] [--attach FILE]... | move ID --stage S [--note T] [--public-note T]
              | take ID | read ID | history ID
              | transfer ID (--agent ID | --group ID) [--note T] | solve ID --text T | cancel ID --reason T
              | discuss ID --text T [--public] [--attach FILE]...
                                               entrada da equipe na discussão (interna sem --public) /
                                               staff's discussion entry (internal without --public)
                                               move --public-note: texto ao cliente (pedir informação, negar) /
                                               text for the customer (asking for information, a denial);
                                               read: mensagens do cliente lidas / customer's messages read
                                               --attach repete-se (ou FILE,FILE) / repeats (or FILE,FILE): arquivos pequenos
                                               vão na chamada, os maiores antes / small files go inside, larger ones first
      kb search TEXT                           busca na base de conhecimento / searches the knowledge base
      get PATH | post PATH '{json}'            qualquer rota HTTP / any HTTP route

    Tabelas e fichas em português; --lang en (ou OCORRE_LANG=en) em inglês; --json para scripts.
    Tables and ticket pages in Portuguese; --lang en (or OCORRE_LANG=en) for English; --json for scripts.
    """

    struct Options {
        var url = ProcessInfo.processInfo.environment["OCORRE_URL"] ?? "http://127.0.0.1:8080"
        var rpc = ProcessInfo.processInfo.environment["OCORRE_RPC"] ?? "127.0.0.1:7190"
        var apiKey = ProcessInfo.processInfo.environment["OCORRE_API_KEY"]
        var token = ProcessInfo.processInfo.environment["OCORRE_TOKEN"]
        var json = false
        var flags: [String: String] = [:]
        /// Every value of a flag given more than once (`--attach a --attach b`), in order.
        var lists: [String: [String]] = [:]
        var switches: Set<String> = []
        var positional: [String] = []
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        var status: Int32 = 1
    }

    static func main(_ arguments: [String]) -> Int32 {
        var options = Options()
        var index = 0
        let valueFlags: Set<String> = ["url", "rpc", "api-key", "token", "email", "state", "subject", "description", "category",
                                       "priority", "text", "stage", "service", "limit", "product", "module", "idempotency-key", "attach",
                                       "lang", "page-size", "cursor", "agent", "group", "note", "public-note", "reason", "sla"]
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--") {
                let name = String(argument.dropFirst(2))
                if valueFlags.contains(name) {
                    guard index + 1 < arguments.count else { return fail(Failure(description: "\(argument) precisa de um valor / needs a value", status: 2)) }
                    let value = arguments[index + 1]
                    switch name {
                    case "url": options.url = value
                    case "rpc": options.rpc = value
                    case "api-key": options.apiKey = value
                    case "token": options.token = value
                    default:
                        options.flags[name] = value
                        options.lists[name, default: []].append(value)
                    }
                    index += 2
                    continue
                }
                switch name {
                case "json": options.json = true
                case "password-stdin", "public", "mine", "open-only": options.switches.insert(name)
                case "help":
                    print(usage)
                    return 0
                default:
                    return fail(Failure(description: "opção desconhecida / unknown option \(argument)\n\(usage)", status: 2))
                }
                index += 1
                continue
            }
            options.positional.append(argument)
            index += 1
        }
        guard let command = options.positional.first else {
            print(usage)
            return 2
        }
        let rest = Array(options.positional.dropFirst())
        do {
            switch command {
            case "login": try login(options)
            case "logout": try logout(options)
            case "whoami": try show(try http(options, "GET", "/v1/me"), options)
            case "health": try health(options)
            case "methods": try methods(options, service: rest.first)
            case "call": try call(options, rest)
            case "tickets": try Tickets.run(options, rest)
            case "kb": try Tickets.knowledge(options, rest)
            case "get":
                guard let path = rest.first else { throw Failure(description: usage, status: 2) }
                try show(try http(options, "GET", path), options)
            case "post":
                guard let path = rest.first else { throw Failure(description: usage, status: 2) }
                try show(try http(options, "POST", path, body: try parseJSON(rest.count > 1 ? rest[1] : "{}")), options)
            case "help", "-h": print(usage)
            default: throw Failure(description: "comando desconhecido / unknown command \(command)\n\(usage)", status: 2)
            }
            return 0
        } catch {
            return fail(error)
        }
    }

    static func fail(_ error: any Error) -> Int32 {
        FileHandle.standardError.write(Data("ocorre: \(error)\n".utf8))
        return (error as? Failure)?.status ?? 1
    }

    // MARK: credentials

    static var configPath: String {
        if let path = ProcessInfo.processInfo.environment["OCORRE_CONFIG"] { return path }
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "."
        return "\(home)/.config/ocorre/config.json"
    }

    static func savedConfig() -> [String: String] {
        guard let data = FileManager.default.contents(atPath: configPath),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: String] else { return [:] }
        return object
    }

    static func login(_ options: Options) throws {
        guard let email = options.flags["email"] else { throw Failure(description: "--email é obrigatório / is required", status: 2) }
        var password: String
        if options.switches.contains("password-stdin") {
            password = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            FileHandle.standardError.write(Data("Senha / Password: ".utf8))
            password = readLine(strippingNewline: true) ?? ""
        }
        while password.hasSuffix("\n") || password.hasSuffix("\r") { password.removeLast() }
        let answer = try http(options, "POST", "/v1/auth/tokens", body: ["email": email, "password": password], authenticated: false)
        guard let token = answer["token"] as? String else { throw Failure(description: "resposta sem token / no token in the answer") }
        let path = configPath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let data = try JSONSerialization.data(withJSONObject: ["url": options.url, "token": token], options: [.sortedKeys])
        _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        if options.json { try show(["status": "signed_in", "user": answer["user"] ?? [:]], options) } else {
            let user = answer["user"] as? [String: Any] ?? [:]
            print("Entrou como / signed in as \(user["email"] ?? email) (\(user["role"] ?? "?"))")
        }
    }

    static func logout(_ options: Options) throws {
        _ = try? http(options, "POST", "/v1/auth/logout")
        try? FileManager.default.removeItem(atPath: configPath)
        if !options.json { print("Saiu / signed out") }
    }

    // MARK: HTTP

    /// Calls a route of the gateway with the saved token; non-2xx answers become failures with
    /// the API's message.
    /// - Parameter file: sent as the raw body, streamed from disk (an attachment upload).
    static func http(_ options: Options, _ method: String, _ path: String, body: Any? = nil, file: URL? = nil,
                     authenticated: Bool = true) throws -> [String: Any] {
        let saved = savedConfig()
        let base = options.url == "http://127.0.0.1:8080" ? (saved["url"] ?? options.url) : options.url
        guard let url = URL(string: base + path) else { throw Failure(description: "URL inválida / invalid URL \(base + path)", status: 2) }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if authenticated, let token = options.token ?? options.apiKey ?? saved["token"] {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if method == "POST" { request.setValue(UUID().uuidString, forHTTPHeaderField: "Idempotency-Key") }
        let box = ResultBox()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpShouldSetCookies = false
        let session = URLSession(configuration: configuration)
        if let file {
            request.setValue("application/octet-stream", forHTTPHeaderField: "Content-Type")
            request.timeoutInterval = 900
            session.uploadTask(with: request, fromFile: file) { data, response, error in
                box.set(data, response as? HTTPURLResponse, error)
            }.resume()
        } else {
            session.dataTask(with: request) { data, response, error in
                box.set(data, response as? HTTPURLResponse, error)
            }.resume()
        }
        let (data, response, error) = box.wait()
        session.finishTasksAndInvalidate()
        if let error { throw Failure(description: "não foi possível falar com o gateway / cannot reach the gateway: \(error.localizedDescription)") }
        guard let response else { throw Failure(description: "sem resposta / no answer") }
        let object: [String: Any]
        if let data, !data.isEmpty {
            if let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                object = parsed
            } else {
                object = ["text": String(decoding: data, as: UTF8.self)]
            }
        } else {
            object = [:]
        }
        guard (200..<300).contains(response.statusCode) else {
            let error = object["error"] as? [String: Any] ?? [:]
            var text = "\(response.statusCode) \(error["code"] ?? ""): \(error["message"] ?? "") / \(error["message_en"] ?? "")"
            for detail in error["details"] as? [[String: Any]] ?? [] {
                text += "\n  - \(detail["field"] ?? ""): \(detail["message"] ?? detail["reason"] ?? "")"
            }
            if response.statusCode == 401 && authenticated {
                // An expired or revoked token (bearer tokens last GATEWAY_TOKEN_SECONDS, 30 days).
                text += "\n  entre de novo / sign in again: ocorre login --email EMAIL"
            }
            throw Failure(description: text)
        }
        return object
    }

    final class ResultBox: @unchecked Sendable {
        private let condition = NSCondition()
        private var done = false
        private var data: Data?
        private var response: HTTPURLResponse?
        private var error: (any Error)?

        func set(_ data: Data?, _ response: HTTPURLResponse?, _ error: (any Error)?) {
            condition.lock()
            (self.data, self.response, self.error, done) = (data, response, error, true)
            condition.broadcast()
            condition.unlock()
        }

        func wait() -> (Data?, HTTPURLResponse?, (any Error)?) {
            condition.lock()
            while !done { condition.wait() }
            defer { condition.unlock() }
            return (data, response, error)
        }
    }

    static func parseJSON(_ text: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw Failure(description: "JSON inválido / invalid JSON: \(text)", status: 2)
        }
        return object
    }

    // MARK: output

    static func show(_ object: Any, _ options: Options) throws {
        if options.json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if let dictionary = object as? [String: Any] {
            // A list inside an object prints as a table; anything else as key: value lines.
            if dictionary.count <= 2, let (key, list) = dictionary.first(where: { $0.value is [[String: Any]] }), let rows = list as? [[String: Any]] {
                print(table(rows))
                _ = key
                return
            }
            for key in dictionary.keys.sorted() { print("\(key): \(flat(dictionary[key]!))") }
        } else if let rows = object as? [[String: Any]] {
            print(table(rows))
        } else {
            print(flat(object))
        }
    }

    static func flat(_ value: Any) -> String {
        if let text = value as? String { return text }
        if let dictionary = value as? [String: Any] {
            return dictionary.keys.sorted().map { "\($0)=\(flat(dictionary[$0]!))" }.joined(separator: " ")
        }
        if let array = value as? [Any] { return array.map(flat).joined(separator: ", ") }
        return "\(value)"
    }

    /// A plain-text table with the union of the rows' keys as columns.
    static func table(_ rows: [[String: Any]], columns preferred: [String]? = nil) -> String {
        var columns = preferred ?? []
        if preferred == nil {
            for row in rows { for key in row.keys.sorted() where !columns.contains(key) { columns.append(key) } }
        }
        return table(headers: columns.map { $0.uppercased() }, rows: rows.map { row in columns.map { flat(row[$0] ?? "") } })
    }

    /// A plain-text table: each cell on one line and cut at 60 characters, columns as wide as
    /// their widest cell.
    static func table(headers: [String], rows: [[String]], empty: String = "(nenhum / none)") -> String {
        guard !rows.isEmpty else { return empty }
        let cells = rows.map { row in row.map { cell in
            let line = cell.replacingOccurrences(of: "\n", with: " ")
            return line.count > 60 ? String(line.prefix(59)) + "…" : line
        } }
        let widths = headers.indices.map { i in max(headers[i].count, cells.map { $0[i].count }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line)).joined(separator: "\n")
    }

    // MARK: health

    static func health(_ options: Options) throws {
        let saved = savedConfig()
        let base = options.url == "http://127.0.0.1:8080" ? (saved["url"] ?? options.url) : options.url
        guard let url = URL(string: base + "/readyz") else { throw Failure(description: "URL inválida / invalid URL", status: 2) }
        let box = ResultBox()
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: URLRequest(url: url, timeoutInterval: 10)) { data, response, error in
            box.set(data, response as? HTTPURLResponse, error)
        }.resume()
        let (data, response, error) = box.wait()
        session.finishTasksAndInvalidate()
        if let error { throw Failure(description: "gateway inacessível / gateway unreachable: \(error.localizedDescription)") }
        let object = (data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) ?? [:]
        if options.json {
            try show(object, options)
        } else {
            let services = object["services"] as? [String: [String: Any]] ?? [:]
            let rows = services.keys.sorted().map { name -> [String: Any] in
                ["service": name, "status": services[name]?["status"] ?? "?", "detail": services[name]?["detail"] ?? ""]
            }
            print(table(rows, columns: ["service", "status", "detail"]))
            print("\n\(object["status"] as? String == "ready" ? "pronto / ready" : "NÃO pronto / NOT ready")")
        }
        if response?.statusCode != 200 { throw Failure(description: "nem todos os serviços estão prontos / not every service is ready", status: 3) }
    }
}

extension String {
    /// The text without the spaces at its end (a table's last column is not padded).
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
