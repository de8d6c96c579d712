import Foundation
import Storage
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

    /// Signs the administrator in with `ocorre login` (the token kept in `config`) and makes an
    /// administrator API key for the RPC port with the CLI's generic POST; the key.
    static func adminKey(_ deployment: ProxyTests.Deployment, config: String) throws -> String {
        let login = try ocorre(["login", "--email", GatewayHarness.adminEmail, "--password-stdin"], deployment, config: config,
                               input: GatewayHarness.adminPassword + "\n")
        #expect(login.status == 0, "\(login.error)")
        #expect(login.output.contains("administrator"))
        let created = try ocorre(["post", "/v1/api-keys", #"{"name": "cli", "role": "administrator"}"#, "--json"], deployment, config: config)
        #expect(created.status == 0, "\(created.error)")
        return try #require((try JSONSerialization.jsonObject(with: Data(created.output.utf8)) as? [String: Any])?["key"] as? String)
    }

    @Test("login, whoami, health as a table and as JSON, methods and call through reflection with an API key, streaming methods included")
    func commands() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre.json"
        // An API key for the RPC port, created with the CLI's generic POST.
        let key = try Self.adminKey(deployment, config: config)
        let whoami = try Self.ocorre(["whoami", "--json"], deployment, config: config)
        let me = try JSONSerialization.jsonObject(with: Data(whoami.output.utf8)) as? [String: Any]
        #expect((me?["user"] as? [String: Any])?["email"] as? String == GatewayHarness.adminEmail)

        let health = try Self.ocorre(["health"], deployment, config: config)
        #expect(health.status == 0, "\(health.error)")
        #expect(health.output.contains("SERVIÇO") && health.output.contains("intake") && health.output.contains("SERVING"))
        let healthJSON = try Self.ocorre(["health", "--json"], deployment, config: config)
        #expect(((try JSONSerialization.jsonObject(with: Data(healthJSON.output.utf8)) as? [String: Any])?["status"] as? String) == "ready")

        let methods = try Self.ocorre(["methods", "intake"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(methods.status == 0, "\(methods.error)")
        #expect(methods.output.contains("/ocorrencias.rpc.v1.Health/Check"))
        let echo = try Self.ocorre(["call", "knowledge/Echo", #"{"payload": "b2zDoQ=="}"#, "--json"], deployment, config: config,
                                   extra: ["OCORRE_API_KEY": key])
        #expect(echo.status == 0, "\(echo.error)")
        #expect(((try? JSONSerialization.jsonObject(with: Data(echo.output.utf8))) as? [String: Any])?["payload"] as? String == "b2zDoQ==")
        // Streaming methods: a bidirectional one fed a list (each answer a JSON line, in order), the
        // same fed JSON Lines on standard input, and a server-streaming export.
        let echoes = try Self.ocorre(["call", "knowledge/EchoStream", #"[{"payload": "YQ=="}, {"payload": "Yg=="}, {"payload": "Yw=="}]"#, "--json"],
                                     deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(echoes.status == 0, "\(echoes.error)")
        let payloads = echoes.output.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        }.compactMap { $0["payload"] as? String }
        #expect(payloads == ["YQ==", "Yg==", "Yw=="], "\(echoes.output)")
        let piped = try Self.ocorre(["call", "knowledge/EchoStream", "-", "--json"], deployment, config: config,
                                    input: "{\"payload\": \"ZA==\"}\n\n{\"payload\": \"ZQ==\"}\n", extra: ["OCORRE_API_KEY": key])
        #expect(piped.status == 0 && piped.output.contains("ZA==") && piped.output.contains("ZQ=="), "\(piped.output) \(piped.error)")
        let export = try Self.ocorre(["call", "workflow/ExportQueue", "{}", "--json"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(export.status == 0, "\(export.error)")
        let chunks = export.output.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
        #expect(!chunks.isEmpty, "\(export.output)")
        let notAList = try Self.ocorre(["call", "workflow/ExportQueue", "[{}, {}]"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(notAList.status == 2 && notAList.error.contains("objeto JSON"), "\(notAList.error)")
        let check = try Self.ocorre(["call", "workflow/Check", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(check.output.contains("status: SERVING"), "\(check.output) \(check.error)")
        let unknownField = try Self.ocorre(["call", "knowledge/Echo", #"{"nope": 1}"#], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(unknownField.status != 0)
        // The field first, then what is wrong in both languages.
        #expect(unknownField.error.contains("nope: campo desconhecido") && unknownField.error.contains("unknown field"), "\(unknownField.error)")
        // A mistyped option is an error with the usage, not silently ignored.
        let typo = try Self.ocorre(["tickets", "open", "--subject", "S", "--atach", "a.png"], deployment, config: config)
        #expect(typo.status == 2 && typo.error.contains("--atach"), "\(typo.error)")
        let badKey = try Self.ocorre(["methods"], deployment, config: config, extra: ["OCORRE_API_KEY": "ocr_x_y"])
        #expect(badKey.status != 0)
        #expect(try Self.ocorre(["logout"], deployment, config: config).status == 0)
        #expect(try Self.ocorre(["whoami"], deployment, config: config).status != 0)

        // `logout --everywhere` on one computer ends the token another one keeps.
        let other = deployment.gateway.directory.path + "/ocorre-other.json"
        for path in [config, other] {
            let login = try Self.ocorre(["login", "--email", GatewayHarness.adminEmail, "--password-stdin"], deployment, config: path,
                                        input: GatewayHarness.adminPassword + "\n")
            #expect(login.status == 0, "\(login.error)")
        }
        #expect(try Self.ocorre(["whoami"], deployment, config: other).status == 0)
        let everywhere = try Self.ocorre(["logout", "--everywhere"], deployment, config: config)
        #expect(everywhere.status == 0, "\(everywhere.error)")
        #expect(try Self.ocorre(["whoami"], deployment, config: other).status != 0)
    }

    @Test("ocorre call takes a method as ocorre methods prints it (its full path) as well as SERVICE/Method; a mistyped one is refused listing the service's methods; a built-in one by full path asks which service")
    func callByPath() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre.json"
        let key = try Self.adminKey(deployment, config: config)
        let listed = try Self.ocorre(["methods", "intake"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(listed.output.contains("/ocorrencias.intake.v1.Intake/LookupCustomers"), "\(listed.output)")
        for target in ["intake/LookupCustomers", "/ocorrencias.intake.v1.Intake/LookupCustomers"] {
            let call = try Self.ocorre(["call", target, #"{"query": "Acme"}"#, "--json"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
            #expect(call.status == 0 && call.output.contains("organizations"), "\(target): \(call.error)")
        }
        let typo = try Self.ocorre(["call", "intake/LookupCustomer", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(typo.status == 2 && typo.error.contains("method not found") && typo.error.contains("/ocorrencias.intake.v1.Intake/LookupCustomers"),
                "\(typo.error)")
        let builtin = try Self.ocorre(["call", "/ocorrencias.rpc.v1.Health/Check", "{}"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(builtin.status == 2 && builtin.error.contains("intake/Check"), "\(builtin.error)")
    }

    @Test("ocorre tickets reply --attach (repeated, or a comma list) sends small files inside the reply up to the served limits (8 files of 256 KiB, 2 MiB: intake takes them) and uploads a larger one first; all download byte-exact; a reply needs text or a file",
          arguments: TestEngines.all)
    func replyWithFiles(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded)
        let files = try TemporaryDirectory()
        var contents: [String: Data] = [:]
        func write(_ name: String, _ count: Int, seed: UInt64) throws -> String {
            let data = AttachmentStreamTests.file(bytes: count, seed: seed)
            contents[name] = data
            try data.write(to: URL(fileURLWithPath: files.path + "/" + name))
            return files.path + "/" + name
        }
        // Eight prints of exactly 256 KiB (2 MiB together: the most a reply carries inside) and a
        // dump one byte over the size; a file name with a space.
        let prints = try (0..<8).map { try write("print \($0).png", 256 << 10, seed: UInt64(10 + $0)) }
        let dump = try write("dump.bin", (256 << 10) + 1, seed: 30)
        let before = try ReplyFilesTests.uploads(gateway, admin: seeded.admin)
        // The dump first: every print that fits the allowance travels inside the reply, placed
        // after it (file_positions).
        let arguments = ["tickets", "reply", ticketID, "--json", "--attach", dump, "--attach", prints[0...3].joined(separator: ",")]
            + prints[4...].flatMap { ["--attach", $0] }
        let reply = try ReplyFilesTests.ocorre(arguments, gateway, token: seeded.maria)
        #expect(reply.status == 0, "\(reply.error)")
        #expect(try ReplyFilesTests.uploads(gateway, admin: seeded.admin) == before + 1, "only dump.bin is uploaded")
        let attachments = try ReplyFilesTests.replyAttachments(reply.output)
        // In the order given.
        #expect(attachments.compactMap { $0["file_name"] as? String } == ["dump.bin"] + (0..<8).map { "print \($0).png" }, "\(attachments)")
        for attachment in attachments {
            let id = try #require(attachment["id"] as? String)
            let name = try #require(attachment["file_name"] as? String)
            #expect(try gateway.request("GET", "/v1/attachments/\(id)", bearer: seeded.maria).body == contents[name], "\(name)")
        }
        // The agent sees them on the ticket's message too.
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana)
        #expect(view.status == 200 && view.text.contains("dump.bin") && view.text.contains("print 7.png"), "\(view.text.prefix(2000))")

        let usage = try ReplyFilesTests.ocorre(["tickets", "reply", ticketID], gateway, token: seeded.maria)
        #expect(usage.status == 2 && usage.error.contains("--attach"), "\(usage.error)")
        let missing = try ReplyFilesTests.ocorre(["tickets", "reply", ticketID, "--attach", files.path + "/nao-existe.txt"], gateway, token: seeded.maria)
        #expect(missing.status == 2 && missing.error.contains("nao-existe.txt"), "\(missing.error)")
    }

    @Test("ocorre tickets list and show read as people read them: Portuguese headers, names for priorities and categories, dates, the holder, the request and the discussion; take, history, discuss and solve by code; --lang en in English; filters (priority, text, --mine, --open-only, --sla) reach the route; an unknown priority is a usage error; move --public-note asks the customer, read marks their answer read; a finished ticket shows its outcome (Desfecho: resolvida / Outcome: resolved), its JSON, the listing's rows and the CSV export carry outcome_label and outcome_label_en (the CSV category_en, priority_en and stage_en too); open takes typed priorities and categories")
    func readableTickets() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Pedido não grava no fechamento")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(ticketID) })
        let code = try #require((try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana).json["intake"] as? [String: Any])?["code"]
            as? String)
        // The agent takes it by its code: one line with the code, the stage and the holder.
        let take = try ReplyFilesTests.ocorre(["tickets", "take", code], gateway, token: seeded.ana)
        #expect(take.status == 0 && take.output.contains("\(code) · Em atendimento · Ana (Nível 1)"), "\(take.output) \(take.error)")
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/discussion", json: ["is_public": false, "text": "Verificar o log do servidor."],
                                    bearer: seeded.ana).status == 201)

        let list = try ReplyFilesTests.ocorre(["tickets", "list", "--priority", "normal"], gateway, token: seeded.ana)
        #expect(list.status == 0, "\(list.error)")
        let lines = list.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("CÓDIGO") == true && lines.first?.contains("ÚLTIMA INTERAÇÃO") == true, "\(list.output)")
        let row = try #require(lines.first { $0.hasPrefix(code) }, "\(list.output)")
        #expect(row.contains("Pedido não grava no fechamento") && row.contains("Normal") && row.contains("Ana (Nível 1)"), "\(row)")
        #expect(!row.contains("NORMAL") && !row.contains("_ms"), "\(row)")
        // The day it was opened, in this machine's time zone.
        let today = { let f = DateFormatter(); f.dateFormat = "dd/MM/yyyy"; return f.string(from: Date()) }()
        #expect(row.contains(today), "\(row)")
        // A filter the ticket does not match leaves it out; an unknown priority is refused before any call.
        let urgent = try ReplyFilesTests.ocorre(["tickets", "list", "--priority", "Urgente"], gateway, token: seeded.ana)
        #expect(urgent.status == 0 && !urgent.output.contains(code), "\(urgent.output)")
        let unknown = try ReplyFilesTests.ocorre(["tickets", "list", "--priority", "altíssima"], gateway, token: seeded.ana)
        #expect(unknown.status == 2 && unknown.error.contains("--priority") && unknown.error.contains("altíssima"), "\(unknown.error)")
        // Words of the subject, the agent's own tickets, open ones: each reaches workflow's queue filter.
        let other = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Relatório de comissões vazio")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(other) })
        for (flags, expectCode) in [(["--text", "fechamento"], true), (["--text", "comissões"], false), (["--mine"], true),
                                    (["--mine", "--open-only"], true), (["--sla", "breached"], false)] {
            let found = try ReplyFilesTests.ocorre(["tickets", "list"] + flags, gateway, token: seeded.ana)
            #expect(found.status == 0 && found.output.contains(code) == expectCode, "\(flags): \(found.output) \(found.error)")
        }
        let mine = try ReplyFilesTests.ocorre(["tickets", "list", "--mine", "--json"], gateway, token: seeded.ana)
        #expect((try? JSONSerialization.jsonObject(with: Data(mine.output.utf8)) as? [String: Any])?["tickets"].flatMap { $0 as? [Any] }?.count == 1,
                "\(mine.output)")

        let show = try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana)
        #expect(show.status == 0, "\(show.error)")
        for expected in ["\(code)  Pedido não grava no fechamento", "Categoria: Problema", "Prioridade: Normal", "Responsável: Ana (Nível 1)",
                         "Produto / módulo: ERP / Vendas", "Solicitação:", "  Ao gravar o pedido a tela congela.", "Discussão:", "[interna]",
                         "      Verificar o log do servidor."] {
            #expect(show.output.contains(expected), "missing \(expected) in\n\(show.output)")
        }
        // The customer's page has no internal entry.
        let customer = try ReplyFilesTests.ocorre(["tickets", "show", ticketID], gateway, token: seeded.maria)
        #expect(customer.status == 0 && customer.output.contains("Pedido não grava") && !customer.output.contains("Verificar o log"),
                "\(customer.output)")
        // A text typed with CRLF line ends (a Windows integration's) is indented line by line.
        let crlf = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Quebra de linha Windows", "request": "Linha um\r\nLinha dois", "category": "PROBLEMA", "priority": "NORMAL",
            "product": "ERP", "organization_id": seeded.organizationID], bearer: seeded.maria)
        let crlfID = try #require((crlf.json["ticket"] as? [String: Any])?["id"] as? String, "\(crlf.text)")
        let crlfShow = try ReplyFilesTests.ocorre(["tickets", "show", crlfID], gateway, token: seeded.maria)
        #expect(crlfShow.output.contains("  Linha um\n  Linha dois"), "\(crlfShow.output.debugDescription)")
        let english = try ReplyFilesTests.ocorre(["tickets", "show", code, "--lang", "en"], gateway, token: seeded.ana)
        for expected in ["Stage: In service", "Category: Problem", "Priority: Normal", "Holder: Ana (Nível 1)", "Request:", "[internal]"] {
            #expect(english.output.contains(expected), "missing \(expected) in\n\(english.output)")
        }
        let englishList = try ReplyFilesTests.ocorre(["tickets", "list"], gateway, token: seeded.ana, language: "en")
        #expect(englishList.output.hasPrefix("CODE") && englishList.output.contains("LAST INTERACTION"), "\(englishList.output)")
        // The history as a table; a transfer without a destination is a usage error, sent nowhere.
        let history = try ReplyFilesTests.ocorre(["tickets", "history", code], gateway, token: seeded.ana)
        #expect(history.status == 0 && history.output.hasPrefix("QUANDO") && history.output.contains("Aberta") && !history.output.contains("opened")
                && history.output.contains("Ana"), "\(history.output) \(history.error)")
        // A discussion entry by code too (workflow's route takes the id: the CLI resolves it).
        let discussed = try ReplyFilesTests.ocorre(["tickets", "discuss", code, "--text", "Entrada pelo código."], gateway, token: seeded.ana)
        #expect(discussed.status == 0, "\(discussed.output) \(discussed.error)")
        let nowhere = try ReplyFilesTests.ocorre(["tickets", "transfer", code, "--note", "sem destino"], gateway, token: seeded.ana)
        #expect(nowhere.status == 2 && nowhere.error.contains("--agent"), "\(nowhere.error)")
        let solved = try ReplyFilesTests.ocorre(["tickets", "solve", code, "--text", "Atualize para a versão 12.1."], gateway, token: seeded.ana)
        #expect(solved.status == 0, "\(solved.error)")
        #expect(try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.maria).output
            .contains("Solução:\n  Atualize para a versão 12.1."))
        // --json stays the API's answer.
        let json = try ReplyFilesTests.ocorre(["tickets", "show", code, "--json"], gateway, token: seeded.ana)
        let object = try #require((try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) as? [String: Any], "\(json.output)")
        #expect(object["intake"] is [String: Any] && object["workflow"] is [String: Any])

        // Asking the customer for information needs a text for them: without --public-note
        // workflow refuses (naming public_note), with it the ticket waits for the customer.
        let bare = try ReplyFilesTests.ocorre(["tickets", "move", code, "--stage", "aguardando_cliente"], gateway, token: seeded.ana)
        #expect(bare.status == 1 && bare.error.contains("public_note"), "\(bare.output) \(bare.error)")
        // The stage named in English (the moves' stage_name_en), the answer's line in English.
        let ask = try ReplyFilesTests.ocorre(["tickets", "move", code, "--stage", "waiting on the customer", "--public-note", "Envie o XML da nota.",
                                              "--lang", "en"], gateway, token: seeded.ana)
        #expect(ask.status == 0 && ask.output.contains("\(code) · Waiting on the customer"), "\(ask.output) \(ask.error)")
        #expect(try waitFor { try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.maria).output.contains("Envie o XML da nota.") })
        // The customer answers; the agent marks the answer read (one line, as other changes).
        #expect(try gateway.request("POST", "/v1/tickets/\(ticketID)/replies", json: ["text": "Segue o XML."], bearer: seeded.maria).status == 201)
        #expect(try waitFor { try ReplyFilesTests.ocorre(["tickets", "show", code, "--json"], gateway, token: seeded.ana).output
            .contains("\"unread_messages\" : 1") })
        let read = try ReplyFilesTests.ocorre(["tickets", "read", code], gateway, token: seeded.ana)
        #expect(read.status == 0 && read.output.hasPrefix(code), "\(read.output) \(read.error)")
        #expect(try ReplyFilesTests.ocorre(["tickets", "show", code, "--json"], gateway, token: seeded.ana).output.contains("\"unread_messages\" : 0"))
        // Finished, the ticket says how it ended, in the portal's words, to the agent and to the customer.
        let finish = try ReplyFilesTests.ocorre(["tickets", "move", code, "--stage", "finalizado"], gateway, token: seeded.ana)
        #expect(finish.status == 0, "\(finish.output) \(finish.error)")
        #expect(try waitFor { try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana).output.contains("Desfecho: resolvida") })
        #expect(try ReplyFilesTests.ocorre(["tickets", "show", code, "--lang", "en"], gateway, token: seeded.maria).output.contains("Outcome: resolved"))
        // The gateway's JSON carries both labels side by side (Portuguese first, as an error's
        // message and message_en), the customer's too; the queue's CSV export both, last.
        let finishedJSON = try ReplyFilesTests.ocorre(["get", "/v1/tickets/\(ticketID)", "--json"], gateway, token: seeded.maria)
        let finishedView = (try? JSONSerialization.jsonObject(with: Data(finishedJSON.output.utf8)) as? [String: Any])?["workflow"] as? [String: Any]
        #expect(finishedView?["outcome_label"] as? String == "resolvida" && finishedView?["outcome_label_en"] as? String == "resolved",
                "\(finishedJSON.output)")
        let csv = try ReplyFilesTests.ocorre(["get", "/v1/tickets/export.csv?stage=finalizado"], gateway, token: seeded.ana)
        #expect(csv.output.split(separator: "\r\n").first?.hasSuffix(",ping_pong,outcome,outcome_en,category_en,priority_en,stage_en") == true
                && csv.output.contains(",resolvida,resolved,") && csv.output.contains(",Finished\r\n"), "\(csv.output) \(csv.error)")
        // The rows of a listing carry the outcome's labels beside its key.
        let listed = try ReplyFilesTests.ocorre(["get", "/v1/tickets?stage=finalizado", "--json"], gateway, token: seeded.ana).output
        #expect(listed.contains("\"outcome_label_en\" : \"resolved\""), "\(listed)")
        // And the stage's English name beside its Portuguese one (workflow's, stage_name_en).
        #expect(listed.contains("\"stage_name\" : \"Finalizado\"") && listed.contains("\"stage_name_en\" : \"Finished\""), "\(listed)")

        // An open takes priorities and categories as people type them, as the list does.
        let typed = try ReplyFilesTests.ocorre(["tickets", "open", "--subject", "Dúvida digitada", "--description", "Como emito a segunda via?",
                                                "--category", "dúvida", "--priority", "normal", "--product", "ERP", "--json"], gateway, token: seeded.maria)
        let opened = (try? JSONSerialization.jsonObject(with: Data(typed.output.utf8)) as? [String: Any])?["ticket"] as? [String: Any]
        #expect(typed.status == 0 && opened?["category"] as? String == "DUVIDA" && opened?["priority"] as? String == "NORMAL",
                "\(typed.output) \(typed.error)")
        let unknownPriority = try ReplyFilesTests.ocorre(["tickets", "open", "--subject", "S", "--description", "D", "--category", "problema",
                                                          "--priority", "altíssima"], gateway, token: seeded.maria)
        #expect(unknownPriority.status == 2 && unknownPriority.error.contains("altíssima"), "\(unknownPriority.error)")
        // An expired or revoked token says how to get a new one.
        let expired = try ReplyFilesTests.ocorre(["tickets", "list"], gateway, token: "expirado")
        #expect(expired.status == 1 && expired.error.contains("401") && expired.error.contains("ocorre login"), "\(expired.error)")
    }

    @Test("an agent's ocorre tickets reply is the public answer to the customer (a public discussion entry, as the portal's agent page sends), not a message recorded as the customer's; a staff reply without --text is refused naming --text; a customer's reply stays intake's customer reply", arguments: TestEngines.all)
    func staffReplyIsPublicAnswer(engine: DatabaseEngine) throws {
        let deployment = try ProxyTests.Deployment(engine: engine)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Boleto sem código de barras")
        #expect(try ReplyFilesTests.ocorre(["tickets", "take", ticketID], gateway, token: seeded.ana).status == 0)
        let files = try TemporaryDirectory()
        let file = files.path + "/passo-a-passo.txt"
        try Data("1. Abra o boleto.".utf8).write(to: URL(fileURLWithPath: file))

        let answer = "Olá Maria, reemita o boleto pela tela de cobrança."
        let reply = try ReplyFilesTests.ocorre(["tickets", "reply", ticketID, "--text", answer, "--attach", file], gateway, token: seeded.ana)
        #expect(reply.status == 0 && reply.output.contains("resposta ao cliente enviada") && reply.output.contains("passo-a-passo.txt"),
                "\(reply.output) \(reply.error)")
        // The customer sees it as the team's public entry, with its file; intake has no message of hers with that text.
        let view = try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).json
        let discussion = (view["workflow"] as? [String: Any])?["discussion"] as? [[String: Any]] ?? []
        let entry = try #require(discussion.first { $0["text"] as? String == answer }, "\(view)")
        #expect(entry["is_public"] as? Bool == true && (entry["author_name"] as? String)?.hasPrefix("Ana") == true, "\(entry)")
        #expect((entry["attachments"] as? [[String: Any]])?.first?["file_name"] as? String == "passo-a-passo.txt", "\(entry)")
        let messages = (view["intake"] as? [String: Any])?["messages"] as? [[String: Any]] ?? []
        #expect(!messages.contains { $0["text"] as? String == answer }, "recorded as the customer's message: \(messages)")
        // Nothing unread for the agent: it was not a customer message.
        let row = (try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana).json["workflow"] as? [String: Any])?["row"] as? [String: Any]
        #expect((row?["unread_messages"] as? Int ?? 0) == 0, "\(row ?? [:])")

        // Staff need a text (workflow's rule for an entry): refused naming --text, no file stored.
        let bare = try ReplyFilesTests.ocorre(["tickets", "reply", ticketID, "--attach", file], gateway, token: seeded.ana)
        #expect(bare.status == 1 && bare.error.contains("--text"), "\(bare.output) \(bare.error)")
        // A customer's reply is still hers, recorded by intake.
        let customer = try ReplyFilesTests.ocorre(["tickets", "reply", ticketID, "--text", "Obrigada!"], gateway, token: seeded.maria)
        #expect(customer.status == 0 && customer.output.contains("resposta enviada"), "\(customer.output) \(customer.error)")
        let after = (try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.maria).json["intake"] as? [String: Any])?["messages"]
        #expect((after as? [[String: Any]] ?? []).contains { $0["text"] as? String == "Obrigada!" }, "\(after ?? [])")
    }

    @Test("ocorre tickets show names the channel and the origin by their labels from intake's lists (GET /v1/channels, /v1/origins) in the chosen language, as renamed there, not by their keys")
    func channelAndOriginLabels() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let (beta, paulo) = try CustomersPageTests.otherOrganization(gateway, admin: seeded.admin)
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Registrado por telefone", "request": "Cliente ligou.", "category": "DUVIDA", "priority": "NORMAL",
            "product": "ERP", "organization_id": beta, "contact_id": paulo, "channel": "phone", "origin": "customer"], bearer: seeded.admin)
        #expect(opened.status == 201, "\(opened.text)")
        let code = try #require((opened.json["ticket"] as? [String: Any])?["code"] as? String, "\(opened.text)")
        let id = try #require((opened.json["ticket"] as? [String: Any])?["id"] as? String, "\(opened.text)")
        #expect(try waitFor { try gateway.request("GET", "/v1/tickets?stage=", bearer: seeded.ana).text.contains(id) })

        let portuguese = try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana)
        #expect(portuguese.status == 0, "\(portuguese.error)")
        #expect(portuguese.output.contains("Canal: Telefone\n") && portuguese.output.contains("Origem: Cliente\n"), "\(portuguese.output)")
        let english = try ReplyFilesTests.ocorre(["tickets", "show", code, "--lang", "en"], gateway, token: seeded.ana)
        #expect(english.output.contains("Channel: Phone\n") && english.output.contains("Origin: Customer\n"), "\(english.output)")
        #expect(!english.output.contains("Channel: phone") && !portuguese.output.contains("Canal: phone"))
        // Renamed in intake's list: the CLI follows.
        let renamed = try gateway.request("POST", "/v1/channels", json: [
            "key": "phone", "label_pt": "Telefone fixo", "label_en": "Landline", "active": true, "position": 3], bearer: seeded.admin)
        #expect(renamed.status == 200, "\(renamed.text)")
        #expect(try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana).output.contains("Canal: Telefone fixo\n"))
        #expect(try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana, language: "en").output
            .contains("Channel: Landline\n"))
    }
}
