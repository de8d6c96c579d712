import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport
import WorkflowCore

enum WorkflowOpenBench {
    static let secret = "workflow-open-bench-secret-0123456789"

    struct Options {
        var engine = DatabaseEngine.sqlite
        var url: String?
        var events = 2000
        var concurrency = 8
        var top = 25
        /// Events per delivery (the relay sends each subscriber all of a round's events in one call).
        var batch = 1
        /// Keep the SQLite database in this directory (to inspect it afterwards) instead of a temporary one.
        var dataDirectory: String?
        /// Also deliver notification's EmailSent for every opened ticket (its history line), as end to end.
        var email = false
        /// Leave these migrations out (e.g. 180, the filter indexes on `wf_metric_tickets`), to
        /// measure what they cost an opening.
        var skipMigrations: Set<Int> = []
    }

    static func parse() -> Options {
        var options = Options()
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            let value = arguments.next() ?? ""
            switch argument {
            case "--engine": options.engine = value == "postgres" ? .postgres : .sqlite
            case "--url": options.url = value; options.engine = .postgres
            case "--events": options.events = Int(value) ?? options.events
            case "--concurrency": options.concurrency = Int(value) ?? options.concurrency
            case "--top": options.top = Int(value) ?? options.top
            case "--batch": options.batch = max(1, Int(value) ?? options.batch)
            case "--data-dir": options.dataDirectory = value
            case "--email": options.email = value == "1" || value == "yes" || value == "true"
            case "--skip-migration": if let version = Int(value) { options.skipMigrations.insert(version) }
            default: fatalError("unknown argument \(argument)")
            }
        }
        return options
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }

    static func principal() -> AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = "admin"
        principal.displayName = "Administradora"
        principal.administrator = true
        principal.accessLevel = 9
        return principal
    }

    /// The event bench-gateway's opens produce: a customer's portal ticket, routed by the default rule.
    static func opened(_ id: String, _ i: Int) -> IntakeV1.TicketOpened {
        TicketFixtures.opened(id, code: "2026-\(100000 + i)",
                              organization: TicketFixtures.organization("org-acme", name: "Acme", email: "contato@acme.example"),
                              contact: TicketFixtures.person("contact-maria", name: "Maria", email: "maria@acme.example"),
                              subject: "Bench \(i) nota fiscal não transmite", request: "Ao transmitir a NF-e a rotina devolve erro 539.",
                              openedAt: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Notification's confirmation e-mail of an opened ticket (workflow writes its history line).
    static func emailSent(_ ticketID: String) -> NotificationV1.EmailSent {
        var event = NotificationV1.EmailSent()
        event.ticketID = ticketID
        event.eventKind = "ticket_opened"
        event.recipients = ["maria@acme.example"]
        event.subject = "Recebemos sua ocorrência"
        event.outcome = "sent"
        event.serverAnswer = "250 2.0.0 Ok: queued"
        event.sentAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        return event
    }

    static func envelope<E: ProtoMessage>(_ event: E, key: String) -> EventsV1.EventEnvelope {
        var envelope = EventsV1.EventEnvelope()
        envelope.id = RandomID.uuid()   // as the outbox makes them (Foundation's UUID() opens /dev/urandom each time)
        envelope.type = E.protoName
        envelope.key = key
        envelope.source = "intake"
        envelope.occurredAtMs = Int64(Date().timeIntervalSince1970 * 1000)
        envelope.payload = event.serializedBytes()
        return envelope
    }

    struct Sample {
        var wall: Double
        var cpu: Double
        var pgCPU: Double
        var statements: Double?
        var commits: Double
    }

    /// Observes the PostgreSQL cluster: its processes' CPU, commits and pg_stat_statements.
    final class PostgresProbe {
        let database: any Database
        let statements: Bool

        init(url: String) throws {
            database = try openDatabase(DatabaseConfiguration(url: url, sqlitePath: "", poolSize: 1, applicationName: "probe"), migrations: [])
            statements = (try? database.write { tx -> Bool in
                try tx.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                _ = try tx.query("SELECT 1 FROM pg_stat_statements LIMIT 1")
                return true
            }) ?? false
        }

        func reset() throws {
            if statements { _ = try database.read { try $0.query("SELECT pg_stat_statements_reset()") } }
        }

        func cpu() throws -> Double {
            try database.read { tx in try tx.query("SELECT pid FROM pg_stat_activity") }.reduce(0) { sum, row in sum + ProcessCPU.of(Int32((try? row.int("pid")) ?? 0)) }
        }

        func commits() throws -> Double {
            Double(try database.read { tx in
                try tx.queryOne("SELECT xact_commit AS n FROM pg_stat_database WHERE datname = current_database()").flatMap { try? $0.int("n") } ?? 0
            })
        }

        /// Calls of every statement but the probe's own.
        func calls() throws -> Double? {
            guard statements else { return nil }
            return Double(try database.read { tx in
                try tx.queryOne("""
                    SELECT COALESCE(SUM(calls), 0)::bigint AS n FROM pg_stat_statements
                    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND query NOT LIKE '%pg_stat%' AND query NOT LIKE '%xact_commit%'
                    """).flatMap { try? $0.int("n") } ?? 0
            })
        }

        func top(_ n: Int, per events: Int) throws -> [String] {
            guard statements else { return [] }
            return try database.read { tx in
                try tx.query("""
                    SELECT calls, total_exec_time, total_plan_time, plans, regexp_replace(query, '\\s+', ' ', 'g') AS q FROM pg_stat_statements
                    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND query NOT LIKE '%pg_stat%' AND query NOT LIKE '%xact_commit%'
                    ORDER BY calls DESC, total_exec_time DESC LIMIT \(n)
                    """)
            }.map { row in
                let calls = Double((try? row.int("calls")) ?? 0) / Double(events)
                let time = ((try? row.double("total_exec_time")) ?? 0) * 1000 / Double(events)
                // Planning (pg_stat_statements.track_planning, on in scripts/bench-workflow-open).
                let plan = ((try? row.double("total_plan_time")) ?? 0) * 1000 / Double(events)
                let plans = Double((try? row.int("plans")) ?? 0) / Double(events)
                return String(format: "%6.2f/ev %7.1f µs/ev  plan %5.2f/ev %6.1f µs/ev  ", calls, time, plans, plan)
                    + String(((try? row.text("q")) ?? "").prefix(130))
            }
        }
    }

    static func run() {
        let options = parse()
        do {
            try measure(options)
        } catch {
            FileHandle.standardError.write(Data("workflow-open-bench: \(error)\n".utf8))
            exit(1)
        }
        PostgresTestServer.stopAll()
    }

    static func measure(_ options: Options) throws {
        let directory = try TemporaryDirectory()
        var environment = ["OCORRENCIAS_DATA_DIR": options.dataDirectory ?? directory.path, "OCORRENCIAS_SECRET": secret,
                           "WORKFLOW_PORT": String(try FreePort.next()),
                           // No subscriber runs: published events stay in the outbox (the relay's
                           // own cost is not workflow's consumer cost).
                           "NOTIFICATION_ADDRESSES": "127.0.0.1:1", "KNOWLEDGE_ADDRESSES": "127.0.0.1:1",
                           "INTAKE_ADDRESSES": "127.0.0.1:1", "GATEWAY_ADDRESSES": "127.0.0.1:1"]
        var url = options.url
        if options.engine == .postgres && url == nil { url = try PostgresTestServer.shared().createDatabase() }
        if let url { environment["WORKFLOW_DATABASE_URL"] = url }
        let configuration = try ServiceConfiguration(serviceName: "workflow", arguments: ["bench"], environment: environment)
        let host = try ServiceMain.start(configuration: configuration,
                                         migrations: WorkflowService.migrations.filter { !options.skipMigrations.contains($0.version) },
                                         logger: Logger(service: "workflow", level: .critical),
                                         databaseTuning: WorkflowService.databaseTuning) { runtime, router in
            try WorkflowService.register(runtime: runtime, router: &router)
        }
        defer { host.stop() }
        var clientConfiguration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: host.port)],
                                                      secret: DeploymentSecret(bytes: Array(secret.utf8)))
        clientConfiguration.callerName = "intake"
        let client = RPCClient(configuration: clientConfiguration)
        defer { client.close() }
        // Signed once for the whole run: valid a day (a principal's default lifetime is 15 minutes).
        var signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        signer.lifetimeMilliseconds = 86_400_000
        let metadata = signer.metadata(for: principal())
        let call = CallOptions(timeoutMilliseconds: 30_000, metadata: metadata)
        try seed(client, call)
        let probe = try url.map { try PostgresProbe(url: $0) }

        print("== workflow-open-bench: engine \(options.engine.rawValue), \(options.events) events, concurrency \(options.concurrency), \(options.batch) per delivery, skipped migrations \(options.skipMigrations.sorted()), load \(loadAverage()) ==")
        print("pg_stat_statements: \(probe.map { $0.statements ? "yes" : "not preloaded" } ?? "n/a")")
        let run = UUID().uuidString.prefix(8)
        // Ticket ids as intake makes them (time-ordered UUIDs: a run's tickets sort together).
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let warmIDs = RandomID.timeOrdered(200, milliseconds: now - 1000), ids = RandomID.timeOrdered(options.events, milliseconds: now)
        // Warm-up: connections, statement caches, the first pages of every index.
        _ = try deliver(client, count: 200, concurrency: options.concurrency, batch: options.batch) { i in envelope(opened(warmIDs[i], i), key: warmIDs[i]) }
        var cases: [(String, @Sendable (Int) -> EventsV1.EventEnvelope)] = [
            ("floor (ignored event type)", { i in envelope(WorkflowV1.Transferred(), key: "F\(run)-\(i)") }),
            ("TicketOpened", { i in envelope(opened(ids[i], i), key: ids[i]) })]
        if options.email { cases.append(("EmailSent (history line)", { i in envelope(emailSent(ids[i]), key: ids[i]) })) }
        for (label, make) in cases {
            try probe?.reset()
            let before = Sample(wall: Date().timeIntervalSince1970, cpu: ProcessCPU.own(), pgCPU: try probe?.cpu() ?? 0,
                                statements: try probe?.calls(), commits: try probe?.commits() ?? 0)
            _ = try deliver(client, count: options.events, concurrency: options.concurrency, batch: options.batch, make)
            let after = Sample(wall: Date().timeIntervalSince1970, cpu: ProcessCPU.own(), pgCPU: try probe?.cpu() ?? 0,
                               statements: try probe?.calls(), commits: try probe?.commits() ?? 0)
            let n = Double(options.events)
            var line = String(format: "%-28@ %7.0f ev/s  process CPU %6.0f µs/ev", label as NSString, n / (after.wall - before.wall),
                              (after.cpu - before.cpu) * 1e6 / n)
            if probe != nil {
                line += String(format: "  PostgreSQL CPU %6.0f µs/ev  commits %.2f/ev", (after.pgCPU - before.pgCPU) * 1e6 / n,
                               (after.commits - before.commits) / n)
                if let s0 = before.statements, let s1 = after.statements { line += String(format: "  statements %.2f/ev", (s1 - s0) / n) }
            }
            print(line)
            if label == "TicketOpened", let probe, options.top > 0 {
                for text in try probe.top(options.top, per: options.events) { print("  " + text) }
            }
        }
        print("load after: \(loadAverage())")
    }

    /// Delivers `count` envelopes, `batch` per call (each of its own key, as a relay round's
    /// events), from `concurrency` threads.
    static func deliver(_ client: RPCClient, count: Int, concurrency: Int, batch: Int = 1,
                        _ make: @escaping @Sendable (Int) -> EventsV1.EventEnvelope) throws -> Int {
        let next = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let group = DispatchGroup()
        for _ in 0..<concurrency {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while true {
                    let first = next.add(batch, ordering: .relaxed).oldValue
                    guard first < count else { return }
                    var request = EventsV1.DeliverEventsRequest()
                    request.events = (first..<min(count, first + batch)).map(make)
                    request.partial = true
                    do {
                        let response = try client.call(EventsV1.EventSink.deliver, request, options: CallOptions(timeoutMilliseconds: 30_000))
                        if response.accepted != request.events.count { failures.withLock { $0.append("not accepted: \(response.failures)") } }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        group.wait()
        let failed = failures.withLock { $0 }
        if !failed.isEmpty { throw RPCError(.internal, "\(failed.count) deliveries failed: \(failed.prefix(3))") }
        return count
    }

    /// bench-gateway's directory: agent Ana in group n1, a default routing rule to n1.
    static func seed(_ client: RPCClient, _ call: CallOptions) throws {
        var agent = WorkflowV1.PutAgentRequest()
        agent.agent = WorkflowV1.Agent()
        agent.agent?.id = "A-ana"
        agent.agent?.name = "Ana"
        agent.agent?.email = "ana@bench.example"
        agent.agent?.maxAccessLevel = 1
        agent.agent?.active = true
        _ = try client.call(WorkflowV1.Workflow.putAgent, agent, options: call)
        var group = WorkflowV1.PutGroupRequest()
        group.group = WorkflowV1.Group()
        group.group?.id = "n1"
        group.group?.name = "N1"
        group.group?.active = true
        _ = try client.call(WorkflowV1.Workflow.putGroup, group, options: call)
        var member = WorkflowV1.SetMembershipRequest()
        member.groupID = "n1"
        member.agentID = "A-ana"
        member.member = true
        _ = try client.call(WorkflowV1.Workflow.setMembership, member, options: call)
        var rule = WorkflowV1.PutRoutingRuleRequest()
        rule.rule = WorkflowV1.RoutingRule()
        rule.rule?.id = "default"
        rule.rule?.position = 100
        rule.rule?.groupID = "n1"
        _ = try client.call(WorkflowV1.Workflow.putRoutingRule, rule, options: call)
    }
}
