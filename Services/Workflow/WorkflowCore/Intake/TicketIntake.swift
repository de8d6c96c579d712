import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// Applies other services' events to workflow's tickets (registered on the event consumer).
public enum TicketIntake {
    /// Registers the handlers of intake's, notification's and knowledge's events. Inside
    /// ``OpeningGroup/around(_:lifecycle:_:)`` consecutive openings are applied together, before
    /// the next other event (every other handler flushes them first).
    public static func register(_ consumer: inout EventConsumer, lifecycle: TicketLifecycle) {
        consumer.on(IntakeV1.TicketOpened.self) { event, _, tx in
            if try !OpeningGroup.collect(tx, event) { try open(tx, event, lifecycle) }
        }
        // One per opened ticket (its confirmation e-mail); consecutive ones are written together
        // inside a delivery (PostgreSQL), after the openings collected before them.
        consumer.on(NotificationV1.EmailSent.self) { event, _, tx in
            if try !OpeningGroup.collect(tx, event) { try emailsSent(tx, [event], lifecycle) }
        }
        registerOthers(&consumer, lifecycle: lifecycle)
    }

    /// Registers `handler` for `Event`, applying the openings collected before it first.
    private static func on<Event: ProtoMessage>(_ consumer: inout EventConsumer, _ type: Event.Type,
                                                _ handler: @escaping @Sendable (Event, any SQLExecutor) throws -> Void) {
        consumer.on(type) { event, _, tx in
            try OpeningGroup.flush(tx)
            try handler(event, tx)
        }
    }

    /// The handlers of every event but `TicketOpened`, each applying the collected openings first.
    private static func registerOthers(_ consumer: inout EventConsumer, lifecycle: TicketLifecycle) {
        on(&consumer, IntakeV1.CustomerReplied.self) { event, tx in try customerReplied(tx, event, lifecycle) }
        on(&consumer, IntakeV1.TicketCancelledByCustomer.self) { event, tx in
            guard let ticket = try? lifecycle.load(tx, event.ticketID, forUpdate: true) else { return }
            let actor = Actor(kind: .customer, id: event.by?.id ?? "", name: event.by?.name ?? "", organizationID: ticket.organizationID)
            let flow = lifecycle.flow(of: ticket)
            guard ticket.isOpen, let target = flow.moves(from: ticket.stage, trigger: .customerCancel, category: ticket.category).first?.to else {
                return try cancellationNotApplied(tx, ticket, event, actor: actor, lifecycle)
            }
            let cancelled = try lifecycle.move(tx, ticket, to: target, trigger: .customerCancel, actor: actor, publicNote: event.reason)
            try publishApplied(tx, cancelled, lifecycle) { $0.cancellation = event }
        }
        on(&consumer, IntakeV1.AttachmentAdded.self) { event, tx in
            guard let attachment = event.attachment, try tx.queryOne("SELECT 1 AS x FROM tickets WHERE id = ?", [.text(event.ticketID)]) != nil else { return }
            try insertAttachment(tx, event.ticketID, attachment, messageID: event.messageID, at: event.addedAtMs)
            let actor = Actor(kind: .customer, id: event.by?.id ?? "", name: event.by?.name ?? "")
            try lifecycle.record(tx, event.ticketID, "attachment", new: attachment.fileName, actor: actor, at: event.addedAtMs)
        }
        on(&consumer, IntakeV1.TicketContactChanged.self) { event, tx in
            guard let ticket = try? lifecycle.load(tx, event.ticketID, forUpdate: true) else { return }
            let contact = event.contact ?? CommonV1.PersonRef(), representative = event.representative ?? CommonV1.PersonRef()
            let at = event.changedAtMs > 0 ? event.changedAtMs : lifecycle.now()
            try lifecycle.touch(tx, ticket.id, """
                contact_id = ?, contact_name = ?, contact_email = ?, contact_phone = ?, representative_id = ?, representative_name = ?,
                representative_email = ?
                """, [.text(contact.id), .text(contact.name), .text(contact.email), .text(contact.phone), .text(representative.id),
                      .text(representative.name), .text(representative.email)], at: at)
            let actor = Actor(kind: .agent, id: event.changedByAgentID, name: event.changedByAgentID)
            try lifecycle.record(tx, ticket.id, "contact", old: ticket.contact.name, new: contact.name, actor: actor, at: at)
        }
        on(&consumer, IntakeV1.OrganizationPlanChanged.self) { event, tx in
            try planChanged(tx, event, lifecycle)
        }
        // The envelope's access level says whether the article is internal (knowledge: 0 public, 1 agents only).
        consumer.on(KnowledgeV1.ArticleLinkedToTicket.self) { event, envelope, tx in
            try OpeningGroup.flush(tx)
            try articleLinked(tx, event, isInternal: envelope.accessLevel > 0, lifecycle)
        }
    }

    /// Knowledge's `ArticleLinkedToTicket`: an agent solved the ticket with an article. A public
    /// article becomes the solution of a ticket without one (a solution already written — an
    /// agent's, an earlier article's — stays, with this article's link added after it: linking
    /// used to replace it), with a public `article` entry and `SolutionGiven` (the customer's
    /// e-mail). An **internal** article (agents only: the envelope's access level above 0) is
    /// for the team: an internal `article` entry with its link, the solution untouched, no
    /// `SolutionGiven`. Before 2026-12 an internal article's text became the solution, which
    /// the customer read on the ticket page and in the e-mail.
    static func articleLinked(_ tx: any SQLExecutor, _ event: KnowledgeV1.ArticleLinkedToTicket, isInternal: Bool,
                              _ lifecycle: TicketLifecycle) throws {
        guard var ticket = try? lifecycle.load(tx, event.ticketID, forUpdate: true) else { return }
        let actor = Actor(kind: .agent, id: event.agentID, name: event.agentName)
        let link = "\(event.articleTitle) — \(event.articleURL)"
        guard !isInternal else {
            try lifecycle.addEntry(tx, ticket, kind: "article", isPublic: false, text: "Artigo interno / internal article: \(link)", actor: actor)
            return
        }
        ticket = try lifecycle.addEntry(tx, ticket, kind: "article", isPublic: true, text: "Artigo: \(link)", actor: actor).ticket
        let current = ticket.solution.trimmingCharacters(in: .whitespacesAndNewlines)
        let text = current.isEmpty ? event.articleText + "\n\n" + event.articleURL
            : !event.articleURL.isEmpty && current.contains(event.articleURL) ? ticket.solution : current + "\n\nArtigo: " + link
        if text != ticket.solution {
            ticket = try lifecycle.setText(tx, ticket, field: "solution", text: text, actor: actor)
        }
        var solution = WorkflowV1.SolutionGiven()
        solution.ticket = lifecycle.summary(ticket)
        solution.text = ticket.solution
        solution.articleID = event.articleID
        solution.actorName = event.agentName
        solution.givenAtMs = lifecycle.now()
        try lifecycle.publish(tx, solution, ticket)
    }

    /// Notification's `EmailSent` events: each one's history line on its ticket ("email"), none for
    /// an unknown ticket (the existence check is part of the insert). On PostgreSQL two or more
    /// lines of distinct tickets are **one** insert (their rows as one JSON parameter, so the
    /// statement's text does not depend on their number), deferred like the single line's; a
    /// ticket named twice needs consecutive sequence numbers, so such a run is written line by line.
    /// Each line finds its ticket by the primary key (a `LATERAL … LIMIT 1`: with the recordset's
    /// default estimate of 100 rows, a plain join's generic plan scanned all of `tickets`).
    static func emailsSent(_ tx: any SQLExecutor, _ events: [NotificationV1.EmailSent], _ lifecycle: TicketLifecycle) throws {
        let actor = Actor(kind: .service, id: "notification", name: "notification")
        func line(_ event: NotificationV1.EmailSent) -> (old: String, new: String, note: String) {
            let note = (["para: " + event.recipients.joined(separator: ", ")] + (event.copies.isEmpty ? [] : ["cc: " + event.copies.joined(separator: ", ")])
                        + [event.serverAnswer].filter { !$0.isEmpty }).joined(separator: "; ")
            return (event.eventKind, "\(event.outcome): \(event.subject)", note)
        }
        guard events.count > 1, tx.engine == .postgres, Set(events.map(\.ticketID)).count == events.count else {
            for event in events {
                let (old, new, note) = line(event)
                try lifecycle.recordIfTicketExists(tx, event.ticketID, "email", old: old, new: new, note: note, actor: actor, at: event.sentAtMs)
            }
            return
        }
        var lines = GroupedGuardedWrites(tickets: "t")
        lines.declare("e", columns: emailLineColumns, sql: "SELECT * FROM {rows}")
        for event in events {
            let (old, new, note) = line(event)
            lines.append("e", [.text(RandomID.timeOrdered()), .text(event.ticketID), .integer(event.sentAtMs), .text(old), .text(new), .text(note)])
        }
        let (cte, params) = lines.ctes
        // Their tickets' rows locked first, in id order, by a statement of its own, as every writer
        // of a history line locks its ticket (``TicketLifecycle/recordIfTicketExists(_:_:_:old:new:note:actor:at:)``).
        try tx.executeDeferred("WITH \(cte) SELECT t.id FROM tickets t WHERE t.id IN (SELECT ticket_id FROM e) ORDER BY t.id FOR UPDATE OF t", params)
        try tx.executeDeferred("""
            WITH \(cte)
            INSERT INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
            SELECT e.id, t.id, e.at, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = t.id), 'email', e.old_value,
                   e.new_value, e.note, CAST(? AS TEXT), CAST(? AS TEXT)
            FROM e CROSS JOIN LATERAL (SELECT id FROM tickets WHERE id = e.ticket_id LIMIT 1) AS t
            """, params + [.text(actor.id), .text(actor.name)])
    }

    /// The columns of ``emailsSent(_:_:_:)``'s recordset `e`.
    private static let emailLineColumns: [GroupedGuardedWrites.Column] = [
        .text("id"), .text("ticket_id"), .bigint("at"), .text("old_value"), .text("new_value"), .text("note"),
    ]

    /// Records one of a ticket's files; `position` is its place in the event's list (intake's
    /// order: named uploads, then the files carried inside), so files added together are listed
    /// as given (``AttachmentOrder``).
    /// A file already recorded (an agent's entry recorded it first, ``InternalAttachments``)
    /// keeps its place and only becomes internal if the event says so.
    static func insertAttachment(_ tx: any SQLExecutor, _ ticketID: String, _ attachment: CommonV1.AttachmentRef, messageID: String, at: Int64,
                                 position: Int = 0) throws {
        try tx.execute("""
            INSERT INTO ticket_attachments (ticket_id, attachment_id, file_name, content_type, size_bytes, sha256, message_id, added_at, position,
                internal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (ticket_id, attachment_id) DO UPDATE SET \(InternalAttachments.keepInternal)
            """, [.text(ticketID), .text(attachment.id), .text(attachment.fileName), .text(attachment.contentType),
                  .integer(attachment.sizeBytes), .text(attachment.sha256), .text(messageID), .integer(at), .integer(Int64(position)),
                  .integer(attachment.`internal` ? 1 : 0)])
    }

    /// Creates workflow's ticket from intake's TicketOpened: routed to a group's queue, at the
    /// category's default access level, in the default flow's queue stage.
    ///
    /// Routing, the SLA and the rest of the opening check the configuration version once. On
    /// PostgreSQL, when a configuration is cached, the ticket is routed with it and the ticket's
    /// statement itself checks that the version is still the cached one (inserting nothing
    /// otherwise), so the version costs no statement of its own; after a change the opening
    /// reads the version and the configuration first, as on SQLite.
    public static func open(_ tx: any SQLExecutor, _ event: IntakeV1.TicketOpened, _ lifecycle: TicketLifecycle) throws {
        if tx.engine == .postgres, ConfigVersion.current == nil, let cached = lifecycle.routing.cached {
            let done = try ConfigVersion.scoped(cached.version) { () throws -> Bool in
                switch try insert(tx, event, lifecycle, routing: cached.snapshot, expectedVersion: cached.version) {
                case .existed: return true
                case .inserted(let ticket, let at, let joined):
                    try finishOpening(tx, event, ticket, lifecycle, at: at, joined: joined)
                    return true
                case .configurationChanged: return false
                }
            }
            if done { return }
        }
        try ConfigVersion.scoped(try ConfigVersion.read(tx)) {
            guard case .inserted(let ticket, let at, _) = try insert(tx, event, lifecycle, routing: try lifecycle.routing.snapshot(tx),
                                                                      expectedVersion: nil) else { return }
            try finishOpening(tx, event, ticket, lifecycle, at: at, joined: nil)
        }
    }

    /// Observers' `.opened` writes that went out with the ticket's statement (``OpeningWriter``).
    struct JoinedWrites {
        /// Their positions among the observers (not notified again).
        var positions: Set<Int>
        /// What each runs after the statement, with the guards that inserted.
        var finish: [(Set<String>) throws -> Void]
        var inserted: Set<String>
    }

    private enum Insertion {
        /// The ticket was new: as ``TicketLifecycle/load(_:_:forUpdate:)`` reads it, its opening
        /// instant, and the observers' writes that joined its statement.
        case inserted(TicketRecord, at: Int64, joined: JoinedWrites?)
        /// The ticket existed: it is left as it is.
        case existed
        /// Nothing written: the configuration version is not the expected one.
        case configurationChanged
    }

    /// What an opening writes, worked out from the event and the routing rules.
    struct OpeningValues {
        let at: Int64
        /// The routed group (`""`: none).
        let group: String
        /// The values of ``ticketColumns``, in order.
        let ticketParams: [SQLValue]
        /// The search row's subject and request.
        let searchParams: [SQLValue]
        /// The request's first version: its text, the author's id and name, the instant.
        let versionParams: [SQLValue]
        /// Who opened it (the contact).
        let actor: Actor

        init(_ event: IntakeV1.TicketOpened, _ lifecycle: TicketLifecycle, routing: RoutingSnapshot) {
            let organization = event.organization ?? CommonV1.OrganizationRef()
            let contact = event.contact ?? CommonV1.PersonRef(), representative = event.representative ?? CommonV1.PersonRef()
            let (group, level) = Routing.groupAndLevel(routing, plan: organization.plan, product: event.product, module: event.module,
                                                       category: event.category, priority: event.priority)
            let flow = lifecycle.flows[lifecycle.defaultFlow] ?? FlowPresets.standard
            let at = event.openedAtMs > 0 ? event.openedAtMs : lifecycle.now()
            self.at = at
            self.group = group
            ticketParams = [.text(event.ticketID), .text(event.code), .text(organization.id), .text(organization.name), .text(organization.email),
                            .text(organization.plan), .text(contact.id), .text(contact.name), .text(contact.email), .text(contact.phone),
                            .text(representative.id), .text(representative.name), .text(representative.email),
                            .text(event.registeredByAgent?.id ?? ""), .text(event.channel), .integer(Int64(event.origin.rawValue)),
                            .integer(Int64(event.category.rawValue)), .integer(Int64(event.priority.rawValue)),
                            .integer(Int64(event.category.rawValue)), .integer(Int64(event.priority.rawValue)), .text(event.product),
                            .text(event.module), .text(event.subject), .text(event.request), .text(flow.name), .text(flow.queueStage),
                            .integer(at), .text(group), .integer(level), .integer(at), .integer(at), .integer(at)]
            searchParams = [.text(SearchText.indexText(event.subject)), .text(SearchText.indexText(event.request))]
            versionParams = [.text(event.request), .text(contact.id), .text(contact.name), .integer(at)]
            actor = Actor(kind: .customer, id: contact.id, name: contact.name, organizationID: organization.id)
        }
    }

    /// Writes the ticket, its search row, its request's first version and its "opened" history
    /// line, unless the ticket exists (the same ticket opened twice) or, with `expectedVersion`
    /// (PostgreSQL), the configuration version changed.
    private static func insert(_ tx: any SQLExecutor, _ event: IntakeV1.TicketOpened, _ lifecycle: TicketLifecycle,
                               routing: RoutingSnapshot, expectedVersion: Int64?) throws -> Insertion {
        let opening = OpeningValues(event, lifecycle, routing: routing)
        let (at, group, ticketParams, searchParams, versionParams, actor) = (opening.at, opening.group, opening.ticketParams,
                                                                              opening.searchParams, opening.versionParams, opening.actor)
        let columns = insertTicketColumns
        guard tx.engine == .postgres else {
            // The new row (nothing when the ticket existed) with its group's name is the ticket
            // as `load` reads it (a new ticket has no agent), not read back: made from the
            // opening's values and the defaults once those are known (``OpenedTicketRows``),
            // answered by the insert until then.
            func groupName() throws -> SQLValue {
                group.isEmpty ? .null : try tx.queryOne("SELECT name FROM staff_groups WHERE id = ?", [.text(group)])?["name"] ?? .null
            }
            let ticket: TicketRecord
            if let template = lifecycle.openedRows.template {
                guard try tx.execute(insertTicketPlainSQLite, ticketParams) > 0 else { return .existed }
                ticket = TicketRecord(lifecycle.openedRows.row(template, values: ticketParams, groupName: try groupName()))
            } else {
                guard let inserted = try tx.queryOne(insertTicketSQLite, ticketParams) else { return .existed }
                lifecycle.openedRows.learn(from: inserted, written: ticketColumns, values: ticketParams)
                ticket = TicketRecord(Row(columns: inserted.columns + ["holder_group_name"], values: inserted.values + [try groupName()]))
            }
            try DeferredTextIndex.insertSearchRow(tx, ticketID: event.ticketID, subject: searchParams[0], request: searchParams[1])
            try tx.execute("INSERT INTO text_versions (ticket_id, field, version, text, author_id, author_name, at) VALUES (?, 'request', 1, ?, ?, ?, ?)",
                           [.text(event.ticketID)] + versionParams)
            try lifecycle.record(tx, ticket.id, "opened", new: lifecycle.describe(ticket), note: event.channel, actor: actor, at: at)
            return .inserted(ticket, at: at, joined: nil)
        }
        // One statement: the ticket, its search row, the request's first version and the
        // "opened" history line (CTEs fed by the ticket insert's RETURNING), answering the
        // ticket as ``TicketLifecycle/load(_:_:forUpdate:)`` reads it (a new ticket has no
        // agent, so only the group's name is joined), so it is not read back; and the
        // configuration version, which, when one is expected, the ticket insert requires.
        let insertTicket: String, versionCheck: [SQLValue]
        if let expectedVersion {
            insertTicket = columns + " SELECT \(typedPlaceholders(ticketParams)) WHERE (SELECT version FROM cv) = CAST(? AS BIGINT) ON CONFLICT (id) DO NOTHING"
            versionCheck = [.integer(expectedVersion)]
        } else {
            insertTicket = columns + " VALUES (\(placeholders(ticketParams.count))) ON CONFLICT (id) DO NOTHING"
            versionCheck = []
        }
        let historyParams: [SQLValue] = [.text(RandomID.timeOrdered()), .integer(at), .text(TicketLifecycle.describeNone), .text(event.channel),
                                         .text(actor.id), .text(actor.name)]
        // With the version check, the observers that can (the time half: SLA, inactivity,
        // metrics) add their `.opened` writes to this statement, guarded by the ticket's insert,
        // computed from the ticket as it is about to be written.
        var joined = GuardedWrites(condition: "EXISTS (SELECT 1 FROM t)")
        var observers: (positions: Set<Int>, finish: [(Set<String>) throws -> Void]) = ([], [])
        if expectedVersion != nil {
            observers = try lifecycle.openingWrites(tx, TicketRecord(Row(columns: ticketColumns, values: ticketParams)), at: at, into: &joined)
        }
        let joinedCTEs = joined.isEmpty ? "" : ",\n" + joined.ctes.joined(separator: ",\n")
        let joinedCounts = joined.guards.isEmpty ? "" : ", " + joined.guardCounts
        guard let row = try tx.queryOne("""
            WITH cv AS (SELECT version FROM wf_config_version WHERE id = 1),
            t AS (\(insertTicket) RETURNING *),
            s AS (INSERT INTO ticket_search (ticket_id, subject, request) SELECT id, CAST(? AS TEXT), CAST(? AS TEXT) FROM t),
            v AS (INSERT INTO text_versions (ticket_id, field, version, text, author_id, author_name, at)
                  SELECT id, 'request', 1, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT) FROM t),
            g AS (SELECT t.id, t.group_id, sg.name FROM t LEFT JOIN staff_groups sg ON sg.id = t.group_id),
            h AS (INSERT INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
                  SELECT CAST(? AS TEXT), g.id, CAST(? AS BIGINT),
                         (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = g.id), 'opened', '',
                         \(TicketLifecycle.describeNewSQL), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT) FROM g)\(joinedCTEs)
            SELECT (SELECT version FROM cv) AS config_version\(joinedCounts), t.*, g.name AS holder_group_name
            FROM (SELECT 1 AS one) AS one LEFT JOIN t ON true LEFT JOIN g ON g.id = t.id
            """, ticketParams + versionCheck + searchParams + versionParams + historyParams + joined.params) else { return .existed }
        if let expectedVersion, row["config_version"].integerValue != expectedVersion { return .configurationChanged }
        guard row["id"] != .null else { return .existed }
        let writes = observers.positions.isEmpty ? nil
            : JoinedWrites(positions: observers.positions, finish: observers.finish, inserted: joined.inserted(row))
        return .inserted(TicketRecord(row), at: at, joined: writes)
    }

    /// The columns an opening writes in `tickets`, in the order of its values.
    static let ticketColumns = [
        "id", "code", "organization_id", "organization_name", "organization_email", "plan", "contact_id", "contact_name",
        "contact_email", "contact_phone", "representative_id", "representative_name", "representative_email", "registered_by_agent_id",
        "channel", "origin", "declared_category", "declared_priority", "category", "priority", "product", "module", "subject", "request_text",
        "flow", "stage", "stage_since", "group_id", "access_level", "opened_at", "updated_at", "last_interaction_at",
    ]

    /// `INSERT INTO tickets (<ticketColumns>)`, made once.
    static let insertTicketColumns = "INSERT INTO tickets (\(ticketColumns.joined(separator: ", ")))"

    /// SQLite's ticket statement (answering the new row, nothing when the ticket existed), made
    /// once: joining the column names and placeholders for every opening cost more than the
    /// statement's bindings.
    private static let insertTicketSQLite = insertTicketPlainSQLite + " RETURNING *"

    /// The same without the answer (``OpenedTicketRows``): whether it inserted is its count of changes.
    private static let insertTicketPlainSQLite = insertTicketColumns
        + " VALUES (\(placeholders(ticketColumns.count))) ON CONFLICT (id) DO NOTHING"

    /// The opening's writes after the ticket's own: attachments, custom fields, the observers
    /// (SLA, inactivity, metrics) and the first step of a step sequence.
    /// With `routedRows` (a group's openings), the ticket's `TicketRouted` outbox rows are added
    /// there for the group to write together (``OpeningGroup/RoutedRows``) instead of by a
    /// statement of their own.
    static func finishOpening(_ tx: any SQLExecutor, _ event: IntakeV1.TicketOpened, _ ticket: TicketRecord,
                              _ lifecycle: TicketLifecycle, at: Int64, joined: JoinedWrites?,
                              routedRows: OpeningGroup.RoutedRows? = nil) throws {
        var ticket = ticket
        if let joined {
            for finish in joined.finish { try finish(joined.inserted) }
        }
        for (position, attachment) in event.attachments.enumerated() {
            try insertAttachment(tx, event.ticketID, attachment, messageID: "", at: at, position: position)
        }
        let fields = Dictionary(event.customFields.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
        try AdvanceSteps.setFields(tx, event.ticketID, fields)
        try lifecycle.notify(tx, .opened, ticket, at: at, skipping: joined?.positions ?? [])
        // A ticket type with a step sequence starts on its first step, with that step's holder.
        if let type = fields["ticket_type"] ?? fields["tipo"], !type.isEmpty, try !AdvanceSteps.steps(tx, type).isEmpty {
            ticket = try AdvanceSteps.start(tx, ticket, type: type, actor: .system, lifecycle: lifecycle)
        }
        // Who holds it now, for notification (its only subscriber): its rules may tell the holder
        // about the new ticket, and its cached summary has the holder from the opening on.
        var routed = WorkflowV1.TicketRouted()
        routed.ticket = lifecycle.summary(ticket)
        routed.routedAtMs = at
        if let routedRows {
            routedRows.add(lifecycle.publisher.outboxEvents(event: routed, key: ticket.id, accessLevel: ticket.accessLevel))
            return
        }
        // Deferred: the outbox row goes out with the next event's statement or the commit.
        try lifecycle.publisher.publish(tx, event: routed, key: ticket.id, accessLevel: ticket.accessLevel, keyIsNew: true, deferred: true)
    }

    /// A customer reply: a public entry, an unread message for the holder, and, when the ticket
    /// waits on the customer, the move back to the agent. A reply written before the inactivity
    /// close the ticket is still in (delivered late) reopens it instead
    /// (``TicketLifecycle/reopenAfterLateReply(_:_:close:actor:at:)``); one written after a close
    /// is only added to the finished ticket's discussion. A reply is applied once, by intake's
    /// message id (``AppliedReplies``): a copy under another event id changes nothing.
    static func customerReplied(_ tx: any SQLExecutor, _ event: IntakeV1.CustomerReplied, _ lifecycle: TicketLifecycle) throws {
        guard var ticket = try? lifecycle.load(tx, event.ticketID, forUpdate: true),
              try AppliedReplies.claim(tx, ticketID: ticket.id, messageID: event.messageID, at: lifecycle.now()) else { return }
        let actor = Actor(kind: .customer, id: event.author?.id ?? "", name: event.author?.name ?? "", organizationID: ticket.organizationID)
        let at = event.repliedAtMs > 0 ? event.repliedAtMs : lifecycle.now()
        let close = try lifecycle.inactivityClose(tx, ticket).flatMap { $0.isUndone(byReplyWrittenAt: at) ? $0 : nil }
        for (position, attachment) in event.attachments.enumerated() {
            try insertAttachment(tx, ticket.id, attachment, messageID: event.messageID, at: at, position: position)
        }
        ticket = try lifecycle.addEntry(tx, ticket, kind: "customer_reply", isPublic: true, text: event.text, actor: actor,
                                        messageID: event.messageID, at: at, attachments: event.attachments).ticket
        try lifecycle.touch(tx, ticket.id, "unread_count = unread_count + 1", [], at: at)
        ticket = try lifecycle.load(tx, ticket.id)
        if let close, let reopened = try lifecycle.reopenAfterLateReply(tx, ticket, close: close, actor: actor, at: lifecycle.now()) {
            ticket = reopened
        } else {
            ticket = try lifecycle.customerGotBack(tx, ticket, actor: actor, at: at)
        }
        try publishApplied(tx, ticket, lifecycle) { $0.reply = event }
    }

    /// A cancellation workflow cannot apply: the ticket finished before it arrived (an agent's
    /// conclusion crossing the customer's cancel, which intake accepted while it still had the
    /// ticket open) or its flow has no cancel move from its stage. The ticket stays as it is, but
    /// what the customer asked is kept: a history line and, with a reason, a public
    /// `cancellation` entry the holder has to read. Before 2026-12 the event was dropped and the
    /// customer's reason was lost to the team. Nothing goes to notification (no "cancelled" e-mail
    /// for a ticket that was not).
    private static func cancellationNotApplied(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ event: IntakeV1.TicketCancelledByCustomer,
                                               actor: Actor, _ lifecycle: TicketLifecycle) throws {
        let at = event.cancelledAtMs > 0 ? event.cancelledAtMs : lifecycle.now()
        let why = ticket.isOpen ? "sem cancelamento nesta etapa / no cancel move from this stage" : "já encerrada / already finished"
        try lifecycle.record(tx, ticket.id, "cancel", old: ticket.stage, new: "não aplicado", note: why, actor: actor, at: at)
        guard !event.reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return }
        _ = try lifecycle.addEntry(tx, ticket, kind: "cancellation", isPublic: true, text: event.reason, actor: actor, at: at)
        try lifecycle.touch(tx, ticket.id, "unread_count = unread_count + 1", [], at: at)
    }

    /// Tells notification (its only subscriber) that a customer's action (set by `action`) was
    /// applied, with the ticket's holder at that moment (``WorkflowV1/CustomerActionApplied``).
    private static func publishApplied(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ lifecycle: TicketLifecycle,
                                       action: (inout WorkflowV1.CustomerActionApplied) -> Void) throws {
        var applied = WorkflowV1.CustomerActionApplied()
        action(&applied)
        applied.ticket = lifecycle.summary(ticket)
        try lifecycle.publish(tx, applied, ticket)
    }

    /// Moves the organization's open tickets to its new plan: the history says so and the SLA
    /// clocks are recomputed under the new plan's policy from the change on.
    static func planChanged(_ tx: any SQLExecutor, _ event: IntakeV1.OrganizationPlanChanged, _ lifecycle: TicketLifecycle) throws {
        let at = event.changedAtMs > 0 ? event.changedAtMs : lifecycle.now()
        let ids = try tx.query("SELECT id FROM tickets WHERE organization_id = ? AND is_open = 1 AND plan <> ? ORDER BY id",
                               [.text(event.organizationID), .text(event.plan)]).map { try $0.text("id") }
        let actor = Actor(kind: .service, id: "intake", name: event.changedBy.isEmpty ? "intake" : event.changedBy)
        for id in ids {
            guard let ticket = try? lifecycle.load(tx, id, forUpdate: true), ticket.isOpen, ticket.plan != event.plan else { continue }
            try tx.execute("UPDATE tickets SET plan = ? WHERE id = ?", [.text(event.plan), .text(id)])
            try lifecycle.record(tx, id, "plan", old: ticket.plan, new: event.plan, actor: actor, at: at)
            var updated = ticket
            updated.plan = event.plan
            try lifecycle.notify(tx, .planChanged(old: ticket.plan, new: event.plan), updated, at: at)
        }
    }
}
