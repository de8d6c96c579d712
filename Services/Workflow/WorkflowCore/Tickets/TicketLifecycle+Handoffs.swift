import Foundation
import Messages
import RPC
import Storage

extension TicketLifecycle {
    /// How the holder changes.
    public enum HandoffKind: String, Sendable, Hashable {
        /// An agent takes a ticket from a queue (not counted as a transfer).
        case take
        /// Repasse to an agent or group.
        case transfer
        /// Devolver: back to the previous holder.
        case sendBack = "send_back"
        /// Routing or automatic assignment.
        case assign
    }

    /// Changes the holder; transfers and send-backs are recorded in `transfers`, counted, and
    /// flagged as ping-pong from the third transfer between the same two holders. An agent who
    /// loses the ticket, by any kind, is recorded in ``FormerHolders``.
    @discardableResult
    public func changeHolder(_ tx: any SQLExecutor, _ ticket: TicketRecord, to holder: HolderRef, kind: HandoffKind, actor: Actor,
                             note: String = "", copyTo: [String] = []) throws -> TicketRecord {
        let at = now()
        let from = ticket.holderRef
        var pingPong = false
        if kind == .transfer || kind == .sendBack {
            let pair = [from.key, holder.key].sorted().joined(separator: "|")
            let previous = try tx.queryOne("SELECT COUNT(*) AS n FROM transfers WHERE ticket_id = ? AND pair_key = ?",
                                           [.text(ticket.id), .text(pair)])?.i("n") ?? 0
            pingPong = previous + 1 >= 3
            try tx.execute("""
                INSERT INTO transfers (id, ticket_id, at, from_agent_id, from_group_id, to_agent_id, to_group_id, note, sent_back,
                    ping_pong, pair_key, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(RandomID.timeOrdered()), .text(ticket.id), .integer(at), .text(from.agentID), .text(from.groupID),
                      .text(holder.agentID), .text(holder.groupID), .text(note), SQLValue(kind == .sendBack), SQLValue(pingPong),
                      .text(pair), .text(actor.id), .text(actor.name)])
            try touch(tx, ticket.id, "transfer_count = transfer_count + 1, ping_pong = ?",
                      [SQLValue(pingPong || ticket.pingPong)], at: at)
        }
        try touch(tx, ticket.id, "agent_id = ?, group_id = ?", [.text(holder.agentID), .text(holder.groupID)], at: at)
        // Whoever loses the ticket, however, by id: a later action of theirs is told it changed hands.
        if from.agentID != holder.agentID {
            try FormerHolders.record(tx, ticketID: ticket.id, agentID: from.agentID, at: at, kind: kind, actor: actor)
        }
        var updated = try load(tx, ticket.id)
        try record(tx, ticket.id, "holder", old: describe(ticket), new: describe(updated),
                   note: [kind == .sendBack ? "devolvida" : kind.rawValue, note].filter { !$0.isEmpty }.joined(separator: ": "),
                   actor: actor, at: at)
        if (kind == .transfer || kind == .sendBack) && !note.isEmpty {
            updated = try addEntry(tx, updated, kind: "transfer", isPublic: false, text: note, actor: actor, at: at).ticket
        }
        if kind == .transfer || kind == .sendBack {
            var event = WorkflowV1.Transferred()
            event.ticket = summary(updated)
            event.from = ticket.holder
            event.to = updated.holder
            event.note = note
            event.sentBack = kind == .sendBack
            event.copyTo = copyTo
            event.agentCopyTo = try AgentCopies.entitled(tx, copyTo: copyTo, level: updated.accessLevel)
            event.actorID = actor.id
            event.actorName = actor.name
            event.pingPong = pingPong
            event.transferredAtMs = at
            try publish(tx, event, updated)
        }
        try notify(tx, .holderChanged(from: from, to: holder, kind: kind, pingPong: pingPong), updated, at: at)
        return updated
    }

    /// ``describe(_:)`` in SQL for a ticket just opened (no agent yet) over a row with its
    /// `group_id` and its group's `name` (NULL when the group is not in the directory). Its one
    /// parameter is ``describeNone`` (kept out of the text: ASCII statement texts hash faster as
    /// statement-cache keys).
    static let describeNewSQL = "CASE WHEN g.group_id = '' THEN CAST(? AS TEXT) ELSE 'grupo ' || COALESCE(NULLIF(g.name, ''), g.group_id) END"
    /// What ``describe(_:)`` says of a ticket nobody holds.
    static let describeNone = "—"

    /// "grupo X / agente Y" for the history.
    func describe(_ ticket: TicketRecord) -> String {
        var parts: [String] = []
        if !ticket.groupID.isEmpty { parts.append("grupo \(ticket.groupName.isEmpty ? ticket.groupID : ticket.groupName)") }
        if !ticket.agentID.isEmpty { parts.append("agente \(ticket.agentName.isEmpty ? ticket.agentID : ticket.agentName)") }
        return parts.isEmpty ? Self.describeNone : parts.joined(separator: " / ")
    }

    /// Where devolver (`SendBack`) returns the ticket: the holder before the latest repasse still
    /// standing. The repasses are replayed in order, each devolver undoing the latest one left, so
    /// a second devolver walks one step further back (A → B → C; C devolves to B; B devolves to
    /// A, not back to C). That repasse must be how the current holder got the ticket: its
    /// destination agent, or, for a repasse to a group's queue, whoever took it there. `nil` when
    /// there is none (a ticket routed to its holder, or passed on since by something else).
    public func previousHolder(_ tx: any SQLExecutor, _ ticket: TicketRecord) throws -> HolderRef? {
        var standing: [(from: HolderRef, to: HolderRef)] = []
        for row in try tx.query("""
            SELECT from_agent_id, from_group_id, to_agent_id, to_group_id, sent_back FROM transfers WHERE ticket_id = ? ORDER BY at, id
            """, [.text(ticket.id)]) {
            if row.i("sent_back") != 0 {
                _ = standing.popLast()
            } else {
                standing.append((HolderRef(agentID: row.s("from_agent_id"), groupID: row.s("from_group_id")),
                                 HolderRef(agentID: row.s("to_agent_id"), groupID: row.s("to_group_id"))))
            }
        }
        guard let last = standing.last, !last.from.isEmpty, last.from != ticket.holderRef else { return nil }
        let reached = last.to.agentID.isEmpty ? last.to.groupID == ticket.groupID : last.to.agentID == ticket.agentID
        return reached ? last.from : nil
    }

    /// Records that a scheduling date was agreed with the customer (counted every time).
    @discardableResult
    public func schedule(_ tx: any SQLExecutor, _ ticket: TicketRecord, at date: Int64, note: String, actor: Actor) throws -> TicketRecord {
        guard ticket.unreadCount == 0 else { throw unreadError(ticket) }
        let at = now()
        try touch(tx, ticket.id, "scheduled_for = ?, schedule_count = schedule_count + 1", [.integer(date)], at: at)
        try record(tx, ticket.id, "schedule", old: ticket.scheduledFor == 0 ? "" : String(ticket.scheduledFor), new: String(date),
                   note: note, actor: actor, at: at)
        let updated = try load(tx, ticket.id)
        return try setStatus(tx, updated, status: "agendado", reason: note, actor: actor)
    }

    /// Marks the customer's messages read by the holder.
    @discardableResult
    public func markRead(_ tx: any SQLExecutor, _ ticket: TicketRecord, actor: Actor) throws -> TicketRecord {
        guard ticket.unreadCount > 0 else { return ticket }
        let at = now()
        try touch(tx, ticket.id, "unread_count = 0", [], at: at)
        try record(tx, ticket.id, "read", old: String(ticket.unreadCount), new: "0", actor: actor, at: at)
        return try load(tx, ticket.id)
    }
}
