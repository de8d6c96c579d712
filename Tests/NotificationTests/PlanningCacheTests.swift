import Foundation
import Messages
@testable import NotificationCore
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// Templates, webhooks and subscriptions are kept in memory while planning; a change written by
/// anyone (another instance sharing the database, here plain SQL) is seen by the next event.
@Suite("Notification: planning cache and its invalidation", .serialized)
struct PlanningCacheTests {
    @Test("A template, a subscription switch and a webhook written by another instance apply to the next event", arguments: TestEngines.all)
    func changesByAnotherInstance(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let version = { try harness.database.read { tx in try tx.scalar("SELECT version FROM notification_config_version WHERE id = 1", []) } }
        func open(_ ticketID: String) throws -> [NotificationV1.Delivery] {
            let event = Events.opened(ticketID: ticketID)
            #expect(try harness.deliver([Events.envelope(event, key: event.ticketID)]).accepted == 1)
            return try harness.deliveries(ticketID: ticketID)
        }
        let first = try open("t-cache-1")
        #expect(first.count == 1 && first[0].subject.contains("Ocorrência registrada"))

        // Another instance's administrator changes the template: the version moves, the next
        // event is rendered with it.
        let before = try version()
        try harness.database.write { tx in
            try tx.execute("""
                INSERT INTO notification_templates (event_kind, locale, subject, text_body, html_body, updated_at)
                VALUES ('TicketOpened', 'pt-BR', 'Recebemos {{code}}', 'Olá {{recipient_name}}', '', 0)
                """, [])
        }
        #expect(try version() != before)
        let second = try open("t-cache-2")
        #expect(second.map(\.subject) == ["Recebemos 2026-000123"])

        // A webhook registered elsewhere gets the next event.
        let receiver = try TemporaryDirectory(prefix: "hooks")
        let hook = try PythonPeer.webhook(directory: receiver.path, secret: "planning-cache-secret-0123")
        try harness.database.write { tx in
            try WebhookStore.insert(tx, WebhookRecord(id: "wh-cache", url: hook.url, sealedSecret: "planning-cache-secret-0123",
                                                      eventKinds: ["TicketOpened"], accessLevel: 0, internalEntries: false,
                                                      active: true, createdAtMs: 0))
        }
        let third = try open("t-cache-3")
        #expect(Set(third.map(\.channel)) == ["email", "webhook"])

        // The contact unsubscribes (written elsewhere): no e-mail for the next event.
        try harness.database.write { tx in
            try tx.execute("""
                INSERT INTO notification_subscriptions (person, event_kind, enabled, updated_at) VALUES ('jose@cliente.example', 'TicketOpened', 0, 0)
                """, [])
        }
        let fourth = try open("t-cache-4")
        #expect(fourth.map(\.channel) == ["webhook"])
        // Deleting the switch (plain SQL again) subscribes them back.
        try harness.database.write { tx in try tx.execute("DELETE FROM notification_subscriptions", []) }
        let fifth = try open("t-cache-5")
        #expect(Set(fifth.map(\.channel)) == ["email", "webhook"])
        #expect(waitFor(15) { sink.files("eml").count == 4 })
    }

    @Test("The snapshot is reloaded only when the version moved")
    func reloadsOnlyOnChange() throws {
        let database = try ScratchDatabase(.sqlite)
        let db = try database.open(migrations: NotificationService.migrations)
        let cache = PlanningCache()
        _ = try db.write { try cache.snapshot($0) }
        _ = try db.write { try cache.snapshot($0) }
        #expect(cache.loads.load(ordering: .relaxed) == 1)
        try db.write { try SubscriptionStore().set($0, person: "Ana@Suporte.Example", kind: "*", enabled: false) }
        let snapshot = try db.write { try cache.snapshot($0) }
        #expect(cache.loads.load(ordering: .relaxed) == 2)
        let (ana, other) = try db.read { tx in
            (try snapshot.isEnabled(tx, person: ["ana@suporte.example"], kind: "SLABreached"),
             try snapshot.isEnabled(tx, person: ["x@suporte.example"], kind: "SLABreached"))
        }
        #expect(ana == false && other == true)
        #expect(snapshot.template(kind: "TicketOpened", locale: "en-US") == TemplateCatalog.builtIn(kind: "TicketOpened", locale: "en"))
    }
    @Test("The version is read once per consumer transaction; a change committed between transactions applies to the next",
          arguments: TestEngines.all)
    func oncePerTransaction(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine)
        let db = try database.open(migrations: NotificationService.migrations)
        let cache = PlanningCache()
        /// Three events planned in one transaction: their snapshots and how often the version was read.
        func transaction() throws -> (snapshots: [PlanningCache.Snapshot], versionReads: Int) {
            try db.write { tx in
                let counting = StatementCounter(base: tx)
                let executor = ClaimingExecutor(base: counting, claims: InsertClaims(instance: "me", leaseEnd: Date()) { _, _ in false })
                let snapshots = try (0..<3).map { _ in try cache.snapshot(executor) }
                return (snapshots, counting.count { $0.contains("notification_config_version") })
            }
        }
        let first = try transaction()
        #expect(first.versionReads == 1)
        #expect(first.snapshots.allSatisfy { $0.template(kind: "TicketOpened", locale: "pt-BR")?.subject.contains("Ocorrência registrada") == true })
        try db.write { tx in
            try tx.execute("""
                INSERT INTO notification_templates (event_kind, locale, subject, text_body, html_body, updated_at)
                VALUES ('TicketOpened', 'pt-BR', 'Recebemos {{code}}', 'Olá', '', 0)
                """, [])
        }
        let second = try transaction()
        #expect(second.versionReads == 1)
        #expect(second.snapshots.allSatisfy { $0.template(kind: "TicketOpened", locale: "pt-BR")?.subject == "Recebemos {{code}}" })
        #expect(second.snapshots[0].version != first.snapshots[0].version)
        // Outside a consumer transaction (the API's on-demand e-mail), the version is read per call.
        let plain = try db.write { tx in
            let counting = StatementCounter(base: tx)
            _ = try cache.snapshot(counting)
            _ = try cache.snapshot(counting)
            return counting.count { $0.contains("notification_config_version") }
        }
        #expect(plain == 2)
    }

    @Test("Deliveries of several events each: a template changed between two of them applies to every event of the next",
          arguments: TestEngines.all)
    func changeBetweenGroups(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        func open(_ ids: [String]) throws -> [String] {
            let events = ids.map { Events.opened(ticketID: $0) }
            #expect(try harness.deliver(events.map { Events.envelope($0, key: $0.ticketID) }).accepted == ids.count)
            return try ids.flatMap { try harness.deliveries(ticketID: $0).map(\.subject) }
        }
        let before = try open(["t-group-1", "t-group-2", "t-group-3"])
        #expect(before.count == 3 && before.allSatisfy { $0.contains("Ocorrência registrada") })
        try harness.database.write { tx in
            try tx.execute("""
                INSERT INTO notification_templates (event_kind, locale, subject, text_body, html_body, updated_at)
                VALUES ('TicketOpened', 'pt-BR', 'Recebemos {{code}}', 'Olá {{recipient_name}}', '', 0)
                """, [])
        }
        let after = try open(["t-group-4", "t-group-5", "t-group-6"])
        #expect(after == Array(repeating: "Recebemos 2026-000123", count: 3))
        #expect(waitFor(15) { sink.files("eml").count == 6 })
    }
}

/// Passes statements to a transaction's executor, keeping their texts (which statements a
/// transaction ran).
final class StatementCounter: SQLExecutor {
    let base: any SQLExecutor
    private(set) var statements: [String] = []

    init(base: any SQLExecutor) { self.base = base }

    var engine: DatabaseEngine { base.engine }

    func count(where matches: (String) -> Bool) -> Int { statements.filter(matches).count }

    func execute(_ sql: String, _ params: [SQLValue]) throws -> Int {
        statements.append(sql)
        return try base.execute(sql, params)
    }

    func query(_ sql: String, _ params: [SQLValue]) throws -> [Row] {
        statements.append(sql)
        return try base.query(sql, params)
    }

    func executeDeferred(_ sql: String) throws {
        statements.append(sql)
        try base.executeDeferred(sql)
    }

    func executeDeferred(_ sql: String, _ params: [SQLValue]) throws {
        statements.append(sql)
        try base.executeDeferred(sql, params)
    }

    func queryPipelined(_ statements: [(sql: String, params: [SQLValue])]) throws -> [[Row]] {
        self.statements += statements.map(\.sql)
        return try base.queryPipelined(statements)
    }
}

/// The events of one `EventSink/Deliver` call are applied in one transaction; a failing event
/// falls back to one transaction per event, as ServiceKit's consumer does.
@Suite("Notification: events of a delivery in one transaction", .serialized)
struct BatchedDeliveryTests {
    @Test("A batch is applied at once and redelivered as duplicates; an event that must wait keeps the ones before it and fails alone",
          arguments: TestEngines.all)
    func batch(engine: DatabaseEngine) throws {
        let mailDirectory = try TemporaryDirectory(prefix: "sink")
        let sink = try PythonPeer.smtp(directory: mailDirectory.path)
        let harness = try NotificationHarness(engine: engine, settings: NotificationHarness.settings(smtpPort: sink.port))
        let opened = (1...3).map { Events.opened(ticketID: "t-batch-\($0)") }
        let envelopes = opened.map { Events.envelope($0, key: $0.ticketID) }
        let first = try harness.deliver(envelopes)
        #expect(first.accepted == 3 && first.duplicates == 0)
        let again = try harness.deliver(envelopes)
        #expect(again.accepted == 0 && again.duplicates == 3)
        #expect(waitFor(15) { sink.files("eml").count == 3 })

        // A customer reply about a ticket whose holder is not known yet is refused (ABORTED) so
        // the relay retries it; the event before it is applied, the one after it is not.
        var reply = IntakeV1.CustomerReplied()
        reply.ticketID = "t-unknown-holder"
        reply.text = "Alguma novidade?"
        let before = Events.opened(ticketID: "t-batch-before"), after = Events.opened(ticketID: "t-batch-after")
        let mixed = [Events.envelope(before, key: before.ticketID), Events.envelope(reply, key: reply.ticketID),
                     Events.envelope(after, key: after.ticketID)]
        #expect(throws: RPCError.self) { try harness.deliver(mixed) }
        #expect(try harness.deliveries(ticketID: "t-batch-before").count == 1)
        #expect(try harness.deliveries(ticketID: "t-batch-after").isEmpty)
        // Redelivered without the reply (as the relay would once it is applied): the first is a duplicate.
        let rest = try harness.deliver([mixed[0], mixed[2]])
        #expect(rest.accepted == 1 && rest.duplicates == 1)
        #expect(waitFor(15) { sink.files("eml").count == 5 })
    }
}
