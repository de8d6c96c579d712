import Foundation
import IntakeCore
import Messages
import RPC
import Storage
import Synchronization
import ServiceKit
import Testing
import TestSupport

@Suite("Opening tickets", .serialized)
struct OpenTicketTests {
    @Test("a bad request names every offending field in pt and en and stores nothing", arguments: TestEngines.all)
    func validationStoresNothing(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        var request = IntakeV1.OpenTicketRequest()
        request.organizationID = acme.id
        request.channel = "telegram"
        request.category = .estrategica
        request.subject = String(repeating: "x", count: 201)
        request.customFields = [{ var value = IntakeV1.CustomFieldValue(); value.key = "nope"; value.value = "1"; return value }()]
        request.attachmentIDs = ["missing-attachment"]
        let error = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.options(IntakeHarness.customer(maria)))
        }
        #expect(error?.code == .invalidArgument)
        let fields = Set(error?.violations.map(\.field) ?? [])
        #expect(fields == ["channel", "category", "product", "subject", "request", "custom_fields.nope", "attachment_ids[0]"])
        #expect(error?.violations.first { $0.field == "category" }?.reason == "internal_only")
        #expect(error?.violations.allSatisfy { !$0.descriptionPT.isEmpty && !$0.descriptionEN.isEmpty && $0.descriptionPT != $0.descriptionEN } == true)
        #expect(try harness.count("tickets") == 0)
        #expect(try harness.count("storage_outbox") == 0)
        #expect(try harness.database.read { try $0.scalar("SELECT COUNT(*) FROM counters WHERE name LIKE 'ticket-%'") }.integerValue == 0)
    }

    @Test("an e-mail's Message-ID opens at most one ticket; tickets without one are not limited by it", arguments: TestEngines.all)
    func emailMessageIDIsUnique(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        for n in 0..<3 {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Sem e-mail \(n)"),
                                        options: harness.options(IntakeHarness.customer(maria)))
        }
        func insert(_ id: String, code: String, messageID: SQLValue) throws {
            try harness.database.write { tx in
                try tx.execute("""
                    INSERT INTO tickets (id, code, organization_id, contact_id, status, opened_at, submission_hash, email_message_id, snapshot)
                    VALUES (?, ?, ?, ?, 'open', 0, 'h', ?, ?)
                    """, [.text(id), .text(code), .text(acme.id), .text(maria.id), messageID, .blob([])])
            }
        }
        try insert("e1", code: "E-1", messageID: .text("<a@mail.example>"))
        try insert("n1", code: "N-1", messageID: .null)
        do {
            try insert("e2", code: "E-2", messageID: .text("<a@mail.example>"))
            Issue.record("a second ticket with the same Message-ID was stored")
        } catch let error as StorageError {
            #expect(error.kind == .uniqueViolation)
        }
        #expect(try harness.count("tickets") == 5)
    }

    @Test("a customer opens a ticket: readable ordered code, every field kept, TicketOpened in the outbox", arguments: TestEngines.all)
    func opens(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let asMaria = harness.options(IntakeHarness.customer(maria))
        let first = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: asMaria)
        let ticket = try #require(first.ticket)
        let year = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).year!
        #expect(ticket.code == "\(year)-000001")
        #expect(!first.duplicate)
        #expect(ticket.channel == "portal" && ticket.origin == "customer")
        #expect(ticket.contact?.id == maria.id && ticket.organization?.name == "Acme")
        #expect(ticket.details?.routine == "FIS001")
        #expect(ticket.registeredByAgent == nil)
        let second = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme, subject: "Outro assunto"), options: asMaria)
        #expect(second.ticket?.code == "\(year)-000002")

        let opened = try harness.events(IntakeV1.TicketOpened.self)
        #expect(opened.map(\.code) == ["\(year)-000001", "\(year)-000002"])
        #expect(opened[0].organization?.plan == "premium" && opened[0].contact?.email == "maria@acme.example")
        #expect(opened[0].origin == .customer && opened[0].originKey == "customer" && opened[0].category == .problema)
        #expect(opened[0].details?.database == "SQL Server")
        // One outbox row per subscriber (workflow and notification; unreachable here, so the rows
        // stay) and per watcher (the gateway's view cache: its rows are handed to open watch
        // streams and deleted by the relay, so they may be gone already).
        #expect(EventRouting.subscribers["intake"] ?? [] == ["workflow", "notification"] && EventRouting.watchers["intake"] ?? [] == ["gateway"])
        let rows = try harness.database.read { tx in
            try tx.query("SELECT event_key FROM storage_outbox").map { String(try $0.text("event_key").prefix { $0 != "|" }) }
        }
        #expect(rows.filter { $0 == "workflow" }.count == 2 && rows.filter { $0 == "notification" }.count == 2, "\(rows)")
        #expect(rows.filter { $0 == "gateway" }.count <= 2, "\(rows)")

        // GetTicket by code returns it as submitted.
        var get = IntakeV1.GetTicketRequest()
        get.ticket = ticket.code
        let read = try harness.client.call(IntakeV1.Intake.getTicket, get, options: asMaria)
        #expect(read.id == ticket.id && read.request == ticket.request && read.status == "open")
    }

    @Test("an agent registers a phone call on behalf of a customer; Estratégica is for staff", arguments: TestEngines.all)
    func agentOnBehalf(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        var request = IntakeHarness.request(acme)
        request.contactID = maria.id
        request.category = .estrategica
        request.channel = "whatsapp"
        let response = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.options(IntakeHarness.agent("agent-7")))
        #expect(response.ticket?.registeredByAgent?.id == "agent-7")
        #expect(response.ticket?.channel == "whatsapp" && response.ticket?.category == .estrategica)
        #expect(try harness.events(IntakeV1.TicketOpened.self).first?.registeredByAgent?.id == "agent-7")
    }

    @Test("permissions: a customer opens only for their own organization and only as an authorized, active contact", arguments: TestEngines.all)
    func customerPermissions(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let beta = try harness.organization("Beta", taxID: "12ABC34501DE35")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let viewer = try harness.contact(acme, "Só Leitura", email: "leitura@acme.example", authorized: false)
        let other = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(beta),
                                        options: harness.options(IntakeHarness.customer(maria)))
        }
        #expect(other?.code == .permissionDenied)
        let unauthorized = rpcError {
            _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                        options: harness.options(IntakeHarness.customer(viewer)))
        }
        #expect(unauthorized?.code == .permissionDenied)
        // A forged principal is refused before anything else.
        var forged = harness.options(IntakeHarness.customer(maria))
        forged.metadata["principal-signature"] = String(repeating: "0", count: 64)
        let unauthenticated = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme), options: forged) }
        #expect(unauthenticated?.code == .unauthenticated)
        #expect(try harness.count("tickets") == 0)
    }

    @Test("inactive organizations and (by default) suppliers cannot open tickets", arguments: TestEngines.all)
    func stateRules(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let inactive = try harness.organization("Inativa", taxID: "11222333000181", active: false)
        let supplier = try harness.organization("Fornecedor", taxID: "12ABC34501DE35", kind: .organizationSupplier)
        for organization in [inactive, supplier] {
            let contact = try harness.contact(organization, "Pessoa", email: "p\(organization.code)@x.example")
            var request = IntakeHarness.request(organization)
            request.contactID = contact.id
            let error = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.staff) }
            #expect(error?.code == .failedPrecondition)
        }
        #expect(try harness.count("tickets") == 0)
        let permissive = try IntakeHarness(engine, environment: ["INTAKE_FORBID_SUPPLIER_TICKETS": "false"])
        let allowed = try permissive.organization("Fornecedor", taxID: "12ABC34501DE35", kind: .organizationSupplier)
        let contact = try permissive.contact(allowed, "Pessoa", email: "p@x.example")
        var request = IntakeHarness.request(allowed)
        request.contactID = contact.id
        #expect(try permissive.client.call(IntakeV1.Intake.openTicket, request, options: permissive.staff).ticket != nil)
    }

    @Test("a retried open with the same idempotency key returns the very same ticket; a double submission returns the first", arguments: TestEngines.all)
    func idempotencyAndDuplicates(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let principal = IntakeHarness.customer(maria)
        let request = IntakeHarness.request(acme)
        let first = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.options(principal, key: "key-1"))
        let retry = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.options(principal, key: "key-1"))
        #expect(retry.ticket?.id == first.ticket?.id && retry.ticket?.code == first.ticket?.code)
        var changed = request
        changed.subject = "Outro"
        let reused = rpcError { _ = try harness.client.call(IntakeV1.Intake.openTicket, changed, options: harness.options(principal, key: "key-1")) }
        #expect(reused?.code == .failedPrecondition)
        // Same contact, subject and text without a key, within the window: the first ticket.
        let again = try harness.client.call(IntakeV1.Intake.openTicket, request, options: harness.options(principal))
        #expect(again.duplicate && again.ticket?.id == first.ticket?.id)
        #expect(try harness.count("tickets") == 1)
        #expect(try harness.events(IntakeV1.TicketOpened.self).count == 1)
        // With the window off, the same text opens a second ticket.
        let noWindow = try IntakeHarness(engine, environment: ["INTAKE_DUPLICATE_WINDOW_SECONDS": "0"])
        let beta = try noWindow.organization("Beta", taxID: "11222333000181")
        let joao = try noWindow.contact(beta, "João", email: "joao@beta.example")
        _ = try noWindow.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(beta), options: noWindow.options(IntakeHarness.customer(joao)))
        let twice = try noWindow.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(beta), options: noWindow.options(IntakeHarness.customer(joao)))
        #expect(!twice.duplicate)
        #expect(try noWindow.count("tickets") == 2)
    }

    @Test("six identical submissions at once (a double-clicked button) make one ticket", arguments: TestEngines.all)
    func concurrentDoubleSubmission(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let maria = try harness.contact(acme, "Maria", email: "maria@acme.example")
        let ids = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 6) { _ in
            let response = try? harness.client.call(IntakeV1.Intake.openTicket, IntakeHarness.request(acme),
                                                    options: harness.options(IntakeHarness.customer(maria)))
            ids.withLock { $0.append(response?.ticket?.id ?? "failed") }
        }
        let all = ids.withLock { $0 }
        #expect(all.count == 6 && Set(all).count == 1 && !all.contains("failed"))
        #expect(try harness.count("tickets") == 1)
    }

    @Test("two intake instances on one database open tickets concurrently: codes unique, ordered and without gaps; with group commit, without it, and without it nor a double-submission window (no contact lock)",
          arguments: TestEngines.all, [[:], ["INTAKE_GROUP_COMMIT": "false"], ["INTAKE_GROUP_COMMIT": "false", "INTAKE_DUPLICATE_WINDOW_SECONDS": "0"]])
    func twoInstancesOneDatabase(engine: DatabaseEngine, settings: [String: String]) throws {
        let first = try IntakeHarness(engine, environment: settings)
        let databaseURL = first.environment["INTAKE_DATABASE_URL"]
        let second = try IntakeHarness(engine, environment: settings, databaseURL: databaseURL, dataDirectory: first.directory.path,
                                       secret: first.secretText)
        let acme = try first.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<4).map { try first.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        let codes = Mutex<[String]>([])
        let failures = Mutex<[String]>([])
        let perThread = 15
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let harness = index % 2 == 0 ? first : second
            for n in 0..<perThread {
                do {
                    let response = try harness.client.call(IntakeV1.Intake.openTicket,
                                                           IntakeHarness.request(acme, subject: "Assunto \(index)-\(n)"),
                                                           options: harness.options(IntakeHarness.customer(contacts[index])))
                    codes.withLock { $0.append(response.ticket?.code ?? "") }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty)
        let all = codes.withLock { $0 }
        #expect(Set(all).count == 4 * perThread)
        let numbers = all.compactMap { Int($0.split(separator: "-").last ?? "") }.sorted()
        #expect(numbers == Array(1...(4 * perThread)))
        // Codes follow the order tickets were opened.
        let stored = try first.database.read { tx in
            try tx.query("SELECT code FROM tickets ORDER BY opened_at, code").map { try $0.text("code") }
        }
        #expect(stored.count == 4 * perThread)
    }
}

@Suite("Group commit of concurrent opens", .serialized)
struct GroupCommitTests {
    @Test("with INTAKE_GROUP_COMMIT, concurrent opens share transactions, yet a rejected one stores nothing and the others keep consecutive codes", arguments: TestEngines.all)
    func rejectedOpenInABatch(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine, environment: ["INTAKE_GROUP_COMMIT": "true"])
        let acme = try harness.organization("Acme", taxID: "11222333000181")
        let contacts = try (0..<8).map { try harness.contact(acme, "Pessoa \($0)", email: "p\($0)@acme.example") }
        let outcomes = Mutex<[Int: Result<String, RPCError>]>([:])
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            for round in 0..<10 {
                var request = IntakeHarness.request(acme, subject: "Assunto \(index)-\(round)")
                if index % 2 == 1 && round % 3 == 0 { request.product = "" }  // invalid: no product
                do {
                    let response = try harness.client.call(IntakeV1.Intake.openTicket, request,
                                                           options: harness.options(IntakeHarness.customer(contacts[index])))
                    outcomes.withLock { $0[index * 100 + round] = .success(response.ticket?.code ?? "") }
                } catch let error as RPCError {
                    outcomes.withLock { $0[index * 100 + round] = .failure(error) }
                } catch {
                    outcomes.withLock { $0[index * 100 + round] = .failure(RPCError(.unknown, "\(error)")) }
                }
            }
        }
        let all = outcomes.withLock { $0 }
        let failures = all.values.compactMap { if case .failure(let error) = $0 { return error } else { return nil } }
        let codes = all.values.compactMap { if case .success(let code) = $0 { return code } else { return nil } }
        #expect(failures.count == 16 && failures.allSatisfy { $0.code == .invalidArgument && $0.violations.map(\.field) == ["product"] })
        #expect(codes.count == 64)
        #expect(codes.compactMap { Int($0.split(separator: "-").last ?? "") }.sorted() == Array(1...64), "no gaps from the rejected opens")
        #expect(try harness.count("tickets") == 64)
        #expect(try harness.events(IntakeV1.TicketOpened.self).count == 64)
    }
}
