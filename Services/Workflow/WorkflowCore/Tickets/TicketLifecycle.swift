import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// The single place where a ticket changes. Every change updates the ticket row, appends to its
/// history, publishes its events through the outbox and calls the ``TicketObserver``s, all in
/// the caller's transaction.
///
/// ```swift
/// try database.write { tx in
///     let ticket = try lifecycle.load(tx, id)
///     _ = try lifecycle.move(tx, ticket, to: "em_atendimento", trigger: .agent, actor: actor)
/// }
/// ```
public final class TicketLifecycle: Sendable {
    /// Flows by name, as loaded from the tables.
    public let flows: [String: StageFlow]
    /// The flow new tickets follow.
    public let defaultFlow: String
    let publisher: EventPublisher
    let observers: [any TicketObserver]
    /// The clock (epoch ms); tests and the SLA part can inject a simulated one.
    public let now: @Sendable () -> Int64
    /// The signed survey link put in TicketFinished, read in the finish's transaction after the
    /// observers ran (empty until the survey part provides one, and when the finish opened no
    /// survey: cancelled, or answered before).
    let surveyLink: @Sendable (any SQLExecutor, TicketRecord) throws -> String
    /// Routing rules and category levels, read once per ``ConfigVersion``.
    let routing = RoutingCache()
    /// SQLite: new tickets' rows made without `RETURNING` (``OpenedTicketRows``).
    let openedRows = OpenedTicketRows()

    public init(flows: [String: StageFlow], defaultFlow: String, publisher: EventPublisher = EventPublisher(source: "workflow"),
                observers: [any TicketObserver] = [], now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) },
                surveyLink: @escaping @Sendable (any SQLExecutor, TicketRecord) throws -> String = { _, _ in "" }) {
        self.flows = flows
        self.defaultFlow = flows[defaultFlow] == nil ? (flows.keys.sorted().first ?? defaultFlow) : defaultFlow
        self.publisher = publisher
        self.observers = observers
        self.now = now
        self.surveyLink = surveyLink
    }

    /// The flow `ticket` follows.
    public func flow(of ticket: TicketRecord) -> StageFlow {
        flows[ticket.flow] ?? flows[defaultFlow] ?? FlowPresets.standard
    }

    func stageName(_ ticket: TicketRecord, _ key: String) -> String { flow(of: ticket).stage(key)?.name ?? key }

    // MARK: - Reading

    /// The ticket `id`, locked for update on PostgreSQL when read inside a write.
    ///
    /// PostgreSQL: the row is locked by a statement of its own (deferred: it goes out with the
    /// read, no round trip more), and read with its holder's names and chefe by the next. One
    /// `SELECT … JOIN agents … FOR UPDATE OF t` waiting for a concurrent change of the holder
    /// re-checked only the ticket's row: it answered the new holder with the **old** statement's
    /// join — no holder name, no chefe — so the new holder's chefe was refused
    /// (`PERMISSION_DENIED`) and history lines lacked the names
    /// (`ConcurrentActionsTests.transferRacingAFinish`). A statement started after the lock is
    /// granted sees the committed change whole (READ COMMITTED).
    /// - Throws: `NOT_FOUND`.
    public func load(_ tx: any SQLExecutor, _ id: String, forUpdate: Bool = false) throws -> TicketRecord {
        if forUpdate && tx.engine == .postgres { try tx.executeDeferred(Self.lockTicketSQL, [.text(id)]) }
        guard let row = try tx.queryOne(TicketRecord.select + " WHERE t.id = ?", [.text(id)]) else { throw Self.ticketNotFound }
        return TicketRecord(row)
    }

    /// What a missing ticket and one the caller may not see both answer, to the byte.
    static var ticketNotFound: RPCError {
        RPCError(.notFound, "ocorrência não encontrada / ticket not found",
                 violations: [FieldViolation(field: "ticket_id", reason: "not_found", pt: "Não existe.", en: "Does not exist.")])
    }

    /// The ticket `id` when `actor` may see it.
    /// - Throws: `NOT_FOUND` when it does not exist or the actor may not see it (the answer is the
    ///   same, so confidential tickets are not revealed).
    public func loadVisible(_ tx: any SQLExecutor, _ id: String, actor: Actor, forUpdate: Bool = false) throws -> TicketRecord {
        let ticket = try load(tx, id, forUpdate: forUpdate)
        guard Visibility.canSee(actor, level: ticket.accessLevel, agentID: ticket.agentID, organizationID: ticket.organizationID) else {
            throw Self.ticketNotFound
        }
        return ticket
    }

    /// The ticket `id` when `actor` may act on it: the holder, a member of the holding group when
    /// no agent holds it, the holder's chefe, or an administrator; always within what they may see.
    /// - Parameter expected: what the caller's page showed of it, when the request says
    ///   (``requireUnchanged(_:_:since:actor:)``), checked before who may act on it.
    public func loadActionable(_ tx: any SQLExecutor, _ id: String, actor: Actor,
                               expecting expected: WorkflowV1.TicketExpectation? = nil) throws -> TicketRecord {
        try actor.requireWork()
        let ticket = try loadVisible(tx, id, actor: actor, forUpdate: true)
        try requireUnchanged(tx, ticket, since: expected, actor: actor)
        try requireCanAct(tx, ticket, actor)
        return ticket
    }

    func requireCanAct(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor) throws {
        if actor.kind == .service || actor.isAdministrator || ticket.agentID == actor.id { return }
        if ticket.agentID.isEmpty {
            if ticket.groupID.isEmpty || actor.has("tickets.act_any") { return }
            if try tx.queryOne("SELECT 1 AS x FROM group_members WHERE group_id = ? AND agent_id = ?",
                               [.text(ticket.groupID), .text(actor.id)]) != nil { return }
        } else if actor.isChefe && ticket.chefeAgentID == actor.id {
            return
        } else if actor.has("tickets.act_any") {
            return
        }
        // They held it and lost it (passed it on, had it sent back, taken by their chefe, assigned
        // by a step): their page is out of date; still refused, told how and who holds it now.
        if let lost = try formerHolding(tx, ticket, actor) {
            throw noLongerHolderError(ticket, field: "ticket_id", lost: lost, actor: actor)
        }
        throw RPCError(.permissionDenied, "a ocorrência está com outro responsável / the ticket is held by someone else")
    }

    // MARK: - History, events, observers

    /// Appends a history line only when the ticket exists (one statement: the check is part of
    /// the insert), for events about tickets workflow may not have (notification's EmailSent).
    /// On PostgreSQL the statement is deferred (``SQLExecutor/executeDeferred(_:_:)``): it goes
    /// out with the transaction's next statement or its commit, one round trip less per line.
    func recordIfTicketExists(_ tx: any SQLExecutor, _ ticketID: String, _ kind: String, old: String = "", new: String = "",
                              note: String = "", actor: Actor, at: Int64) throws {
        if tx.engine == .sqlite {
            // SQLite: an `INSERT … SELECT` reading the table it writes (the next sequence number)
            // goes through a temporary table, which cost as much again as the insert itself. Here
            // the ticket's id comes from a subquery: NULL when the ticket does not exist, and
            // `OR IGNORE` skips the row that would break NOT NULL (the key is a fresh random id,
            // and the place, `(ticket_id, seq)` unique since migration 191, is read by this very
            // statement under SQLite's single writer, so no other constraint can be what it ignores).
            try tx.execute("""
                INSERT OR IGNORE INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
                VALUES (?, (SELECT id FROM tickets WHERE id = ?), ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = ?),
                        ?, ?, ?, ?, ?, ?)
                """, [.text(RandomID.timeOrdered()), .text(ticketID), .integer(at), .text(ticketID), .text(kind), .text(old), .text(new),
                      .text(note), .text(actor.id), .text(actor.name)])
            return
        }
        // The ticket's row is locked first, in a statement of its own (deferred with the insert:
        // no round trip more), as every writer of a history line locks it: the insert, a later
        // statement, then reads the ticket's last place with what the lock waited for committed.
        try tx.executeDeferred(Self.lockTicketSQL, [.text(ticketID)])
        try tx.executeDeferred("""
            INSERT INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
            SELECT CAST(? AS TEXT), t.id, CAST(? AS BIGINT), (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = t.id),
                   CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT)
            FROM tickets t WHERE t.id = ?
            """, [.text(RandomID.timeOrdered()), .integer(at), .text(kind), .text(old), .text(new), .text(note), .text(actor.id), .text(actor.name),
                  .text(ticketID)])
    }

    /// PostgreSQL: locks a ticket's row (none when it does not exist).
    static let lockTicketSQL = "SELECT id FROM tickets WHERE id = ? FOR UPDATE"

    func record(_ tx: any SQLExecutor, _ ticketID: String, _ kind: String, old: String = "", new: String = "", note: String = "",
                actor: Actor, at: Int64) throws {
        // The next sequence number is read by the insert itself (one statement, not two).
        try tx.execute("""
            INSERT INTO ticket_history (id, ticket_id, at, seq, kind, old_value, new_value, note, actor_id, actor_name)
            VALUES (?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ticket_history WHERE ticket_id = ?), ?, ?, ?, ?, ?, ?)
            """, [.text(RandomID.timeOrdered()), .text(ticketID), .integer(at), .text(ticketID), .text(kind), .text(old), .text(new),
                  .text(note), .text(actor.id), .text(actor.name)])
    }

    /// What every event says about the ticket.
    public func summary(_ ticket: TicketRecord) -> WorkflowV1.TicketSummary {
        var summary = WorkflowV1.TicketSummary()
        summary.ticketID = ticket.id
        summary.code = ticket.code
        summary.organizationID = ticket.organizationID
        summary.organizationName = ticket.organizationName
        summary.organizationEmail = ticket.organizationEmail
        summary.contact = ticket.contact
        if !ticket.representative.id.isEmpty { summary.representative = ticket.representative }
        summary.subject = ticket.subject
        summary.category = ticket.category
        summary.priority = ticket.priority
        summary.product = ticket.product
        summary.module = ticket.module
        summary.stage = ticket.stage
        let stage = flow(of: ticket).stage(ticket.stage)
        summary.stageName = stage?.name ?? ticket.stage
        summary.customerStageName = stage?.customerName ?? ticket.stage
        summary.stageNameEn = stage?.nameEN ?? ticket.stage
        summary.customerStageNameEn = stage?.customerNameEN ?? ticket.stage
        summary.holder = ticket.holder
        summary.accessLevel = ticket.accessLevel
        summary.locale = ticket.locale
        return summary
    }

    /// Publishes `event` about `ticket` through the outbox, carrying the ticket's access level.
    public func publish<Event: ProtoMessage>(_ tx: any SQLExecutor, _ event: Event, _ ticket: TicketRecord) throws {
        try publisher.publish(tx, event: event, key: ticket.id, accessLevel: ticket.accessLevel)
    }

    /// Calls every observer but those at the positions in `skipping` (``openingWrites(_:_:at:into:)``'s).
    func notify(_ tx: any SQLExecutor, _ change: TicketChange, _ ticket: TicketRecord, at: Int64, skipping: Set<Int> = []) throws {
        for (position, observer) in observers.enumerated() where !skipping.contains(position) {
            try observer.ticketDidChange(change, ticket: ticket, at: at, lifecycle: self, tx: tx)
        }
    }

    /// The `.opened` writes of the observers that can join the ticket's own statement
    /// (``OpeningWriter``), added to `statement`. - Returns: those observers' positions (to skip
    /// in ``notify(_:_:_:at:skipping:)``) and what to run after the statement.
    func openingWrites(_ tx: any SQLExecutor, _ ticket: TicketRecord, at: Int64,
                       into statement: inout GuardedWrites) throws -> (positions: Set<Int>, finish: [(Set<String>) throws -> Void]) {
        var positions = Set<Int>(), finish: [(Set<String>) throws -> Void] = []
        for (position, observer) in observers.enumerated() {
            guard let writer = observer as? any OpeningWriter else { continue }
            positions.insert(position)
            finish.append(try writer.openingWrites(ticket, at: at, tx: tx, into: &statement))
        }
        return (positions, finish)
    }

    /// The observers that can join a group of openings' statement (``OpeningWriter``): their
    /// parts declared in `statement`. - Returns: their positions (to skip in
    /// ``notify(_:_:_:at:skipping:)``).
    func declareGroupOpening(_ statement: inout GroupedGuardedWrites) -> Set<Int> {
        var positions = Set<Int>()
        for (position, observer) in observers.enumerated() {
            guard let writer = observer as? any OpeningWriter else { continue }
            positions.insert(position)
            writer.declareGroupOpening(&statement)
        }
        return positions
    }

    /// `ticket`'s `.opened` rows of those observers, added to `statement`. - Returns: what each
    /// runs after the statement, with the guards that inserted for this ticket.
    func addGroupOpening(_ tx: any SQLExecutor, _ ticket: TicketRecord, at: Int64,
                         to statement: inout GroupedGuardedWrites) throws -> [(Set<String>) throws -> Void] {
        var finish: [(Set<String>) throws -> Void] = []
        for observer in observers {
            guard let writer = observer as? any OpeningWriter else { continue }
            finish.append(try writer.addGroupOpening(ticket, at: at, tx: tx, to: &statement))
        }
        return finish
    }

    func touch(_ tx: any SQLExecutor, _ id: String, _ assignments: String, _ params: [SQLValue], at: Int64) throws {
        try tx.execute("UPDATE tickets SET \(assignments), updated_at = ? WHERE id = ?", params + [.integer(at), .text(id)])
    }

    // MARK: - Stages

    /// Moves `ticket` to `target` along a transition of its flow.
    /// - Parameter outcome: recorded instead of the transition's when the destination is final
    ///   and it is not empty (an inactivity policy's outcome, whose policy is data).
    /// - Throws: `FAILED_PRECONDITION` naming the allowed moves when no transition fits, or when
    ///   unread customer messages block concluding; `PERMISSION_DENIED` when the transition needs a
    ///   permission the actor lacks; `INVALID_ARGUMENT` when a required note is missing. Unread
    ///   customer messages block an agent's move into a final stage, the waiting stage or a stage
    ///   awaiting the customer's acceptance of a solution.
    @discardableResult
    public func move(_ tx: any SQLExecutor, _ ticket: TicketRecord, to target: String, trigger: TransitionTrigger, actor: Actor,
                     note: String = "", publicNote: String = "", enforceUnreadGuard: Bool = true, outcome override: String = "") throws -> TicketRecord {
        let flow = self.flow(of: ticket)
        let available = flow.moves(from: ticket.stage, trigger: trigger, category: ticket.category)
        let candidates = available.filter { $0.to == target }
        guard !candidates.isEmpty else {
            let allowed = available.map { "\($0.to) (\(flow.stage($0.to)?.name ?? $0.to))" }
            let list = allowed.isEmpty ? "nenhum / none" : allowed.joined(separator: ", ")
            throw RPCError(.failedPrecondition, """
                movimento inválido de \(stageName(ticket, ticket.stage)) para \(flow.stage(target)?.name ?? target); permitidos: \(list) \
                / invalid move from \(ticket.stage) to \(target); allowed: \(list)
                """, violations: [FieldViolation(field: "to_stage", reason: "invalid_transition",
                                                 pt: "Permitidos: \(list)", en: "Allowed: \(list)")])
        }
        guard let transition = candidates.first(where: { $0.permission.isEmpty || actor.has($0.permission) }) else {
            try actor.require(candidates[0].permission)
            throw RPCError(.permissionDenied, "movimento não permitido / move not allowed")
        }
        // A customer's note is public (``WorkflowAPI/move(_:_:_:)``): their text meets a move's need of one.
        let noted = [note] + (actor.kind == .customer ? [publicNote] : [])
        if transition.requiresNote && noted.allSatisfy({ $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) {
            throw RPCError(.invalidArgument, "justificativa obrigatória / a note is required", violations: [
                FieldViolation(field: "note", reason: "required", pt: "Escreva a justificativa.", en: "Write the justification.")])
        }
        if transition.requiresPublicNote && publicNote.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw RPCError(.invalidArgument, "texto para o cliente obrigatório / a text for the customer is required", violations: [
                FieldViolation(field: "public_note", reason: "required", pt: "Escreva o texto para o cliente.", en: "Write the text for the customer.")])
        }
        guard let destination = flow.stage(target) else {
            throw RPCError(.failedPrecondition, "etapa desconhecida / unknown stage \(target)")
        }
        // Concluding, asking the customer (into the waiting stage) or proposing a solution (into a
        // stage where it awaits the customer's acceptance, the `totvs` flow's Resolvido, which
        // closes by itself) over a customer message nobody read: the message may answer the
        // question or reopen the matter (before 2026-12 a solution proposed as the customer wrote
        // "still failing" closed as resolved five days later, the reply unread).
        let proposes = acceptanceMoves(ticket, in: target) != nil
        if (destination.isFinal || target == flow.waitingStage || proposes) && trigger == .agent && enforceUnreadGuard && ticket.unreadCount > 0 {
            throw unreadError(ticket)
        }
        let outcome = destination.isFinal ? (override.isEmpty ? transition.outcome : override) : ""
        return try changeStage(tx, ticket, to: destination, trigger: trigger, actor: actor,
                               historyNote: [transition.label, note].filter { !$0.isEmpty }.joined(separator: ": "),
                               note: note, publicNote: publicNote, outcome: outcome, at: now())
    }

    /// Moves `ticket` into `destination` once the move is decided (``move(_:_:to:trigger:actor:note:publicNote:enforceUnreadGuard:outcome:)``
    /// checked it against the flow; ``reopenAfterLateReply(_:_:close:writtenAt:actor:at:)`` undoes
    /// an inactivity close): the ticket row, the history line (`historyNote`), the entries of
    /// `note` and `publicNote`, the events (`StageChanged`, `InformationRequested` into the
    /// waiting stage unless `requestsInformation` is false, `SolutionGiven` and `TicketFinished`
    /// into a final one) and the observers (`.stageChanged`, then `.finished` or, out of a final
    /// stage, `.reopened`).
    func changeStage(_ tx: any SQLExecutor, _ ticket: TicketRecord, to destination: StageDefinition, trigger: TransitionTrigger, actor: Actor,
                     historyNote: String, note: String, publicNote: String, outcome: String, requestsInformation: Bool = true,
                     at: Int64) throws -> TicketRecord {
        let flow = self.flow(of: ticket), target = destination.key
        let wasFinal = flow.stage(ticket.stage)?.isFinal ?? !ticket.isOpen
        try touch(tx, ticket.id, """
            stage = ?, stage_since = ?, is_open = ?, outcome = ?, public_note = ?, finished_at = ?, reopen_count = reopen_count + ?,
            status = '', status_reason = '', status_by_id = '', status_by_name = '', status_at = 0
            """, [.text(target), .integer(at), SQLValue(!destination.isFinal), .text(outcome),
                  .text(publicNote.isEmpty ? (destination.isFinal ? "" : ticket.publicNote) : publicNote),
                  .integer(destination.isFinal ? at : 0), .integer(wasFinal && !destination.isFinal ? 1 : 0)], at: at)
        try record(tx, ticket.id, "stage", old: ticket.stage, new: target, note: historyNote, actor: actor, at: at)
        var updated = try load(tx, ticket.id)
        if !note.isEmpty {
            updated = try addEntry(tx, updated, kind: "note", isPublic: false, text: note, actor: actor, at: at).ticket
        }
        if !publicNote.isEmpty {
            let kind = target == flow.waitingStage ? "request_info" : outcome == "negada" ? "denial"
                : FiscalConfigurationFinish.solves(outcome) ? "solution" : "note"
            updated = try addEntry(tx, updated, kind: kind, isPublic: true, text: publicNote, actor: actor, at: at).ticket
        }

        var changed = WorkflowV1.StageChanged()
        changed.ticket = summary(updated)
        changed.fromStage = ticket.stage
        changed.toStage = target
        changed.actorID = actor.id
        changed.actorName = actor.name
        changed.outcome = outcome
        changed.publicNote = publicNote
        changed.changedAtMs = at
        try publish(tx, changed, updated)
        if target == flow.waitingStage && requestsInformation {
            var requested = WorkflowV1.InformationRequested()
            requested.ticket = summary(updated)
            requested.text = publicNote
            requested.actorName = actor.name
            requested.requestedAtMs = at
            try publish(tx, requested, updated)
        }
        try notify(tx, .stageChanged(from: ticket.stage, to: target, trigger: trigger, outcome: outcome), updated, at: at)
        if destination.isFinal {
            if FiscalConfigurationFinish.solves(outcome) && !updated.solution.isEmpty {
                var solution = WorkflowV1.SolutionGiven()
                solution.ticket = summary(updated)
                solution.text = updated.solution
                solution.actorName = actor.name
                solution.givenAtMs = at
                try publish(tx, solution, updated)
            }
            var finished = WorkflowV1.TicketFinished()
            finished.ticket = summary(updated)
            finished.outcome = outcome
            finished.publicNote = publicNote
            finished.surveyURL = try surveyLink(tx, updated)
            finished.finishedAtMs = at
            try publish(tx, finished, updated)
            try notify(tx, .finished(outcome: outcome), updated, at: at)
        } else if wasFinal {
            try notify(tx, .reopened, updated, at: at)
        }
        return updated
    }

    func unreadError(_ ticket: TicketRecord) -> RPCError {
        RPCError(.failedPrecondition, """
            há \(ticket.unreadCount) mensagem(ns) do cliente não lida(s): marque como lidas antes / \
            \(ticket.unreadCount) unread customer message(s): mark them read first
            """, violations: [FieldViolation(field: "ticket_id", reason: "unread_messages",
                                             pt: "Marque as mensagens como lidas.", en: "Mark the messages read.")])
    }

    /// Sets the status inside the stage (who and when are recorded).
    @discardableResult
    public func setStatus(_ tx: any SQLExecutor, _ ticket: TicketRecord, status: String, reason: String, actor: Actor) throws -> TicketRecord {
        let at = now()
        try touch(tx, ticket.id, "status = ?, status_reason = ?, status_by_id = ?, status_by_name = ?, status_at = ?",
                  [.text(status), .text(reason), .text(actor.id), .text(actor.name), .integer(at)], at: at)
        try record(tx, ticket.id, "status", old: ticket.status, new: status, note: reason, actor: actor, at: at)
        let updated = try load(tx, ticket.id)
        try notify(tx, .statusChanged(old: ticket.status, new: status), updated, at: at)
        return updated
    }

    /// Changes category, priority and/or service type, keeping old value, new value, who and why.
    @discardableResult
    public func reclassify(_ tx: any SQLExecutor, _ ticket: TicketRecord, category: CommonV1.Category?, priority: CommonV1.Priority?,
                           serviceType: String?, reason: String, actor: Actor) throws -> TicketRecord {
        let at = now()
        var changes: [TicketChange] = []
        if let category, category != ticket.category { try requireWayOn(ticket, as: category) }
        if let category, category != ticket.category {
            try touch(tx, ticket.id, "category = ?", [.integer(Int64(category.rawValue))], at: at)
            try record(tx, ticket.id, "category", old: ticket.category.label(), new: category.label(),
                       note: reason, actor: actor, at: at)
            changes.append(.categoryChanged(old: ticket.category, new: category))
        }
        if let priority, priority != ticket.priority {
            try touch(tx, ticket.id, "priority = ?", [.integer(Int64(priority.rawValue))], at: at)
            try record(tx, ticket.id, "priority", old: ticket.priority.label(), new: priority.label(),
                       note: reason, actor: actor, at: at)
            changes.append(.priorityChanged(old: ticket.priority, new: priority))
        }
        if let serviceType, serviceType != ticket.serviceType {
            try touch(tx, ticket.id, "service_type = ?", [.text(serviceType)], at: at)
            try record(tx, ticket.id, "service_type", old: ticket.serviceType, new: serviceType, note: reason, actor: actor, at: at)
        }
        let updated = try load(tx, ticket.id)
        for change in changes { try notify(tx, change, updated, at: at) }
        return updated
    }

    /// Refuses a new category that would strand `ticket` in its open stage: the stage has moves of
    /// its own (not `*`) for the ticket's category and none for `category` — the `padrao` flow's
    /// Diagnóstico técnico (Problema only) or Análise produto (product categories), whose tickets
    /// reclassified otherwise could only be cancelled. Finished tickets may change (reports).
    /// - Throws: `FAILED_PRECONDITION` on `category`, naming the stage.
    func requireWayOn(_ ticket: TicketRecord, as category: CommonV1.Category) throws {
        let flow = flow(of: ticket)
        guard let stage = flow.stage(ticket.stage), !stage.isFinal else { return }
        func hasOwnMoves(_ category: CommonV1.Category) -> Bool {
            flow.moves(from: stage.key, trigger: .agent, category: category).contains { $0.from != "*" }
        }
        guard hasOwnMoves(ticket.category), !hasOwnMoves(category) else { return }
        throw RPCError(.failedPrecondition, """
            \(stage.name) não tem movimentos para \(category.label()): leve a ocorrência a outra etapa antes de mudar a categoria / \
            \(stage.key) has no moves for that category: move the ticket to another stage before changing it
            """, violations: [FieldViolation(field: "category", reason: "stage_has_no_moves",
                                             pt: "\(stage.name) não atende \(category.label()).", en: "\(stage.key) does not serve that category.")])
    }

    /// Changes the ticket's confidentiality level; a level that differs from the old one is
    /// published (`TicketAccessLevelChanged`, for notification's delivery log and pending e-mails).
    @discardableResult
    public func setAccessLevel(_ tx: any SQLExecutor, _ ticket: TicketRecord, level: Int32, reason: String, actor: Actor) throws -> TicketRecord {
        let at = now()
        try touch(tx, ticket.id, "access_level = ?", [.integer(Int64(level))], at: at)
        try record(tx, ticket.id, "access_level", old: String(ticket.accessLevel), new: String(level), note: reason, actor: actor, at: at)
        let updated = try load(tx, ticket.id)
        if level != ticket.accessLevel {
            var changed = WorkflowV1.TicketAccessLevelChanged()
            changed.ticket = summary(updated)
            changed.oldLevel = ticket.accessLevel
            changed.newLevel = level
            changed.actorID = actor.id
            changed.actorName = actor.name
            changed.reason = reason
            changed.changedAtMs = at
            try publish(tx, changed, updated)
        }
        try notify(tx, .accessLevelChanged(old: ticket.accessLevel, new: level), updated, at: at)
        return updated
    }
}
