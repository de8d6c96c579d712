import CSQLite
import CSQLiteWAL
import Foundation
import IntakeCore
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Synchronization
import TestSupport

enum IntakeBench {
    struct Options {
        var engines: [DatabaseEngine] = [.sqlite, .postgres]
        var seconds = 5.0
        var clients = 8
        var attachmentBytes = 4096
        var lookupContacts = 100_000
        /// `INTAKE_GROUP_COMMIT` for the service under test; `nil`: the service's default.
        var groupCommit: Bool?
        /// Calls in flight per connection (each setting measured in turn): `--in-flight 1,8`.
        var inFlight = [1, 8]
        /// Also measure opens called in-process (no RPC) and customer lookups.
        var inProcess = true
        /// `idle`: the intake process's outbox relay polls once an hour, so events stay in the
        /// outbox as each open wrote them (its subscribers are unreachable here, and its claim
        /// query would scan the growing backlog every 200 ms); `default`: the relay as shipped.
        var relayIdle = true
        /// `--upgrade-tickets N`: only time SQLite migrations 23 and 28 on `N` tickets (``UpgradeBench``).
        var upgradeTickets = 0
        /// `--upload-first-threads true`: the uploads-first path on one blocking thread per caller
        /// (as before 2026-11-30 17:00) instead of callers chained from their answers like the other paths.
        var uploadFirstThreads = false
    }

    static func run() {
        var options = Options()
        var arguments = Array(CommandLine.arguments.dropFirst())
        while arguments.count >= 2 {
            let flag = arguments.removeFirst(), value = arguments.removeFirst()
            switch flag {
            case "--engines": options.engines = value.split(separator: ",").compactMap { DatabaseEngine(rawValue: String($0)) }
            case "--seconds": options.seconds = Double(value) ?? options.seconds
            case "--clients": options.clients = Int(value) ?? options.clients
            case "--attachment-bytes": options.attachmentBytes = Int(value) ?? options.attachmentBytes
            case "--lookup-contacts": options.lookupContacts = Int(value) ?? options.lookupContacts
            case "--relay": options.relayIdle = value == "idle"
            case "--in-process": options.inProcess = value == "true"
            case "--in-flight": options.inFlight = value.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
            case "--group-commit": options.groupCommit = value == "default" ? nil : value == "true"
            case "--upgrade-tickets": options.upgradeTickets = Int(value) ?? 0
            case "--upload-first-threads": options.uploadFirstThreads = value == "true"
            default: fail("unknown flag \(flag)")
            }
        }
        do {
            if options.upgradeTickets > 0 {
                try UpgradeBench.run(tickets: options.upgradeTickets)
                exit(0)
            }
            for engine in options.engines {
                try benchmark(engine, options)
            }
        } catch {
            fail("\(error)")
        }
        PostgresTestServer.stopAll()
        exit(0)
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("intake-bench: \(message)\n".utf8))
        PostgresTestServer.stopAll()
        exit(1)
    }

    /// A running intake process with an organization and one customer contact per caller.
    struct Service {
        let process: ServiceProcess
        let client: RPCClient
        let directory: TemporaryDirectory
        let postgresURL: String?
        let organization: IntakeV1.Organization
        let principals: [CallOptions]

        func stop() -> GroupCommitStatistics? {
            client.close()
            process.stop()
            // The intake process logs its group commit statistics when it stops (GroupCommitReport).
            guard let line = process.log.split(separator: "\n").last(where: { $0.contains("\"msg\":\"group commit\"") }),
                  let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
            var stats = GroupCommitStatistics()
            stats.opens = Int(object["opens"] as? String ?? "") ?? 0
            stats.batches = Int(object["transactions"] as? String ?? "") ?? 0
            stats.largestBatch = Int(object["largest"] as? String ?? "") ?? 0
            if let batches = Double(object["transactions"] as? String ?? ""), batches > 0 {
                let share = { (name: String) in (Double(object[name] as? String ?? "") ?? 0) / batches }
                print(String(format: "   (intake log, group commit writer per batch: idle %.0f µs, gather window %.0f µs, transaction %.0f µs, COMMIT %.0f µs, answers %.0f µs%@)",
                             share("idle_us"), share("gather_us"), share("transaction_us"), share("commit_us"), share("answer_us"),
                             object["wake_ups"] == nil ? "" : String(format: "; woken %.2f times", share("wake_ups"))))
            }
            if let checkpoints = object["checkpoints"] as? String {
                print("   (intake log: \(checkpoints) background checkpoints, largest WAL \(object["largest_wal_frames"] as? String ?? "?") frames)")
            }
            return stats
        }
    }

    /// Starts an intake process on `engine` (a new database) with `callers` customer contacts.
    static func startService(_ engine: DatabaseEngine, _ options: Options, callers: Int) throws -> Service {
        let directory = try TemporaryDirectory(prefix: "intake-bench")
        let secret = "intake-bench-\(UUID().uuidString)"
        var environment = ["OCORRENCIAS_DATA_DIR": directory.path, "OCORRENCIAS_SECRET": secret,
                           "OCORRENCIAS_LOG_LEVEL": "notice",
                           // The relay has nowhere to deliver: events stay in the outbox, as written by each open.
                           "WORKFLOW_ADDRESSES": "127.0.0.1:9", "NOTIFICATION_ADDRESSES": "127.0.0.1:9",
                           "INTAKE_DUPLICATE_WINDOW_SECONDS": "600"]
        if let groupCommit = options.groupCommit { environment["INTAKE_GROUP_COMMIT"] = groupCommit ? "true" : "false" }
        if options.relayIdle { environment["INTAKE_RELAY_POLL_MILLISECONDS"] = "3600000" }
        // Storage tuning under test (INTAKE_SQLITE_CACHE_KIB, INTAKE_SQLITE_CHECKPOINT_PAGES) comes from the bench's environment.
        for (name, value) in ProcessInfo.processInfo.environment where name.hasPrefix("INTAKE_SQLITE_") || name.hasPrefix("INTAKE_GROUP_COMMIT") || name == "INTAKE_WORKERS"
            || name == "INTAKE_RELAY_POLL_MILLISECONDS" {
            environment[name] = value
        }
        var postgresURL: String?
        if engine == .postgres {
            postgresURL = try PostgresTestServer.shared().createDatabase()
            environment["INTAKE_DATABASE_URL"] = postgresURL
        }
        let process = try ServiceProcess(name: "intake", environment: environment)
        var configuration = ClientConfiguration(endpoints: [Endpoint(host: "127.0.0.1", port: process.port)],
                                                secret: DeploymentSecret(bytes: Array(secret.utf8)))
        configuration.connectionsPerEndpoint = options.clients
        configuration.defaultTimeoutMilliseconds = 30_000
        let client = RPCClient(configuration: configuration)
        // The callers are signed once for every run: valid a day (the default lifetime is 15 minutes).
        var signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        signer.lifetimeMilliseconds = 86_400_000
        var agent = AuthV1.Principal()
        agent.kind = .agent
        agent.id = "bench-agent"
        agent.administrator = true
        let staff = CallOptions(metadata: signer.metadata(for: agent))

        var draft = IntakeV1.Organization()
        draft.name = "Bench Ltda"
        draft.taxID = "11222333000181"
        draft.kind = .organizationCustomer
        draft.active = true
        let organization = try client.call(IntakeV1.Intake.createOrganization, draft, options: staff)
        var principals: [CallOptions] = []
        for index in 0..<callers {
            var contact = IntakeV1.Contact()
            contact.organizationID = organization.id
            contact.name = "Cliente \(index)"
            contact.email = "cliente\(index)@bench.example"
            contact.authorized = true
            contact = try client.call(IntakeV1.Intake.addContact, contact, options: staff)
            var principal = AuthV1.Principal()
            principal.kind = .customer
            principal.id = contact.id
            principal.organizationID = organization.id
            principals.append(CallOptions(metadata: signer.metadata(for: principal)))
        }
        // `INTAKE_BENCH_PG_SQL`: statements run on the migrated database before the runs (schema
        // changes tried without a migration, e.g. `ALTER TABLE storage_outbox SET (fillfactor = 100)`).
        if let postgresURL, let sql = ProcessInfo.processInfo.environment["INTAKE_BENCH_PG_SQL"], !sql.isEmpty {
            try PostgresAdmin.execute(url: postgresURL, sql)
        }
        return Service(process: process, client: client, directory: directory, postgresURL: postgresURL,
                       organization: organization, principals: principals)
    }

    static func benchmark(_ engine: DatabaseEngine, _ options: Options) throws {
        print("== \(engine.rawValue): \(options.clients) connections, \(options.inFlight.map(String.init).joined(separator: " and ")) calls in flight each, \(options.seconds) s per run, group commit \(options.groupCommit.map { $0 ? "on" : "off" } ?? "default"), relay \(options.relayIdle ? "idle" : "default") ==")
        var plainRates: [Int: Double] = [:]
        var fileRates: [Int: Double] = [:]
        var inlineFileRates: [Int: Double] = [:]
        var rowBytes = 0.0
        for inFlight in options.inFlight {
            let callers = options.clients * inFlight
            let label = "\(options.clients)×\(inFlight)"
            // Opens without files, in a process of their own (its group commit statistics are theirs alone).
            let service = try startService(engine, options, callers: callers)
            let pid = service.process.process.processIdentifier
            let cpuBefore = processCPUSeconds(pid)
            let clientCPUBefore = processCPUSeconds(getpid())
            let countersBefore = processCounters(pid)
            let threadsBefore = threadCPUSeconds(pid)
            let openedBefore = try ticketCount(engine, directory: service.directory.path, url: service.postgresURL)
            let backendsBefore = service.postgresURL.map { postgresBackends(database: databaseName($0)) } ?? [:]
            let walBefore = try service.postgresURL.map(walPosition)
            let organization = service.organization, principals = service.principals, client = service.client
            let plain = try measureInFlight(options, callers: callers) { caller, n, done in
                let payload = request(organization, caller, n).serializedBytes()
                client.start(path: IntakeV1.Intake.openTicket.path, payload: payload, options: principals[caller]) { result in
                    switch result {
                    case .success: done(nil)
                    case .failure(let error): done("\(error)")
                    }
                }
            }
            let serverCPU = processCPUSeconds(pid) - cpuBefore
            let clientCPU = processCPUSeconds(getpid()) - clientCPUBefore
            let countersAfter = processCounters(pid)
            let busiest = busiestThread(threadsBefore, threadCPUSeconds(pid))
            let backendCPUUsed = service.postgresURL.map { backendCPU(from: backendsBefore, to: postgresBackends(database: databaseName($0))) }
            let opened = try ticketCount(engine, directory: service.directory.path, url: service.postgresURL) - openedBefore
            let walAfter = try service.postgresURL.map(walPosition)
            if rowBytes == 0 {
                // The size of the row intake writes per ticket, to insert the same in the raw loop.
                let probe = try openDatabase(engine == .sqlite
                                             ? DatabaseConfiguration(sqlitePath: "\(service.directory.path)/intake.sqlite")
                                             : DatabaseConfiguration(url: service.postgresURL!, sqlitePath: ""), migrations: [])
                rowBytes = try probe.read { tx in
                    try tx.queryOne("SELECT AVG(LENGTH(snapshot)) AS size FROM tickets")?.double("size") ?? 1000
                }
                probe.close()
            }
            let stats = service.stop()
            plainRates[inFlight] = plain
            print(String(format: "[%@] opens/s over RPC, no attachment:   %8.0f  (intake process CPU %.0f µs per open, its busiest thread %.0f µs; this benchmark's client %.0f µs)",
                         label, plain, serverCPU * 1e6 / Double(max(1, opened)), busiest * 1e6 / Double(max(1, opened)),
                         clientCPU * 1e6 / Double(max(1, opened))))
            if let backendCPUUsed {
                print(String(format: "[%@] PostgreSQL backends' CPU per open: %.0f µs; WAL %.0f bytes per open", label, backendCPUUsed * 1e6 / Double(max(1, opened)),
                             Double((walAfter ?? 0) - (walBefore ?? 0)) / Double(max(1, opened))))
                if ProcessInfo.processInfo.environment["INTAKE_BENCH_PG_STATS"] == "1", let url = service.postgresURL { try printPostgresStats(url: url) }
            }
            // Counts that do not depend on how busy the machine is: what the intake process asked the
            // kernel for per open (all its threads; the relay's share included).
            let perOpen = { (name: String) in Double((countersAfter[name] ?? 0) - (countersBefore[name] ?? 0)) / Double(max(1, opened)) }
            print(String(format: "[%@] intake per open: %.1f write calls (%.1f KiB), %.1f read calls (%.1f KiB), %.1f context switches (%.1f voluntary)",
                         label, perOpen("syscw"), perOpen("wchar") / 1024, perOpen("syscr"), perOpen("rchar") / 1024,
                         perOpen("voluntary_ctxt_switches") + perOpen("nonvoluntary_ctxt_switches"), perOpen("voluntary_ctxt_switches")))
            if let stats, stats.batches > 0 {
                print(String(format: "[%@] group commit over RPC: %d opens in %d transactions (%.1f per transaction, largest %d)",
                             label, stats.opens, stats.batches, Double(stats.opens) / Double(stats.batches), stats.largestBatch))
            }

            // Opens with one file each. (`--attachment-bytes 0` skips them.)
            guard options.attachmentBytes > 0 else { continue }
            let attachment = [UInt8](repeating: 0x5a, count: options.attachmentBytes)

            // The file inside the open (`OpenTicketRequest.files`): one call, one transaction,
            // kept in flight like the opens without files.
            let inline = try startService(engine, options, callers: callers)
            let inlinePID = inline.process.process.processIdentifier
            let inlineCPUBefore = processCPUSeconds(inlinePID)
            let inlineThreadsBefore = threadCPUSeconds(inlinePID)
            let inlineOpenedBefore = try ticketCount(engine, directory: inline.directory.path, url: inline.postgresURL)
            let inlineBackendsBefore = inline.postgresURL.map { postgresBackends(database: databaseName($0)) } ?? [:]
            let inlineOrganization = inline.organization, inlinePrincipals = inline.principals, inlineClient = inline.client
            let oneCall = try measureInFlight(options, callers: callers) { caller, n, done in
                var content = attachment
                // A distinct content per file, so every file is really hashed and stored.
                withUnsafeBytes(of: UInt64(caller << 40 | n)) { for (i, byte) in $0.enumerated() { content[i] = byte } }
                var open = request(inlineOrganization, caller, n + 2_000_000_000)
                var file = IntakeV1.OpenTicketFile()
                file.fileName = "print.png"
                file.contentType = "image/png"
                file.data = content
                open.files = [file]
                inlineClient.start(path: IntakeV1.Intake.openTicket.path, payload: open.serializedBytes(), options: inlinePrincipals[caller]) { result in
                    switch result {
                    case .success: done(nil)
                    case .failure(let error): done("\(error)")
                    }
                }
            }
            let inlineCPU = processCPUSeconds(inlinePID) - inlineCPUBefore
            let inlineBusiest = busiestThread(inlineThreadsBefore, threadCPUSeconds(inlinePID))
            let inlineBackendCPU = inline.postgresURL.map { backendCPU(from: inlineBackendsBefore, to: postgresBackends(database: databaseName($0))) }
            let inlineOpened = try ticketCount(engine, directory: inline.directory.path, url: inline.postgresURL) - inlineOpenedBefore
            let inlineStats = inline.stop()
            inlineFileRates[inFlight] = oneCall
            print(String(format: "[%@] opens/s over RPC, one %d-byte file inside the open (one call): %8.0f  (intake process CPU %.0f µs per open, its busiest thread %.0f µs)",
                         label, options.attachmentBytes, oneCall, inlineCPU * 1e6 / Double(max(1, inlineOpened)),
                         inlineBusiest * 1e6 / Double(max(1, inlineOpened))))
            if let inlineBackendCPU {
                print(String(format: "[%@] PostgreSQL backends' CPU per open with its file inside: %.0f µs", label,
                             inlineBackendCPU * 1e6 / Double(max(1, inlineOpened))))
            }
            if let inlineStats, inlineStats.batches > 0 {
                print(String(format: "[%@] group commit, opens with the file inside: %d opens in %d transactions (%.1f per transaction, largest %d)",
                             label, inlineStats.opens, inlineStats.batches, Double(inlineStats.opens) / Double(inlineStats.batches),
                             inlineStats.largestBatch))
            }

            // The older way, for comparison: an upload (client streaming) then the open naming
            // it, two calls in sequence per caller, each caller's next upload started when its
            // open is answered; the same callers in flight as the other two paths
            // (`--upload-first-threads true`: one blocking thread per caller instead, as before).
            let files = try startService(engine, options, callers: callers)
            let filesPID = files.process.process.processIdentifier
            let filesCPUBefore = processCPUSeconds(filesPID)
            let filesThreadsBefore = threadCPUSeconds(filesPID)
            let filesCountersBefore = processCounters(filesPID)
            let filesClientCPUBefore = processCPUSeconds(getpid())
            let filesOpenedBefore = try ticketCount(engine, directory: files.directory.path, url: files.postgresURL)
            let filesBackendsBefore = files.postgresURL.map { postgresBackends(database: databaseName($0)) } ?? [:]
            let filesOrganization = files.organization, filesPrincipals = files.principals, filesClient = files.client
            @Sendable func upload(_ caller: Int, _ n: Int) -> IntakeV1.UploadAttachmentRequest {
                var content = attachment
                // A distinct content per file, so every upload is really written and hashed.
                withUnsafeBytes(of: UInt64(caller << 40 | n)) { for (i, byte) in $0.enumerated() { content[i] = byte } }
                var first = IntakeV1.UploadAttachmentRequest()
                first.fileName = "print.png"
                first.contentType = "image/png"
                first.sizeBytes = Int64(content.count)
                first.sha256 = Digest.hex(Digest.sha256(content))
                first.data = content
                return first
            }
            let withFile: Double
            if options.uploadFirstThreads {
                var fileOptions = options
                fileOptions.clients = callers
                withFile = try measure(fileOptions) { thread, n in
                    // The whole call (opening, file, end of stream) in one write.
                    let ref = try filesClient.call(IntakeV1.Intake.uploadAttachment, requests: [upload(thread, n)], options: filesPrincipals[thread])
                    var open = request(filesOrganization, thread, n + 1_000_000_000)
                    open.attachmentIDs = [ref.id]
                    _ = try filesClient.call(IntakeV1.Intake.openTicket, open, options: filesPrincipals[thread])
                }
            } else {
                withFile = try measureInFlight(options, callers: callers) { caller, n, done in
                    // The whole upload (opening, file, end of stream) in one write; the open
                    // naming it is started from its answer.
                    filesClient.start(IntakeV1.Intake.uploadAttachment, requests: [upload(caller, n)], options: filesPrincipals[caller]) { uploaded in
                        switch uploaded {
                        case .failure(let error): done("\(error)")
                        case .success(let ref):
                            var open = request(filesOrganization, caller, n + 1_000_000_000)
                            open.attachmentIDs = [ref.id]
                            filesClient.start(path: IntakeV1.Intake.openTicket.path, payload: open.serializedBytes(), options: filesPrincipals[caller]) { result in
                                switch result {
                                case .success: done(nil)
                                case .failure(let error): done("\(error)")
                                }
                            }
                        }
                    }
                }
            }
            let filesCPU = processCPUSeconds(filesPID) - filesCPUBefore
            let filesBusiest = busiestThread(filesThreadsBefore, threadCPUSeconds(filesPID))
            let filesCountersAfter = processCounters(filesPID)
            let filesClientCPU = processCPUSeconds(getpid()) - filesClientCPUBefore
            let filesBackendCPU = files.postgresURL.map { backendCPU(from: filesBackendsBefore, to: postgresBackends(database: databaseName($0))) }
            let filesOpened = try ticketCount(engine, directory: files.directory.path, url: files.postgresURL) - filesOpenedBefore
            _ = files.stop()
            fileRates[inFlight] = withFile
            print(String(format: "[%@] opens/s over RPC, one %d-byte file uploaded first (UploadAttachment, then OpenTicket naming it: two calls): %8.0f  (intake process CPU %.0f µs per upload and open, its busiest thread %.0f µs)",
                         label, options.attachmentBytes, withFile, filesCPU * 1e6 / Double(max(1, filesOpened)),
                         filesBusiest * 1e6 / Double(max(1, filesOpened))))
            if let filesBackendCPU {
                print(String(format: "[%@] PostgreSQL backends' CPU per upload and open: %.0f µs", label, filesBackendCPU * 1e6 / Double(max(1, filesOpened))))
            }
            let perUpload = { (name: String) in
                Double((filesCountersAfter[name] ?? 0) - (filesCountersBefore[name] ?? 0)) / Double(max(1, filesOpened))
            }
            print(String(format: "[%@] intake per upload and open: %.1f write calls (%.1f KiB), %.1f read calls (%.1f KiB), %.1f context switches (%.1f voluntary); this benchmark's client %.0f µs CPU",
                         label, perUpload("syscw"), perUpload("wchar") / 1024, perUpload("syscr"), perUpload("rchar") / 1024,
                         perUpload("voluntary_ctxt_switches") + perUpload("nonvoluntary_ctxt_switches"), perUpload("voluntary_ctxt_switches"),
                         filesClientCPU * 1e6 / Double(max(1, filesOpened))))
        }

        let row = Int(rowBytes) + 200
        var rawRates: [Int: Double] = [:]
        switch engine {
        case .sqlite:
            // The issue's peer: one prepared-insert loop (a single writer), whatever the RPC depth.
            let rawDirectory = try TemporaryDirectory(prefix: "intake-raw")
            let raw = try rawSQLite(directory: rawDirectory.path, rowBytes: row, seconds: options.seconds)
            for inFlight in options.inFlight { rawRates[inFlight] = raw }
            print(String(format: "raw inserts/s of a %d-byte row:          %8.0f  (prepared insert, one transaction per row, WAL, synchronous=NORMAL, intake's cache/checkpoint; %.0f µs CPU per insert)",
                         row, raw, rawCPUPerInsert))
        case .postgres:
            // pgbench with as many clients as calls in flight: the same concurrency as the opens.
            let url = try PostgresTestServer.shared().createDatabase()
            for inFlight in options.inFlight {
                let (raw, backendCPUPerInsert) = try rawPostgres(url: url, rowBytes: row, clients: options.clients * inFlight, seconds: options.seconds)
                rawRates[inFlight] = raw
                print(String(format: "raw inserts/s of a %d-byte row, pgbench -c %d: %8.0f  (custom one-INSERT script; PostgreSQL backends' CPU %.0f µs per insert)",
                             row, options.clients * inFlight, raw, backendCPUPerInsert * 1e6))
            }
        }
        // The peer of an open with a file: the same loop inserting a row as large as the ticket's
        // and the file's bytes together (the issue: "a row of the same size").
        var rawFileRates: [Int: Double] = [:]
        if options.attachmentBytes > 0 {
            let fileRow = row + options.attachmentBytes
            switch engine {
            case .sqlite:
                let rawDirectory = try TemporaryDirectory(prefix: "intake-raw-file")
                let raw = try rawSQLite(directory: rawDirectory.path, rowBytes: fileRow, seconds: options.seconds)
                for inFlight in options.inFlight { rawFileRates[inFlight] = raw }
                print(String(format: "raw inserts/s of a %d-byte row (ticket + file): %8.0f  (%.0f µs CPU per insert)", fileRow, raw, rawCPUPerInsert))
            case .postgres:
                let url = try PostgresTestServer.shared().createDatabase()
                for inFlight in options.inFlight {
                    let (raw, backendCPUPerInsert) = try rawPostgres(url: url, rowBytes: fileRow, clients: options.clients * inFlight, seconds: options.seconds)
                    rawFileRates[inFlight] = raw
                    print(String(format: "raw inserts/s of a %d-byte row (ticket + file), pgbench -c %d: %8.0f  (PostgreSQL backends' CPU %.0f µs per insert)",
                                 fileRow, options.clients * inFlight, raw, backendCPUPerInsert * 1e6))
                }
            }
        }
        for inFlight in options.inFlight {
            let raw = rawRates[inFlight] ?? 1
            print(String(format: "[%d×%d] ratio opens/raw: %.2f (no attachment)", options.clients, inFlight, (plainRates[inFlight] ?? 0) / raw))
            if options.attachmentBytes > 0 {
                let rawFile = rawFileRates[inFlight] ?? 1
                print(String(format: "[%d×%d] ratio opens with a file / raw inserts of a row of ticket + file: %.2f (file inside the open, one call); %.2f (uploaded first, two calls)",
                             options.clients, inFlight, (inlineFileRates[inFlight] ?? 0) / rawFile, (fileRates[inFlight] ?? 0) / rawFile))
            }
        }
        guard options.inProcess else { return }
        let local = try inProcess(engine, options)
        print(String(format: "opens/s in-process (no RPC), %d threads: %8.0f  ratio to raw %.2f", options.clients, local,
                     local / (rawRates[options.inFlight.first ?? 1] ?? 1)))
        try lookup(engine, options)
    }

    /// Keeps `callers` calls in flight over the client's connections for `seconds`: each caller
    /// starts its next call from the completion of the previous one (no thread per call).
    /// `start(caller, n, done)` starts call `n` of `caller` and calls `done(nil)` on success or
    /// `done(message)` on failure.
    static func measureInFlight(_ options: Options, callers: Int,
                                _ start: @escaping @Sendable (Int, Int, @escaping @Sendable (String?) -> Void) -> Void) throws -> Double {
        let done = Mutex<Int>(0)
        let failure = Mutex<String?>(nil)
        let finished = DispatchGroup()
        let begin = Date()
        let stop = begin.addingTimeInterval(options.seconds)
        final class Chain: @unchecked Sendable {
            var next: (@Sendable (Int) -> Void)?
        }
        for caller in 0..<callers {
            finished.enter()
            let chain = Chain()
            chain.next = { n in
                if Date() >= stop || failure.withLock({ $0 != nil }) {
                    done.withLock { $0 += n }
                    chain.next = nil
                    finished.leave()
                    return
                }
                start(caller, n) { error in
                    if let error {
                        failure.withLock { $0 = error }
                        // Failures may complete synchronously: end off this stack.
                        DispatchQueue.global().async { chain.next?(n) }
                        return
                    }
                    // Straight from the connection's reader thread, as rpc-bench-client does.
                    chain.next?(n + 1)
                }
            }
            DispatchQueue.global().async { chain.next?(0) }
        }
        finished.wait()
        if let message = failure.withLock({ $0 }) { throw BenchError(message) }
        return Double(done.withLock { $0 }) / Date().timeIntervalSince(begin)
    }

    static func request(_ organization: IntakeV1.Organization, _ thread: Int, _ n: Int) -> IntakeV1.OpenTicketRequest {
        var request = IntakeV1.OpenTicketRequest()
        request.organizationID = organization.id
        request.category = .problema
        request.priority = .normal
        request.product = "ERP"
        request.module = "Fiscal"
        request.subject = "NF-e rejeitada \(thread)-\(n)"
        request.request = "Ao transmitir a nota fiscal a rotina FIS001 devolve a rejeição 539 (duplicidade). Passos: emitir, transmitir. Esperado: autorizada. Impacto: faturamento parado."
        var details = CommonV1.TechnicalDetails()
        details.systemVersion = "12.1.2310"
        details.database = "PostgreSQL"
        details.environment = "cloud"
        details.companyBranch = "01/0001"
        details.routine = "FIS001"
        details.affectedUsers = "all users"
        request.details = details
        return request
    }

    /// Ticket opens calling IntakeCore directly (same validation, transaction and outbox; no
    /// RPC, no principal signature), to separate the storage cost from the transport's.
    static func inProcess(_ engine: DatabaseEngine, _ options: Options) throws -> Double {
        let directory = try TemporaryDirectory(prefix: "intake-local")
        let configuration = engine == .sqlite
            ? DatabaseConfiguration(sqlitePath: "\(directory.path)/intake.sqlite")
            : DatabaseConfiguration(url: try PostgresTestServer.shared().createDatabase(), sqlitePath: "")
        let database = try openDatabase(configuration, migrations: IntakeService.migrations)
        defer { database.close() }
        var settings = IntakeSettings(attachmentsDirectory: directory.path + "/att")
        settings.groupCommit = options.groupCommit
        let intake = try IntakeContext(database: database, settings: settings) { _, _, _ in
            throw RPCError(.unavailable, "no workflow")
        }
        var agent = AuthV1.Principal()
        agent.kind = .agent
        agent.id = "bench"
        agent.administrator = true
        var draft = IntakeV1.Organization()
        draft.name = "Local Ltda"
        draft.taxID = "11222333000181"
        draft.kind = .organizationCustomer
        draft.active = true
        let organization = try intake.createOrganization(draft, caller: Caller(agent))
        let callers = try (0..<options.clients).map { index -> Caller in
            var contact = IntakeV1.Contact()
            contact.organizationID = organization.id
            contact.name = "Local \(index)"
            contact.email = "local\(index)@bench.example"
            contact.authorized = true
            contact = try intake.addContact(contact, caller: Caller(agent))
            var principal = AuthV1.Principal()
            principal.kind = .customer
            principal.id = contact.id
            principal.organizationID = organization.id
            return Caller(principal)
        }
        let rate = try measure(options) { thread, n in
            _ = try intake.openTicket(request(organization, thread, n), caller: callers[thread])
        }
        if let stats = intake.openCommitStatistics, stats.batches > 0 {
            print(String(format: "group commit in-process: %d opens in %d transactions (%.1f per transaction, largest %d)",
                         stats.opens, stats.batches, Double(stats.opens) / Double(stats.batches), stats.largestBatch))
        }
        return rate
    }

    nonisolated(unsafe) static var rawCPUPerInsert = 0.0

    /// The PostgreSQL backends serving `database` (their command line names it) and the CPU
    /// seconds each has used so far: the server's side of an open or of a pgbench insert.
    static func postgresBackends(database: String) -> [Int32: Double] {
        var found: [Int32: Double] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = Int32(entry),
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let command = String(decoding: data, as: UTF8.self)
            if command.hasPrefix("postgres: ") && command.contains(" \(database) ") { found[pid] = processCPUSeconds(pid) }
        }
        return found
    }

    /// The database name of a PostgreSQL URL.
    static func databaseName(_ url: String) -> String {
        String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
    }

    /// The CPU the backends used between two ``postgresBackends(database:)`` readings (a backend
    /// seen only in the later one counts whole).
    static func backendCPU(from before: [Int32: Double], to after: [Int32: Double]) -> Double {
        after.reduce(0) { $0 + $1.value - (before[$1.key] ?? 0) }
    }

    /// User + system CPU seconds a process has used so far (`/proc/<pid>/stat`), so the cost of
    /// an open can be compared on a machine shared with other work.
    static func processCPUSeconds(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (1-based over the whole line).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// User + system CPU seconds of each thread of a process so far (`/proc/<pid>/task/*/stat`).
    static func threadCPUSeconds(_ pid: Int32) -> [String: Double] {
        var result: [String: Double] = [:]
        for task in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? [] {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/stat", encoding: .utf8),
                  let close = text.lastIndex(of: ")") else { continue }
            let fields = text[text.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            result[task] = (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return result
    }

    /// The CPU seconds of the thread of `pid` that used the most between the two samples: in the
    /// intake process the group commit's writer, through which every open goes one at a time.
    static func busiestThread(_ before: [String: Double], _ after: [String: Double]) -> Double {
        after.map { $0.value - (before[$0.key] ?? 0) }.max() ?? 0
    }

    /// `/proc/<pid>/io` (read and write calls and bytes, sockets included) and the context
    /// switches of all the process's threads (`/proc/<pid>/task/*/status`).
    static func processCounters(_ pid: Int32) -> [String: Int] {
        var counters: [String: Int] = [:]
        func add(_ text: String, _ names: Set<String>) {
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 1)
                guard parts.count == 2, names.contains(String(parts[0])),
                      let value = Int(parts[1].trimmingCharacters(in: .whitespaces)) else { continue }
                counters[String(parts[0]), default: 0] += value
            }
        }
        if let io = try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8) { add(io, ["syscr", "syscw", "rchar", "wchar"]) }
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        for task in tasks {
            if let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) {
                add(status, ["voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"])
            }
        }
        return counters
    }

    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    static func ticketCount(_ engine: DatabaseEngine, directory: String, url: String?) throws -> Int {
        let database = try openDatabase(engine == .sqlite ? DatabaseConfiguration(sqlitePath: "\(directory)/intake.sqlite")
                                                          : DatabaseConfiguration(url: url!, sqlitePath: ""), migrations: [])
        defer { database.close() }
        return Int(try database.read { try $0.queryOne("SELECT COUNT(*) AS n FROM tickets")?.int("n") ?? 0 })
    }

    /// Runs `body` on `clients` threads for `seconds` and returns completed calls per second.
    static func measure(_ options: Options, _ body: @escaping @Sendable (Int, Int) throws -> Void) throws -> Double {
        let done = Mutex<Int>(0)
        let failure = Mutex<String?>(nil)
        let start = Date()
        let stop = start.addingTimeInterval(options.seconds)
        // One thread per client (not `DispatchQueue.concurrentPerform`, which runs only as many
        // iterations at once as there are cores: on this 2-core machine, 2 clients, not 8).
        let group = DispatchGroup()
        for thread in 0..<options.clients {
            group.enter()
            Thread {
                defer { group.leave() }
                var n = 0
                while Date() < stop {
                    do { try body(thread, n) } catch {
                        failure.withLock { $0 = "\(error)" }
                        return
                    }
                    n += 1
                }
                done.withLock { $0 += n }
            }.start()
        }
        group.wait()
        if let message = failure.withLock({ $0 }) { throw BenchError(message) }
        return Double(done.withLock { $0 }) / Date().timeIntervalSince(start)
    }

    /// Single-row transactions of a prepared insert on an SQLite file in WAL mode with
    /// `synchronous=NORMAL` and intake's writer cache and checkpoint interval, as intake's storage runs it,
    /// through the same VFS as intake's connections (`Shared/CSQLiteWAL`: a commit's WAL frames in
    /// one write), so the peer has every I/O advantage intake has.
    static func rawSQLite(directory: String, rowBytes: Int, seconds: Double) throws -> Double {
        var db: OpaquePointer?
        guard csqlitewal_register() == SQLITE_OK,
              sqlite3_open_v2("\(directory)/raw.sqlite", &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                              CSQLITEWAL_VFS_NAME) == SQLITE_OK else { throw BenchError("sqlite open") }
        defer { sqlite3_close(db) }
        // Intake's settings exactly: WAL, synchronous=NORMAL, and the writer tuning it opens its
        // database with (DatabaseConfiguration.tunedForWrites: 8 MiB cache, checkpoint every 4,000 pages).
        let tuned = DatabaseConfiguration(sqlitePath: "").tunedForWrites()
        for sql in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                    "PRAGMA cache_size=-\(tuned.sqliteWriterCacheKiB ?? 2000)", "PRAGMA temp_store=MEMORY", "PRAGMA wal_autocheckpoint=\(tuned.sqliteCheckpointPages ?? 1000)",
                    "CREATE TABLE raw (id TEXT PRIMARY KEY, code TEXT NOT NULL, opened_at INTEGER NOT NULL, snapshot BLOB NOT NULL)"] {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError("sqlite: \(sql)") }
        }
        var insert: OpaquePointer?
        var begin: OpaquePointer?
        var commit: OpaquePointer?
        sqlite3_prepare_v2(db, "INSERT INTO raw (id, code, opened_at, snapshot) VALUES (?, ?, ?, ?)", -1, &insert, nil)
        sqlite3_prepare_v2(db, "BEGIN IMMEDIATE", -1, &begin, nil)
        sqlite3_prepare_v2(db, "COMMIT", -1, &commit, nil)
        defer { sqlite3_finalize(insert); sqlite3_finalize(begin); sqlite3_finalize(commit) }
        let payload = [UInt8](repeating: 0x41, count: rowBytes)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        var count = 0
        let cpuStart = threadCPUSeconds()
        defer { rawCPUPerInsert = (threadCPUSeconds() - cpuStart) * 1e6 / Double(max(1, count)) }
        let start = Date()
        let stop = start.addingTimeInterval(seconds)
        while Date() < stop {
            let id = UUID().uuidString
            sqlite3_step(begin); sqlite3_reset(begin)
            sqlite3_bind_text(insert, 1, id, -1, transient)
            sqlite3_bind_text(insert, 2, "2026-\(count)", -1, transient)
            sqlite3_bind_int64(insert, 3, Int64(Date().timeIntervalSince1970 * 1000))
            _ = payload.withUnsafeBytes { sqlite3_bind_blob(insert, 4, $0.baseAddress, Int32(rowBytes), transient) }
            guard sqlite3_step(insert) == SQLITE_DONE else { throw BenchError("sqlite insert") }
            sqlite3_reset(insert)
            sqlite3_step(commit); sqlite3_reset(commit)
            count += 1
        }
        return Double(count) / Date().timeIntervalSince(start)
    }

    /// pgbench with a custom script inserting one row of `rowBytes` per transaction, on the same
    /// cluster and settings as the intake process.
    /// - Returns: inserts per second, and the CPU seconds its backends used per insert (sampled
    ///   every 50 ms while pgbench runs, so a backend's last moments may be missed).
    static func rawPostgres(url: String, rowBytes: Int, clients: Int, seconds: Double) throws -> (rate: Double, backendCPU: Double) {
        try PostgresAdmin.execute(url: url, "CREATE TABLE IF NOT EXISTS raw (id TEXT PRIMARY KEY, code TEXT NOT NULL, opened_at BIGINT NOT NULL, snapshot BYTEA NOT NULL)")
        let script = NSTemporaryDirectory() + "/intake-bench-\(UUID().uuidString).sql"
        try """
            INSERT INTO raw (id, code, opened_at, snapshot)
            VALUES (md5(random()::text || clock_timestamp()::text), 'x', (extract(epoch from clock_timestamp()) * 1000)::bigint, convert_to(repeat('A', \(rowBytes)), 'UTF8'));

            """.write(toFile: script, atomically: true, encoding: .utf8)
        defer { unlink(script) }
        let database = databaseName(url)
        let before = postgresBackends(database: database)
        let walBefore = try walPosition(url)
        let pgbench = try ChildProcess("/usr/bin/pgbench", ["-n", "-f", script, "-c", String(clients), "-j", "2", "-T", String(Int(seconds.rounded(.up))), url],
                                       output: .capture)
        // The backends' CPU, sampled while pgbench runs (they exit with it).
        final class Sampling: @unchecked Sendable {
            let lock = NSLock()
            var done = false
            var seen: [Int32: Double] = [:]
        }
        let sampling = Sampling()
        let sampler = Thread {
            while !sampling.lock.withLock({ sampling.done }) {
                let now = postgresBackends(database: database)
                sampling.lock.withLock { for (pid, cpu) in now { sampling.seen[pid] = max(sampling.seen[pid] ?? 0, cpu) } }
                usleep(50_000)
            }
        }
        sampler.start()
        pgbench.waitUntilExit()
        pgbench.waitForEndOfCapture()
        let output = pgbench.capturedText(.standardOutput)
        let seen = sampling.lock.withLock {
            sampling.done = true
            return sampling.seen
        }
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
              let tps = Double(line.dropFirst(6).split(separator: " ").first ?? "") else {
            throw BenchError("pgbench output: \(output)")
        }
        let transactions = output.split(separator: "\n").first(where: { $0.contains("number of transactions actually processed") })
            .flatMap { Double($0.split(separator: ":").last?.trimmingCharacters(in: .whitespaces).split(separator: "/").first ?? "") }
        let walBytes = Double(try walPosition(url) - walBefore)
        print(String(format: "   (pgbench: WAL %.0f bytes per insert)", walBytes / max(1, transactions ?? tps * seconds)))
        return (tps, backendCPU(from: before, to: seen) / max(1, transactions ?? tps * seconds))
    }

    /// The cluster's current WAL position in bytes (`pg_current_wal_lsn()`), to count the WAL a run wrote.
    static func walPosition(_ url: String) throws -> Int64 {
        let database = try openDatabase(DatabaseConfiguration(url: url, sqlitePath: ""), migrations: [])
        defer { database.close() }
        return try database.read { try $0.queryOne("SELECT CAST(pg_current_wal_lsn() - '0/0' AS BIGINT) AS b")?.int("b") ?? 0 }
    }

    /// `INTAKE_BENCH_PG_STATS=1`: the rows each table gained, each index's scans, and the
    /// average stored size of the new tickets' and outbox rows (which indexes a run uses, how wide
    /// its rows are).
    static func printPostgresStats(url: String) throws {
        let database = try openDatabase(DatabaseConfiguration(url: url, sqlitePath: ""), migrations: [])
        defer { database.close() }
        try database.read { tx in
            for row in try tx.query("SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE n_tup_ins + n_tup_upd > 0 ORDER BY relname") {
                print("   table \(try row.text("relname")): \(try row.int("n_tup_ins")) inserted, \(try row.int("n_tup_upd")) updated (\(try row.int("n_tup_hot_upd")) HOT)")
            }
            for row in try tx.query("SELECT relname, indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes ORDER BY relname, indexrelname") {
                print("   index \(try row.text("relname")).\(try row.text("indexrelname")): \(try row.int("idx_scan")) scans, \(try row.int("idx_tup_read")) entries read")
            }
            if let row = try tx.queryOne("SELECT AVG(pg_column_size(t.*)) AS r, AVG(pg_column_size(snapshot)) AS s FROM tickets t") {
                print(String(format: "   tickets row %.0f bytes (snapshot %.0f)", try row.double("r"), try row.double("s")))
            }
            if let row = try tx.queryOne("SELECT AVG(pg_column_size(o.*)) AS r, AVG(pg_column_size(payload)) AS p, COUNT(*) AS n FROM storage_outbox o") {
                print(String(format: "   storage_outbox row %.0f bytes (payload %.0f), %d rows", try row.double("r"), try row.double("p"), try row.int("n")))
            }
            for row in try tx.query("SELECT relname, pg_relation_size(oid) AS b FROM pg_class WHERE relname IN ('tickets', 'storage_outbox') OR relname LIKE 'tickets%' OR relname LIKE 'storage_outbox%' ORDER BY relname") {
                print("   size \(try row.text("relname")): \(try row.int("b") / 1024) KiB")
            }
        }
    }

    /// Customer lookups (code, name prefix, tax id, e-mail) with `lookupContacts` contacts over
    /// a tenth as many organizations, in-process, p50/p99 in milliseconds.
    static func lookup(_ engine: DatabaseEngine, _ options: Options) throws {
        guard options.lookupContacts > 0 else { return }
        let directory = try TemporaryDirectory(prefix: "intake-lookup")
        let configuration = engine == .sqlite
            ? DatabaseConfiguration(sqlitePath: "\(directory.path)/intake.sqlite")
            : DatabaseConfiguration(url: try PostgresTestServer.shared().createDatabase(), sqlitePath: "")
        let database = try openDatabase(configuration, migrations: IntakeService.migrations)
        defer { database.close() }
        let intake = try IntakeContext(database: database, settings: IntakeSettings(attachmentsDirectory: directory.path + "/att")) { _, _, _ in
            throw RPCError(.unavailable, "no workflow")
        }
        let organizations = max(1, options.lookupContacts / 10)
        let names = ["Silva", "Souza", "Oliveira", "Santos", "Pereira", "Lima", "Costa", "Ferreira", "Almeida", "Ribeiro"]
        let seedStart = Date()
        let batch = 5_000
        var index = 0
        while index < options.lookupContacts {
            let upper = min(index + batch, options.lookupContacts)
            let from = index
            try database.write { tx in
                for i in from..<upper {
                    if i % 10 == 0 {
                        let org = i / 10
                        try tx.execute("""
                            INSERT INTO organizations (id, code, name, name_key, tax_id, kind, active, created_at) VALUES (?, ?, ?, ?, ?, 1, 1, 0)
                            """, [.text("org-\(org)"), .text(String(format: "C%06d", org)), .text("Empresa \(names[org % 10]) \(org)"),
                                  .text("empresa \(names[org % 10].lowercased()) \(org)"), .text(String(format: "%014d", org))])
                    }
                    let name = "\(names[i % 10]) \(names[(i / 10) % 10]) \(i)"
                    try tx.execute("""
                        INSERT INTO contacts (id, organization_id, name, name_key, email, email_key, created_at) VALUES (?, ?, ?, ?, ?, ?, 0)
                        """, [.text("contact-\(i)"), .text("org-\(i / 10)"), .text(name), .text(name.lowercased()),
                              .text("pessoa\(i)@empresa\(i / 10).example"), .text("pessoa\(i)@empresa\(i / 10).example")])
                }
            }
            index = upper
        }
        if engine == .postgres { try database.write { tx in _ = try tx.execute("ANALYZE") } }
        var agent = AuthV1.Principal()
        agent.kind = .agent
        agent.id = "bench"
        let caller = Caller(agent)
        var samples: [String: [Double]] = [:]
        for i in 0..<400 {
            let n = (i * 7919) % options.lookupContacts
            let queries = [("code", String(format: "C%06d", (n / 10) % organizations)), ("e-mail", "pessoa\(n)@empresa\(n / 10).example"),
                           ("tax id", String(format: "%014d", (n / 10) % organizations)), ("name prefix", "\(names[n % 10]) \(names[(n / 10) % 10]) \(n)")]
            for (kind, query) in queries {
                var request = IntakeV1.LookupCustomersRequest()
                request.query = query
                request.limit = 20
                let start = DispatchTime.now().uptimeNanoseconds
                let result = try intake.lookupCustomers(request, caller: caller)
                samples[kind, default: []].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                if result.organizations.isEmpty && result.contacts.isEmpty { throw BenchError("lookup \(kind) '\(query)' found nothing") }
            }
        }
        print(String(format: "lookup at %d contacts / %d organizations (seeded in %.1f s), in-process:", options.lookupContacts,
                     organizations, Date().timeIntervalSince(seedStart)))
        for kind in ["code", "name prefix", "tax id", "e-mail"] {
            let sorted = samples[kind, default: []].sorted()
            print(String(format: "  %-12@ p50 %.3f ms  p99 %.3f ms  max %.3f ms", kind, sorted[sorted.count / 2],
                         sorted[sorted.count * 99 / 100], sorted.last ?? 0))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
