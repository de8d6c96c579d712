import Foundation
import Testing
import TestSupport

/// `ocorre` as a support agent, a developer and an ERP integrator use it, following only its help
/// and docs/GATEWAY.md: each test pins a defect found that way (see the commit messages).
@Suite("ocorre as people use it: sign-in address, tables, help, describe, errors for scripts, opening for a customer", .serialized)
struct CLIUsageTests {
    /// Terminal columns as a terminal shows the test's texts: the emoji and CJK used here take 2,
    /// a combining accent 0, everything else 1 (the CLI's own rule is `String.displayWidth`).
    static func columns(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { total, scalar in
            if scalar.value == 0x301 || scalar.value == 0xFE0F { return total }
            if "🧾☕🥖日本語テスト".unicodeScalars.contains(scalar) { return total + 2 }
            return total + 1
        }
    }

    /// A SQLite deployment behind the gateway, seeded as `TicketFlowTests` does (Ana, Maria, Acme).
    static func seeded() throws -> (ProxyTests.Deployment, GatewayHarness, TicketFlowTests.Seeded) {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        return (deployment, deployment.gateway, try TicketFlowTests.seed(deployment.gateway))
    }

    @Test("a second ocorre login without --url keeps signing in where the first did (it saved the default address, so every later command went to 127.0.0.1:8080); an unreachable gateway is named in the error; whoami prints booleans as true/false")
    func loginKeepsTheAddress() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre-login.json"
        let url = "http://127.0.0.1:\(deployment.gateway.httpPort)"
        func run(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, error: String) {
            // OCORRE_URL empty: unset, as on a developer's machine.
            try GatewayHarness.run(BuildProducts.executable("ocorre"), arguments, environment: ["OCORRE_CONFIG": config, "OCORRE_URL": ""],
                                   input: input)
        }
        let first = try run(["--url", url, "login", "--email", GatewayHarness.adminEmail, "--password-stdin"], input: GatewayHarness.adminPassword)
        #expect(first.status == 0, "\(first.error)")
        let again = try run(["login", "--email", GatewayHarness.adminEmail, "--password-stdin"], input: GatewayHarness.adminPassword)
        #expect(again.status == 0, "\(again.error)")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: String]
        #expect(saved?["url"] == url, "\(saved ?? [:])")
        let whoami = try run(["whoami"])
        #expect(whoami.status == 0 && whoami.output.contains("administrator=true") && !whoami.output.contains("administrator=1"),
                "\(whoami.output) \(whoami.error)")
        // --json says what logout did, as every other command answers something a script can read.
        let logout = try run(["logout", "--json"])
        #expect(logout.status == 0 && logout.output.contains("signed_out"), "\(logout.output)")
        let nobody = try run(["--url", "http://127.0.0.1:1", "whoami"])
        #expect(nobody.status == 1 && nobody.error.contains("http://127.0.0.1:1"), "\(nobody.error)")
    }

    @Test("settings are checked before any call (exit 2 naming them): a damaged saved login is said to be damaged (it was taken as no login, and the command called 127.0.0.1:8080), a --url that is not http(s) and an unknown --lang are refused; logout keeps the address, so the next command asks to sign in again at the same gateway")
    func settingsBeforeCalls() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre-settings.json"
        let url = "http://127.0.0.1:\(deployment.gateway.httpPort)"
        func run(_ arguments: [String], input: String = "", language: String = "") throws -> (status: Int32, output: String, error: String) {
            try GatewayHarness.run(BuildProducts.executable("ocorre"), arguments, environment: ["OCORRE_CONFIG": config, "OCORRE_URL": "", "OCORRE_LANG": language],
                                   input: input)
        }
        func login() throws {
            let signed = try run(["--url", url, "login", "--email", GatewayHarness.adminEmail, "--password-stdin"], input: GatewayHarness.adminPassword)
            #expect(signed.status == 0, "\(signed.error)")
        }
        try login()
        try Data("{corrompido".utf8).write(to: URL(fileURLWithPath: config))
        let damaged = try run(["whoami"])
        #expect(damaged.status == 2 && damaged.error.contains(config) && damaged.error.contains("ocorre login") && !damaged.error.contains("8080"),
                "\(damaged.error)")
        try login()  // login writes it anew
        #expect(try run(["whoami"]).status == 0)
        for arguments in [["--url", "ftp://suporte", "whoami"], ["--url", "suporte:8080", "whoami"]] {
            let refused = try run(arguments)
            #expect(refused.status == 2 && refused.error.contains("--url"), "\(arguments): \(refused.error)")
        }
        let language = try run(["--lang", "xx", "whoami"])
        #expect(language.status == 2 && language.error.contains("--lang"), "\(language.error)")
        #expect(try run(["whoami"], language: "klingon").status == 2)
        #expect(try run(["--lang", "en", "whoami"]).status == 0)
        #expect(try run(["logout"]).status == 0)
        let after = try run(["whoami"])
        #expect(after.status == 1 && after.error.contains("401") && after.error.contains("ocorre login") && !after.error.contains("8080"),
                "the saved address is kept: \(after.error)")
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: config))) as? [String: String]
        #expect(saved == ["url": url], "\(saved ?? [:])")
    }

    @Test("without --rpc or OCORRE_RPC the RPC commands call the gateway's host (--url's, or the saved login's) on port 7190, not 127.0.0.1:7190, and a failure names the address called; --rpc still wins")
    func rpcFollowsTheURL() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let config = deployment.gateway.directory.path + "/ocorre-rpc.json"
        func run(_ arguments: [String], input: String = "") throws -> (status: Int32, output: String, error: String) {
            // Both unset, as on a developer's machine; a key that no gateway knows.
            try GatewayHarness.run(BuildProducts.executable("ocorre"), arguments,
                                   environment: ["OCORRE_CONFIG": config, "OCORRE_URL": "", "OCORRE_RPC": "", "OCORRE_API_KEY": "ocr_x_y"],
                                   input: input)
        }
        // --url's host (TEST-NET-1, where nothing answers): the RPC port there, named in the error.
        let byURL = try run(["--url", "https://192.0.2.1:8443", "methods"])
        #expect(byURL.status == 1 && byURL.error.contains("192.0.2.1:7190") && !byURL.error.contains("127.0.0.1:7190"), "\(byURL.error)")
        // The saved login's address: signed in at "localhost", the RPC commands go to localhost:7190.
        let login = try run(["--url", "http://localhost:\(deployment.gateway.httpPort)", "login", "--email", GatewayHarness.adminEmail,
                             "--password-stdin"], input: GatewayHarness.adminPassword)
        #expect(login.status == 0, "\(login.error)")
        let bySavedLogin = try run(["methods"])
        #expect(bySavedLogin.status == 1 && bySavedLogin.error.contains("localhost:7190"), "\(bySavedLogin.error)")
        // --rpc (and OCORRE_RPC) still name the port: the deployment's own, where the key is refused.
        let explicit = try run(["--url", "https://192.0.2.1:8443", "--rpc", "127.0.0.1:\(deployment.gateway.proxyPort)", "methods"])
        #expect(explicit.status == 1 && explicit.error.contains("127.0.0.1:\(deployment.gateway.proxyPort)")
                && !explicit.error.contains("192.0.2.1"), "\(explicit.error)")
    }

    @Test("tables line up in terminal columns with accents, emoji and East Asian text, and never cut a letter off a subject that fits; health and methods speak Portuguese or English; methods never cuts the names call takes; describe shows a method's fields and enum values")
    func tablesAndReflection() throws {
        let (deployment, gateway, seeded) = try Self.seeded()
        // Each subject by a word of its own and its last word (nothing cut off).
        let subjects = [("emitida", "Nota fiscal não é emitida 🧾 após atualização"), ("pão", "Ação: café ☕ e pão 🥖 — São João 日本語テスト"),
                        ("decomposto", "Cafe\u{301} decomposto e combinação")]
        for (_, subject) in subjects { _ = try ReplyFilesTests.openTicket(gateway, seeded, subject: subject) }
        let list = try ReplyFilesTests.ocorre(["tickets", "list"], gateway, token: seeded.maria)
        #expect(list.status == 0, "\(list.error)")
        let lines = list.output.split(separator: "\n").map(String.init)
        for (word, subject) in subjects {
            let row = try #require(lines.first { $0.contains(word) }, "\(subject) in\n\(list.output)")
            let last = String(subject.split(separator: " ").last!)
            #expect(row.contains(last + " "), "whole subject \(subject) in\n\(row)")
            // The next column (the stage) starts where the header's does.
            let stage = try #require(row.range(of: "  Aguardando"))
            let header = try #require(lines.first?.range(of: "ETAPA"))
            #expect(Self.columns(String(row[..<stage.lowerBound])) + 2 == Self.columns(String(lines[0][..<header.lowerBound])), "\(list.output)")
        }

        let config = gateway.directory.path + "/ocorre.json"
        let key = try CLITests.adminKey(deployment, config: config)
        let health = try CLITests.ocorre(["health"], deployment, config: config)
        #expect(health.status == 0 && health.output.contains("SERVIÇO") && health.output.contains("pronto"), "\(health.output)")
        let healthEN = try CLITests.ocorre(["health", "--lang", "en"], deployment, config: config)
        #expect(healthEN.output.contains("SERVICE") && healthEN.output.contains("ready"), "\(healthEN.output)")

        let methods = try CLITests.ocorre(["methods"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(methods.status == 0 && methods.output.hasPrefix("MÉTODO"), "\(methods.error)")
        #expect(methods.output.contains("/ocorrencias.notification.v1.Notification/RotateWebhookSecret ") && !methods.output.contains("…"),
                "\(methods.output)")
        let describe = try CLITests.ocorre(["describe", "intake/OpenTicket"], deployment, config: config, extra: ["OCORRE_API_KEY": key])
        #expect(describe.status == 0, "\(describe.error)")
        for expected in ["/ocorrencias.intake.v1.Intake/OpenTicket", "ocorrencias.intake.v1.OpenTicketRequest", "organization_id",
                         "PROBLEMA, DUVIDA", "lista de ocorrencias.intake.v1.OpenTicketFile", "ocorrencias.intake.v1.OpenTicketFile\n"] {
            #expect(describe.output.contains(expected), "missing \(expected) in\n\(describe.output)")
        }
        let described = try CLITests.ocorre(["describe", "ocorrencias.rpc.v1.EchoRequest", "--json"], deployment, config: config)
        let messages = (try? JSONSerialization.jsonObject(with: Data(described.output.utf8)) as? [String: Any])?["messages"] as? [[String: Any]]
        #expect((messages?.first?["fields"] as? [[String: Any]])?.first?["type"] as? String == "bytes (base64)", "\(described.output)")
        let unknown = try CLITests.ocorre(["describe", "ocorrencias.intake.v1.Nope"], deployment, config: config)
        #expect(unknown.status == 2, "\(unknown.error)")
    }

    @Test("errors for scripts and people: --json prints the API's or the RPC's error on standard output (exit 1); a call's JSON that does not fit the request is a usage error (exit 2) naming the field; an empty OCORRE_API_KEY is no key; each command has its --help; kb search sends C++ & Delphi as one query")
    func errorsAndHelp() throws {
        let (deployment, gateway, seeded) = try Self.seeded()
        let config = gateway.directory.path + "/ocorre.json"
        let key = try CLITests.adminKey(deployment, config: config)

        let refused = try CLITests.ocorre(["post", "/v1/knowledge/articles", #"{"visibility": "PUBLIC"}"#, "--json"], deployment, config: config)
        #expect(refused.status == 1, "\(refused.error)")
        let error = (try? JSONSerialization.jsonObject(with: Data(refused.output.utf8)) as? [String: Any])?["error"] as? [String: Any]
        #expect(error?["code"] as? String == "INVALID_ARGUMENT" && (error?["details"] as? [[String: Any]])?.first?["field"] as? String == "visibility",
                "\(refused.output)")
        let wrongType = try CLITests.ocorre(["call", "intake/OpenTicket", #"{"subject": 5}"#, "--json"], deployment, config: config,
                                            extra: ["OCORRE_API_KEY": key])
        #expect(wrongType.status == 2 && wrongType.error.contains("subject"), "\(wrongType.error)")
        let local = (try? JSONSerialization.jsonObject(with: Data(wrongType.output.utf8)) as? [String: Any])?["error"] as? [String: Any]
        #expect((local?["details"] as? [[String: Any]])?.first?["field"] as? String == "subject", "\(wrongType.output)")
        let denied = try CLITests.ocorre(["methods", "--json"], deployment, config: config, extra: ["OCORRE_API_KEY": "ocr_x_y"])
        #expect(denied.status == 1 && denied.output.contains("UNAUTHENTICATED"), "\(denied.output) \(denied.error)")
        // A refused key over HTTP is not cured by signing in: the hint says so.
        let revoked = try ReplyFilesTests.ocorre(["tickets", "list"], gateway, token: "")
        #expect(revoked.status == 1 && revoked.error.contains("ocorre login"), "\(revoked.error)")
        let refusedKey = try GatewayHarness.run(BuildProducts.executable("ocorre"), ["tickets", "list"], environment: [
            "OCORRE_URL": "http://127.0.0.1:\(gateway.httpPort)", "OCORRE_API_KEY": "ocr_x_y", "OCORRE_CONFIG": config + ".none"])
        #expect(refusedKey.status == 1 && refusedKey.error.contains("API key was refused") && !refusedKey.error.contains("ocorre login"),
                "\(refusedKey.error)")
        let emptyKey = try CLITests.ocorre(["call", "intake/Check"], deployment, config: config, extra: ["OCORRE_API_KEY": ""])
        #expect(emptyKey.status == 2 && emptyKey.error.contains("--api-key"), "\(emptyKey.error)")

        for (arguments, expected) in [(["tickets", "--help"], "--organization"), (["help", "call"], "--idempotency-key"),
                                      (["describe", "-h"], "SERVICE/METHOD"), (["--help"], "Saída / exit")] {
            let help = try CLITests.ocorre(arguments, deployment, config: config)
            #expect(help.status == 0 && help.output.contains(expected), "\(arguments): \(help.output)")
        }
        // An answer that is not JSON (a CSV export) prints as it came, ready for `> file.csv`.
        let csv = try CLITests.ocorre(["get", "/v1/tickets/export.csv"], deployment, config: config)
        #expect(csv.status == 0 && csv.output.hasPrefix("code,subject,"), "\(csv.output.prefix(200))")
        // A path typed without its slash; a list flag's bad value named by its flag.
        #expect(try CLITests.ocorre(["get", "v1/me"], deployment, config: config).status == 0)
        let pageSize = try ReplyFilesTests.ocorre(["tickets", "list", "--page-size", "muitas"], gateway, token: seeded.ana)
        #expect(pageSize.status == 1 && pageSize.error.contains("page_size (--page-size)"), "\(pageSize.error)")
        // A mistyped option: the closest one, then the command's own help (not the whole usage).
        let typo = try CLITests.ocorre(["tickets", "open", "--subject", "S", "--atach", "a.png"], deployment, config: config)
        #expect(typo.status == 2 && typo.error.contains("did you mean --attach?") && typo.error.contains("ocorre tickets SUBCOMMAND")
                && !typo.error.contains("kb search"), "\(typo.error)")
        let bare = try CLITests.ocorre([], deployment, config: config)
        #expect(bare.status == 2 && bare.error.contains("uso / usage") && bare.output.isEmpty, "\(bare.output)")

        #expect(try gateway.request("POST", "/v1/knowledge/articles", json: [
            "kind": "FAQ", "title": "Exportar para C++ & Delphi", "body_markdown": "Use o exportador.", "product": "ERP",
            "visibility": "VISIBILITY_CUSTOMERS", "state": "PUBLISHED"], bearer: seeded.admin).status == 201)
        let found = try ReplyFilesTests.ocorre(["kb", "search", "C++ & Delphi"], gateway, token: seeded.maria)
        #expect(found.status == 0 && found.output.contains("Exportar para C++ & Delphi"), "\(found.output) \(found.error)")
    }

    @Test("staff and integrations open a ticket for a customer with --organization and --contact (a refusal names the flags beside the fields; an integration key's open is on the api channel, not phone); an unknown category lists the accepted ones; open and reply print one line with the code; --idempotency-key makes a retried open answer the first ticket; history names its kinds")
    func openForCustomer() throws {
        let (deployment, gateway, seeded) = try Self.seeded()
        defer { withExtendedLifetime(deployment) {} }  // its services run while it lives
        let me = try gateway.request("GET", "/v1/me", bearer: seeded.maria).json["user"] as? [String: Any]
        let contact = try #require(me?["contact_id"] as? String)

        let missing = try ReplyFilesTests.ocorre(["tickets", "open", "--subject", "Pelo telefone", "--category", "problema", "--priority", "alta"],
                                                 gateway, token: seeded.ana)
        #expect(missing.status == 1 && missing.error.contains("organization_id (--organization)") && missing.error.contains("request (--description)"),
                "\(missing.error)")
        // Both halves of the message name the fields (the Portuguese one used to stop at "ocorrência inválida").
        #expect(missing.error.contains("ocorrência inválida: organization_id") && missing.error.contains("invalid ticket: organization_id"),
                "\(missing.error)")
        let category = try ReplyFilesTests.ocorre(["tickets", "open", "--category", "melhoria"], gateway, token: seeded.ana)
        #expect(category.status == 2 && category.error.contains("Sugestão de melhoria"), "\(category.error)")
        // The start of one name is enough; the start of several is not.
        let ambiguous = try ReplyFilesTests.ocorre(["tickets", "list", "--category", "es"], gateway, token: seeded.ana)
        #expect(ambiguous.status == 2, "\(ambiguous.error)")
        let started = try ReplyFilesTests.ocorre(["tickets", "list", "--category", "sugestao", "--priority", "urg"], gateway, token: seeded.ana)
        #expect(started.status == 0, "\(started.error)")

        let open = ["tickets", "open", "--subject", "Pelo telefone", "--description", "Cliente ligou.", "--category", "problema",
                    "--priority", "alta", "--product", "ERP", "--organization", seeded.organizationID, "--contact", contact,
                    "--idempotency-key", "cli-open-1"]
        let opened = try ReplyFilesTests.ocorre(open, gateway, token: seeded.ana)
        #expect(opened.status == 0, "\(opened.error)")
        let line = opened.output.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.contains(": aberta · Pelo telefone") && !opened.output.contains("cancel_reason"), "\(opened.output)")
        let code = String(line.prefix { $0 != ":" })
        let retried = try ReplyFilesTests.ocorre(open + ["--json"], gateway, token: seeded.ana)
        let ticket = (try? JSONSerialization.jsonObject(with: Data(retried.output.utf8)) as? [String: Any])?["ticket"] as? [String: Any]
        #expect(ticket?["code"] as? String == code, "\(retried.output) \(retried.error)")

        // The ticket page shows the agent the SLA's targets (the view's row carries none), the customer not.
        #expect(waitFor(30) { (try? ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.ana).output
                    .contains("SLA solução: em curso, prazo ")) == true })
        let customerPage = try ReplyFilesTests.ocorre(["tickets", "show", code], gateway, token: seeded.maria)
        #expect(customerPage.status == 0 && !customerPage.output.contains("SLA"), "\(customerPage.output)")
        // A stage typed by its name, as the page shows it, for a move and for a list.
        let moved = try ReplyFilesTests.ocorre(["tickets", "move", code, "--stage", "Em Atendimento"], gateway, token: seeded.ana)
        #expect(moved.status == 0 && moved.output.contains("\(code) · Em atendimento"), "\(moved.output) \(moved.error)")
        #expect(waitFor(10) { (try? ReplyFilesTests.ocorre(["tickets", "list", "--stage", "em atendimento"], gateway, token: seeded.ana)
                    .output.contains(code)) == true })
        let reply = try ReplyFilesTests.ocorre(["tickets", "reply", code, "--text", "Segue o print."], gateway, token: seeded.maria)
        #expect(reply.status == 0 && reply.output.hasPrefix("\(code): resposta enviada"), "\(reply.output) \(reply.error)")
        #expect(waitFor(30) { (try? ReplyFilesTests.ocorre(["tickets", "history", code], gateway, token: seeded.ana).output.contains("Aberta")) == true })

        // An integration key's open naming no channel came through the API (it was recorded as "phone").
        let key = try #require(try gateway.request("POST", "/v1/api-keys", json: ["name": "erp"], bearer: seeded.admin).json["key"] as? String)
        let byKey = try ReplyFilesTests.ocorre(["tickets", "open", "--subject", "Pelo ERP", "--description", "Nota rejeitada.", "--category", "problema",
                                                "--priority", "normal", "--product", "ERP", "--organization", seeded.organizationID,
                                                "--contact", contact, "--json"], gateway, token: key)
        let keyTicket = (try? JSONSerialization.jsonObject(with: Data(byKey.output.utf8)) as? [String: Any])?["ticket"] as? [String: Any]
        #expect(byKey.status == 0 && keyTicket?["channel"] as? String == "api", "\(byKey.output) \(byKey.error)")
        let keyCode = keyTicket?["code"] as? String ?? ""
        // (Ana sees it once workflow has it.)
        #expect(waitFor(30) { (try? ReplyFilesTests.ocorre(["tickets", "show", keyCode], gateway, token: seeded.ana).output
                    .contains("Canal: Integração (API)\n")) == true },
                "\((try? ReplyFilesTests.ocorre(["tickets", "show", keyCode], gateway, token: seeded.ana)).map { $0.output + $0.error } ?? "")")
    }

    @Test("a download keeps a file's non-ASCII name for every client: an ASCII filename (accents folded) and RFC 6266's filename*=UTF-8'' (it was the raw UTF-8 bytes in filename alone, read as Latin-1)")
    func downloadName() throws {
        let (deployment, gateway, seeded) = try Self.seeded()
        defer { withExtendedLifetime(deployment) {} }
        let opened = try gateway.request("POST", "/v1/tickets", json: [
            "subject": "Relatório", "request": "Segue.", "category": "DUVIDA", "priority": "NORMAL", "product": "ERP",
            "files": [["file_name": "relatório de ação (v2).txt", "data": Data("ok".utf8).base64EncodedString()],
                      ["file_name": "plain-name.txt", "data": Data("ok".utf8).base64EncodedString()]]], bearer: seeded.maria)
        let files = try #require((opened.json["ticket"] as? [String: Any])?["attachments"] as? [[String: Any]], "\(opened.text)")
        var dispositions: [String] = []
        for file in files {
            let download = try gateway.request("GET", "/v1/attachments/\(file["id"] as? String ?? "")", bearer: seeded.maria)
            #expect(download.status == 200 && download.text == "ok")
            dispositions.append(download.header("Content-Disposition") ?? "")
        }
        #expect(dispositions == ["attachment; filename=\"relatorio de acao (v2).txt\"; filename*=UTF-8''relat%C3%B3rio%20de%20a%C3%A7%C3%A3o%20%28v2%29.txt",
                                 "attachment; filename=\"plain-name.txt\""], "\(dispositions)")
    }
}
