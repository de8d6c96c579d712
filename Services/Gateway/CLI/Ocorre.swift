import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import GatewayCore
import Messages
import RPC
import RPCTransport

/// The commands of `ocorre`. Global options: `--url` (`OCORRE_URL`, default
/// `http://127.0.0.1:8080`), `--rpc` (`OCORRE_RPC`, default the gateway's host on port 7190), `--api-key`
/// (`OCORRE_API_KEY`), `--token` (`OCORRE_TOKEN`, else the one `login` saved), `--json`.
enum Ocorre {
    static let usage = """
    uso / usage: ocorre [--url URL] [--rpc HOST:PORT] [--api-key KEY] [--token TOKEN] [--lang pt|en] [--json] COMMAND

      --url: o gateway / the gateway (OCORRE_URL; senão o do login / else the login's; senão / else http://127.0.0.1:8080)
      --rpc: a porta RPC do gateway / the gateway's RPC port (OCORRE_RPC; senão o host de --url na porta 7190 /
             else --url's host on port 7190)

      login --email EMAIL [--password-stdin]   entra e guarda um token / signs in and keeps a token
      logout [--everywhere]                    sai (de todos os dispositivos) / signs out (everywhere)
      whoami                                   quem sou / who am I
      health                                   prontidão de cada serviço / readiness of every service
      methods [SERVICE]                        métodos RPC (reflexão) / RPC methods (reflection)
      describe SERVICE/METHOD | MESSAGE        campos da requisição e da resposta / the request's and answer's fields
      call SERVICE/METHOD '{json}'             chama qualquer método / calls any method (gateway RPC port, API key);
                                               com streaming / streaming: '[{json}, ...]' ou / or - (JSON Lines na entrada / on stdin)
      tickets list [--stage S[,S]] [--priority P] [--category C] [--text T] [--product P] [--agent ID] [--group ID]
                   [--sla breached|at_risk|paused|on_track] [--mine] [--open-only] [--page-size N] [--cursor C]
              | show ID | open --subject S --description D --category C --priority P --product P [--module M]
                             [--organization ID --contact ID] [--channel K] [--origin K] [--attach FILE]...
              | reply ID [--text T] [--attach FILE]... | move ID --stage S [--note T] [--public-note T]
              | take ID | read ID | history ID
              | transfer ID (--agent ID | --group ID) [--note T] | solve ID --text T | cancel ID --reason T
              | discuss ID --text T [--public] [--attach FILE]...
      kb search TEXT                           busca na base de conhecimento / searches the knowledge base
      get PATH | post PATH '{json}'            qualquer rota HTTP / any HTTP route
      help [COMMAND]                           ajuda de um comando / a command's help (ou / or COMMAND --help)

    --idempotency-key K (post, tickets open/reply/..., call): repetir com a mesma chave não repete o efeito /
                        a retry with the same key has no second effect.
    Tabelas e fichas em português; --lang en (ou OCORRE_LANG=en) em inglês; --json para scripts (erros também, na saída).
    Tables and ticket pages in Portuguese; --lang en (or OCORRE_LANG=en) for English; --json for scripts (errors too, on stdout).
    Saída / exit: 0 ok; 1 recusado ou falhou / refused or failed; 2 uso (antes de qualquer chamada) / usage (before any call);
    3 health: nem todos prontos / not every service ready.
    """

    /// Each command's own help (`ocorre help tickets`, `ocorre tickets --help`).
    static let commandHelp: [String: String] = [
        "login": """
        uso / usage: ocorre [--url URL] login --email EMAIL [--password-stdin]
          Pede a senha (sem eco) ou a lê da entrada com --password-stdin; guarda o token e o endereço em
          ~/.config/ocorre/config.json (0600; OCORRE_CONFIG muda). Os comandos seguintes usam esse endereço.
          Asks the password (not echoed) or reads it from stdin with --password-stdin; keeps the token and the
          address in ~/.config/ocorre/config.json (0600; OCORRE_CONFIG overrides). Later commands use that address.
        """,
        "logout": "uso / usage: ocorre logout [--everywhere]\n  Encerra o token salvo e apaga o arquivo / ends the saved token and removes the file.\n  --everywhere: encerra todas as sessões e tokens da conta, em todos os dispositivos / ends every session and token of the account, on every device.",
        "whoami": "uso / usage: ocorre whoami [--json]\n  O usuário e o principal do token / the token's user and principal.",
        "health": """
        uso / usage: ocorre health [--json]
          Prontidão de cada serviço (GET /readyz); saída 3 quando algum não está pronto.
          Readiness of every service (GET /readyz); exit 3 when one is not ready.
        """,
        "methods": """
        uso / usage: ocorre [--rpc HOST:PORT] --api-key KEY methods [SERVICE] [--json]
          Os métodos da porta RPC do gateway (reflexão), com os nomes completos que call e describe aceitam.
          The methods behind the gateway's RPC port (reflection), with the full names call and describe take.
          Sem --rpc nem OCORRE_RPC: o host do gateway (--url, OCORRE_URL ou o do login) na porta 7190.
          Without --rpc or OCORRE_RPC: the gateway's host (--url, OCORRE_URL or the login's) on port 7190.
        """,
        "describe": """
        uso / usage: ocorre --api-key KEY describe SERVICE/METHOD [--json]
                     ocorre describe ocorrencias.intake.v1.OpenTicketRequest [--json]
          Os campos da requisição e da resposta do método, e de cada mensagem dentro delas, com os valores de cada enum.
          The fields of the method's request and answer, and of every message inside them, with each enum's values.
        """,
        "call": """
        uso / usage: ocorre [--rpc HOST:PORT] --api-key KEY call SERVICE/METHOD '{json}' [--idempotency-key K] [--json]
          SERVICE/METHOD (intake/LookupCustomers) ou o nome completo / or the full name (/ocorrencias.intake.v1.Intake/LookupCustomers).
          Nomes de campo do .proto (ocorre describe SERVICE/METHOD); enums por nome; bytes em base64.
          .proto field names (ocorre describe SERVICE/METHOD); enums by name; bytes as base64.
          Streaming: '[{json}, {json}]' ou / or - (JSON Lines na entrada / on stdin); cada resposta numa linha com --json /
          each answer on a line with --json. Erro: saída 1, com --json também na saída padrão / error: exit 1, with --json on stdout too.
        """,
        "tickets": """
        uso / usage: ocorre tickets SUBCOMMAND
          list [--stage S[,S]] [--priority P] [--category C] [--text T] [--product P] [--module M] [--agent ID] [--group ID]
               [--sla breached|at_risk|paused|on_track] [--mine] [--open-only] [--page-size N] [--cursor C]
                                    a fila (equipe) ou as suas ocorrências (clientes); --cursor da próxima página /
                                    the queue (staff) or your tickets (customers); --cursor of the next page
          show ID                   a ocorrência inteira / the whole ticket (ID: id ou código / id or code 2026-000123)
          open --subject S --description D --category C --priority P --product P [--module M] [--attach FILE]...
               [--organization ID --contact ID] [--channel K] [--origin K]
                                    equipe e integrações: --organization e --contact do cliente /
                                    staff and integrations: the customer's --organization and --contact
          reply ID [--text T] [--attach FILE]...
                                    cliente: a sua mensagem; equipe: a resposta pública ao cliente (como no portal;
                                    o mesmo que discuss --public, --text obrigatório) /
                                    customer: your message; staff: the public answer to the customer (as in the portal;
                                    the same as discuss --public, --text required)
          discuss ID --text T [--public] [--attach FILE]...
                                    entrada da equipe na discussão, interna sem --public / staff's entry, internal without --public
          move ID --stage S [--note T] [--public-note T]
                                    --public-note: texto ao cliente (pedir informação, negar) / text for the customer;
                                    quais movimentos / which moves: ocorre get /v1/tickets/ID/moves
          take ID | read ID | history ID | transfer ID (--agent ID | --group ID) [--note T] | solve ID --text T
          cancel ID --reason T      o cliente desiste / the customer gives the ticket up
          --attach repete-se (ou FILE,FILE): arquivos pequenos vão na chamada, os maiores antes /
          --attach repeats (or FILE,FILE): small files go inside the call, larger ones are uploaded first.
          Prioridades e categorias como se fala / priorities and categories as people say them: alta, Urgente, "exigência fiscal".
        """,
        "kb": """
        uso / usage: ocorre kb search TEXT [--json]
          Busca na base de conhecimento (tipo, título, produto / módulo, id) / searches the knowledge base.
        """,
        "get": """
        uso / usage: ocorre get PATH [--json] | ocorre post PATH '{json}' [--idempotency-key K] [--json]
          Qualquer rota da API HTTP (docs/openapi.yaml, GET /openapi.yaml) com o token salvo ou --api-key.
          Any route of the HTTP API (docs/openapi.yaml, GET /openapi.yaml) with the saved token or --api-key.
        """,
    ]

    /// Levenshtein distance between two option names (a typo's closest option).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    /// The help of `command` (its own when it has one, else the whole usage).
    static func help(_ command: String?) -> String {
        guard let command else { return usage }
        return commandHelp[command == "post" ? "get" : command] ?? usage
    }

    struct Options {
        /// `--url`, else `OCORRE_URL`; nil: the address `login` saved, else `http://127.0.0.1:8080`.
        var url = ProcessInfo.processInfo.environment["OCORRE_URL"].flatMap { $0.isEmpty ? nil : $0 }
        /// `--rpc`, else `OCORRE_RPC`; nil: the gateway's host on port 7190 (``rpcAddress(_:)``).
        var rpc = ProcessInfo.processInfo.environment["OCORRE_RPC"].flatMap { $0.isEmpty ? nil : $0 }
        // An empty variable is an unset one (`OCORRE_API_KEY= ocorre ...`).
        var apiKey = ProcessInfo.processInfo.environment["OCORRE_API_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        var token = ProcessInfo.processInfo.environment["OCORRE_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        var json = false
        /// The saved login (`{"url": …, "token": …}` in `OCORRE_CONFIG`), read once per command by
        /// ``preflight(_:command:)`` and passed along: every call of one command uses the same
        /// address and token, however many calls it makes (`tickets show` makes three or more).
        var saved: [String: String] = [:]
        var flags: [String: String] = [:]
        /// Every value of a flag given more than once (`--attach a --attach b`), in order.
        var lists: [String: [String]] = [:]
        var switches: Set<String> = []
        var positional: [String] = []
    }

    /// A command that failed: `description` goes to standard error, `status` is the exit status
    /// (1 a refused or failed call, 2 a usage error found before any call, 3 `health` not ready).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        var status: Int32 = 1
        /// With `--json`, printed on standard output too: the API's error as it came, or a failed
        /// RPC in the same shape (``errorObject(_:)``), so a script piping into `jq` reads why.
        /// (Kept serialized: an error is `Sendable`.)
        var errorJSON: Data? = nil

        init(description: String, status: Int32 = 1, errorJSON: [String: Any]? = nil) {
            self.description = description
            self.status = status
            self.errorJSON = errorJSON.flatMap { try? JSONSerialization.data(withJSONObject: $0) }
        }
    }

    static func main(_ arguments: [String]) -> Int32 {
        var options = Options()
        var index = 0
        var wantsHelp = false
        let valueFlags: Set<String> = ["url", "rpc", "api-key", "token", "email", "state", "subject", "description", "category",
                                       "priority", "text", "stage", "service", "limit", "product", "module", "idempotency-key", "attach",
                                       "lang", "page-size", "cursor", "agent", "group", "note", "public-note", "reason", "sla",
                                       "organization", "contact", "channel", "origin"]
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
                case "password-stdin", "public", "mine", "open-only", "everywhere": options.switches.insert(name)
                case "help":
                    wantsHelp = true
                default:
                    // The closest option by spelling (`--atach` → `--attach`), then the command's own help.
                    let known = valueFlags.union(["json", "password-stdin", "public", "mine", "open-only", "everywhere", "help"])
                    let near: [(flag: String, distance: Int)] = known.sorted().map { ($0, editDistance($0, name)) }.filter { $0.distance <= 2 }
                    let closest: String? = near.min { $0.distance < $1.distance }?.flag
                    let hint = closest.map { " — quis dizer / did you mean --\($0)?" } ?? ""
                    return fail(Failure(description: "opção desconhecida / unknown option \(argument)\(hint)\n\(help(options.positional.first))",
                                        status: 2))
                }
                index += 1
                continue
            }
            options.positional.append(argument)
            index += 1
        }
        // `--help` or `-h` anywhere: the command's own help (`ocorre tickets --help`), exit 0.
        if wantsHelp || options.positional.contains("-h") {
            print(help(options.positional.first.flatMap { $0 == "-h" || $0 == "help" ? nil : $0 }))
            return 0
        }
        guard let command = options.positional.first else {
            FileHandle.standardError.write(Data((usage + "\n").utf8))
            return 2
        }
        let rest = Array(options.positional.dropFirst())
        do {
            options.saved = try preflight(options, command: command)
            switch command {
            case "login": try login(options)
            case "logout": try logout(options)
            case "whoami": try show(try http(options, "GET", "/v1/me"), options)
            case "health": try health(options)
            case "methods": try methods(options, service: rest.first)
            case "call": try call(options, rest)
            case "describe": try describe(options, rest)
            case "tickets": try Tickets.run(options, rest)
            case "kb": try Tickets.knowledge(options, rest)
            case "get":
                guard let path = rest.first else { throw Failure(description: help("get"), status: 2) }
                try show(try http(options, "GET", path), options)
            case "post":
                guard let path = rest.first else { throw Failure(description: help("get"), status: 2) }
                try show(try http(options, "POST", path, body: try parseJSON(rest.count > 1 ? rest[1] : "{}")), options)
            case "help": print(help(rest.first))
            default: throw Failure(description: "comando desconhecido / unknown command \(command)\n\(usage)", status: 2)
            }
            return 0
        } catch {
            let error = (error as? RPCError).map { rpcFailure($0, address: rpcAddress(options)) } ?? error
            if options.json, let data = (error as? Failure)?.errorJSON, let object = try? JSONSerialization.jsonObject(with: data) {
                try? show(object, options)
            }
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

    static func login(_ options: Options) throws {
        guard let email = options.flags["email"] else { throw Failure(description: "--email é obrigatório / is required", status: 2) }
        // A terminal is prompted with the typing hidden; a pipe (--password-stdin) is read whole.
        let password = PasswordPrompt.read()
        let answer = try http(options, "POST", "/v1/auth/tokens", body: ["email": email, "password": password], authenticated: false)
        guard let token = answer["token"] as? String else { throw Failure(description: "resposta sem token / no token in the answer") }
        let path = configPath
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        // The address signed in to, also when it came from the saved file (a second `login`
        // without --url keeps signing in where the first one did).
        let data = try JSONSerialization.data(withJSONObject: ["url": baseURL(options), "token": token], options: [.sortedKeys])
        _ = FileManager.default.createFile(atPath: path, contents: data, attributes: [.posixPermissions: 0o600])
        if options.json { try show(["status": "signed_in", "user": answer["user"] ?? [:]], options) } else {
            let user = answer["user"] as? [String: Any] ?? [:]
            print("Entrou como / signed in as \(user["email"] ?? email) (\(user["role"] ?? "?"))")
        }
    }

    static func logout(_ options: Options) throws {
        if options.switches.contains("everywhere") {
            // Said when it fails: the other devices' sessions would go on.
            _ = try http(options, "POST", "/v1/auth/logout?everywhere=true")
        } else {
            _ = try? http(options, "POST", "/v1/auth/logout")
        }
        // The token goes, the address stays: the next command asks to sign in again at the same
        // gateway (it called http://127.0.0.1:8080 and said no gateway answered there), and so
        // does a later `login` without --url.
        let url = options.saved["url"]
        try? FileManager.default.removeItem(atPath: configPath)
        if let url, let data = try? JSONSerialization.data(withJSONObject: ["url": url], options: [.sortedKeys]) {
            _ = FileManager.default.createFile(atPath: configPath, contents: data, attributes: [.posixPermissions: 0o600])
        }
        if options.json { try show(["status": "signed_out"], options) } else { print("Saiu / signed out") }
    }

    // MARK: HTTP

    /// The gateway's address: `--url` or `OCORRE_URL`, else the one `login` saved, else
    /// `http://127.0.0.1:8080`.
    static func baseURL(_ options: Options) -> String {
        options.url ?? options.saved["url"] ?? "http://127.0.0.1:8080"
    }

    /// The port the gateway's RPC proxy listens on by default (`GATEWAY_PROXY_PORT`).
    static let defaultRPCPort = 7190

    /// The gateway's RPC port (`methods`, `call`, `describe`): `--rpc` or `OCORRE_RPC`, else the
    /// host of the gateway's address (``baseURL(_:)``: `--url`, `OCORRE_URL`, the saved login's)
    /// on port 7190, so `--url https://suporte.example:8443` alone reaches `suporte.example:7190`.
    static func rpcAddress(_ options: Options) -> String {
        if let rpc = options.rpc { return rpc }
        let host = URLComponents(string: baseURL(options))?.host.flatMap { $0.isEmpty ? nil : $0 } ?? "127.0.0.1"
        // An IPv6 literal keeps its brackets out of the host (Endpoint splits at the last colon).
        return "\(host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host):\(defaultRPCPort)"
    }

    /// Calls a route of the gateway with the saved token; non-2xx answers become failures with
    /// the API's message.
    /// - Parameter file: sent as the raw body, streamed from disk (an attachment upload).
    static func http(_ options: Options, _ method: String, _ path: String, body: Any? = nil, file: URL? = nil,
                     authenticated: Bool = true) throws -> [String: Any] {
        let base = baseURL(options)
        // `ocorre get v1/me` as `/v1/me`.
        let path = path.hasPrefix("/") ? path : "/" + path
        guard let url = URL(string: base + path) else { throw Failure(description: "URL inválida / invalid URL \(base + path)", status: 2) }
        var request = URLRequest(url: url, timeoutInterval: 30)
        request.httpMethod = method
        if authenticated, let token = options.token ?? options.apiKey ?? options.saved["token"] {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = try JSONSerialization.data(withJSONObject: body)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        // --idempotency-key: a script retrying a write passes the same key each time and gets the
        // first answer again, with no second effect (docs/GATEWAY.md, "Idempotency-Key").
        if method == "POST" { request.setValue(options.flags["idempotency-key"] ?? UUID().uuidString, forHTTPHeaderField: "Idempotency-Key") }
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
        if let error {
            throw Failure(description: "não foi possível falar com o gateway em / cannot reach the gateway at \(base) (--url, OCORRE_URL): \(error.localizedDescription)")
        }
        guard let response else { throw Failure(description: "sem resposta / no answer") }
        let object: [String: Any]
        if let data, !data.isEmpty {
            if let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                object = parsed
            } else {
                object = [rawBody: String(decoding: data, as: UTF8.self)]
            }
        } else {
            object = [:]
        }
        guard (200..<300).contains(response.statusCode) else {
            let error = object["error"] as? [String: Any] ?? [:]
            var text = "\(response.statusCode) \(error["code"] ?? ""): \(error["message"] ?? "") / \(error["message_en"] ?? "")"
            if error.isEmpty {
                // Not the API's JSON (a proxy in front of the gateway, a wrong --url): what came, shortened.
                text = "\(response.statusCode): " + String((object[rawBody] as? String ?? "").prefix(500))
            }
            for detail in error["details"] as? [[String: Any]] ?? [] {
                text += "\n  - \(detail["field"] ?? ""): \(detail["message"] ?? detail["reason"] ?? "")"
            }
            if response.statusCode == 401 && authenticated {
                if options.token == nil && options.apiKey != nil {
                    // An API key is not renewed by signing in: it was revoked, or mistyped.
                    text += "\n  a chave de API (--api-key, OCORRE_API_KEY) foi recusada: revogada ou incorreta / the API key was refused: revoked or mistyped"
                } else {
                    // An expired or revoked token (bearer tokens last GATEWAY_TOKEN_SECONDS, 30 days).
                    text += "\n  entre de novo / sign in again: ocorre login --email EMAIL"
                }
            }
            throw Failure(description: text, errorJSON: object["error"] != nil ? object : nil)
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

    /// The member holding an answer that is not JSON (`ocorre get /v1/tickets/export.csv`,
    /// `/openapi.yaml`), printed as it came, with or without `--json`, so it can be redirected to a file.
    static let rawBody = "\u{0}body"

    static func show(_ object: Any, _ options: Options) throws {
        if let raw = (object as? [String: Any]).flatMap({ $0.count == 1 ? $0[rawBody] as? String : nil }) {
            FileHandle.standardOutput.write(Data(raw.utf8))
            return
        }
        if options.json {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        if let dictionary = object as? [String: Any] {
            // A list inside an object prints as a table; anything else as key: value lines.
            if dictionary.count <= 2, let (key, list) = dictionary.first(where: { $0.value is [[String: Any]] }), let rows = list as? [[String: Any]] {
                print(table(rows))
                // The other member (a next page's cursor or token) after the table, not dropped.
                for other in dictionary.keys.sorted() where other != key {
                    let value = flat(dictionary[other]!)
                    if !value.isEmpty { print("\n\(other): \(value)") }
                }
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
        if isBoolean(value) { return (value as? Bool) == true ? "true" : "false" }
        if let dictionary = value as? [String: Any] {
            return dictionary.keys.sorted().map { "\($0)=\(flat(dictionary[$0]!))" }.joined(separator: " ")
        }
        if let array = value as? [Any] { return array.map(flat).joined(separator: ", ") }
        return "\(value)"
    }

    /// Whether a decoded JSON value is a boolean (JSONSerialization gives NSNumbers: `true` must
    /// not print as `1`).
    static func isBoolean(_ value: Any) -> Bool {
        if type(of: value) == Bool.self { return true }
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    /// A plain-text table with the union of the rows' keys as columns.
    static func table(_ rows: [[String: Any]], columns preferred: [String]? = nil) -> String {
        var columns = preferred ?? []
        if preferred == nil {
            for row in rows { for key in row.keys.sorted() where !columns.contains(key) { columns.append(key) } }
        }
        return table(headers: columns.map { $0.uppercased() }, rows: rows.map { row in columns.map { flat(row[$0] ?? "") } })
    }

    /// A plain-text table: each cell on one line and cut at `maxWidth` columns (60; nil: never
    /// cut, for values people copy such as method names), columns as wide as their widest cell in
    /// terminal columns (``String/displayWidth``: accents, emoji and East Asian text line up).
    static func table(headers: [String], rows: [[String]], empty: String = "(nenhum / none)", maxWidth: Int? = 60) -> String {
        guard !rows.isEmpty else { return empty }
        let cells = rows.map { row in row.map { cell in
            let line = cell.replacingOccurrences(of: "\r\n", with: " ").replacingOccurrences(of: "\n", with: " ")
            return maxWidth.map { line.truncated(toWidth: $0) } ?? line
        } }
        let widths = headers.indices.map { i in max(headers[i].displayWidth, cells.map { $0[i].displayWidth }.max() ?? 0) }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $0.element.padded(toWidth: widths[$0.offset]) }.joined(separator: "  ").trimmingTrailingSpaces()
        }
        return ([line(headers), line(widths.map { String(repeating: "-", count: $0) })] + cells.map(line)).joined(separator: "\n")
    }

    // MARK: health

    static func health(_ options: Options) throws {
        let base = baseURL(options)
        guard let url = URL(string: base + "/readyz") else { throw Failure(description: "URL inválida / invalid URL", status: 2) }
        let box = ResultBox()
        let session = URLSession(configuration: .ephemeral)
        session.dataTask(with: URLRequest(url: url, timeoutInterval: 10)) { data, response, error in
            box.set(data, response as? HTTPURLResponse, error)
        }.resume()
        let (data, response, error) = box.wait()
        session.finishTasksAndInvalidate()
        if let error {
            throw Failure(description: "não foi possível falar com o gateway em / cannot reach the gateway at \(base) (--url, OCORRE_URL): \(error.localizedDescription)")
        }
        let object = (data.flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }) ?? [:]
        if options.json {
            try show(object, options)
        } else {
            let services = object["services"] as? [String: [String: Any]] ?? [:]
            let pt = TicketText.language(options) == .portuguese
            let rows = services.keys.sorted().map { name -> [String] in
                [name, TicketText.text(services[name]?["status"]).nonEmpty ?? "?", TicketText.text(services[name]?["detail"])]
            }
            print(table(headers: pt ? ["SERVIÇO", "SITUAÇÃO", "DETALHE"] : ["SERVICE", "STATUS", "DETAIL"], rows: rows))
            let ready = object["status"] as? String == "ready"
            print("\n" + (pt ? (ready ? "pronto" : "NÃO pronto") : (ready ? "ready" : "NOT ready")))
        }
        if response?.statusCode != 200 { throw Failure(description: "nem todos os serviços estão prontos / not every service is ready", status: 3) }
    }
}

extension String {
    /// The text, nil when empty.
    var nonEmpty: String? { isEmpty ? nil : self }

    /// The text without the spaces at its end (a table's last column is not padded).
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
