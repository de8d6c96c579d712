import Foundation
import Messages
import RPC
import Storage

extension TicketLifecycle {
    /// Adds a discussion entry. Public entries by agents — people — count as responses (the first
    /// one is the ticket's first response); an integration's (an API key's, another system's) or
    /// a service's public entry is written and published but answers nothing: it stops no SLA
    /// clock, counts no first response and asks the customer nothing again (since 2026-12-02:
    /// an automatic "recebemos seu chamado" posted by an integration counted as the first
    /// response). Customer entries count as interactions and unread messages.
    /// - Returns: the entry and the ticket after it.
    @discardableResult
    public func addEntry(_ tx: any SQLExecutor, _ ticket: TicketRecord, kind: String, isPublic: Bool, text: String, actor: Actor,
                         publishable: Bool = false, messageID: String = "", at explicitAt: Int64? = nil,
                         attachments: [CommonV1.AttachmentRef] = []) throws -> (entry: WorkflowV1.DiscussionEntry, ticket: TicketRecord) {
        let at = explicitAt ?? now()
        let id = RandomID.timeOrdered()
        let seq = try tx.queryOne("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM discussion_entries WHERE ticket_id = ?", [.text(ticket.id)])?.i("n") ?? 1
        try tx.execute("""
            INSERT INTO discussion_entries (id, ticket_id, seq, kind, is_public, text, author_id, author_name, author_kind, publishable,
                message_id, added_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, [.text(id), .text(ticket.id), .integer(seq), .text(kind), SQLValue(isPublic), .text(text), .text(actor.id),
                  .text(actor.name), .text(actor.kind.rawValue), SQLValue(publishable), .text(messageID), .integer(at)])
        // Searchable in a row of its own (public ones by customers too), whatever the ticket's history.
        try EntryTextIndex.add(tx, ticketID: ticket.id, isPublic: isPublic, text: text)
        let staffResponse = isPublic && actor.kind == .agent && !actor.isIntegration
        let first = staffResponse && ticket.firstResponseAt == 0
        if isPublic {
            // Never backwards: a reply delivered late carries the earlier instant it was written
            // (before 2026-12 it put the date back behind the agent's answers since).
            try touch(tx, ticket.id, """
                last_interaction_at = CASE WHEN last_interaction_at > CAST(? AS BIGINT) THEN last_interaction_at ELSE CAST(? AS BIGINT) END,
                first_response_at = ?
                """, [.integer(at), .integer(at), .integer(first ? at : ticket.firstResponseAt)], at: at)
        }
        let updated = try load(tx, ticket.id)
        var entry = WorkflowV1.DiscussionEntry()
        entry.entryID = id
        entry.isPublic = isPublic
        entry.kind = kind
        entry.text = text
        entry.authorID = actor.id
        entry.authorName = actor.name
        entry.publishable = publishable
        entry.addedAtMs = at
        entry.attachments = attachments
        if actor.kind != .customer {
            var event = WorkflowV1.DiscussionAdded()
            event.ticket = summary(updated)
            event.entryID = id
            event.isPublic = isPublic
            event.kind = kind
            event.text = text
            event.authorID = actor.id
            event.authorName = actor.name
            event.publishable = publishable
            event.addedAtMs = at
            // What a reader of the entry may see: a public entry's event carries no internal file.
            event.attachments = isPublic ? attachments.filter { !$0.`internal` } : attachments
            try publish(tx, event, updated)
        }
        if publishable { try publishAnswer(tx, updated, entry: entry, actor: actor, at: at) }
        if staffResponse { try notify(tx, .agentPublicResponse(first: first), updated, at: at) }
        return (entry, updated)
    }

    /// The customer got back (a reply through intake, a message the team logged): observers hear
    /// `.customerReplied` (SLA: a next response owed; inactivity: the countdown stops) and the
    /// ticket takes its flow's `customer_reply` move from its stage, if any (Aguardando cliente →
    /// Em atendimento), by `actor`. - Returns: the ticket after it.
    func customerGotBack(_ tx: any SQLExecutor, _ ticket: TicketRecord, actor: Actor, at: Int64) throws -> TicketRecord {
        try notify(tx, .customerReplied, ticket, at: at)
        guard let back = flow(of: ticket).moves(from: ticket.stage, trigger: .customerReply, category: ticket.category).first else { return ticket }
        return try move(tx, ticket, to: back.to, trigger: .customerReply, actor: actor)
    }

    /// Marks an existing entry as publishable (an answer worth offering to the knowledge forum).
    public func markPublishable(_ tx: any SQLExecutor, _ ticket: TicketRecord, entryID: String, actor: Actor) throws -> WorkflowV1.DiscussionEntry {
        guard let row = try tx.queryOne("SELECT * FROM discussion_entries WHERE id = ? AND ticket_id = ?", [.text(entryID), .text(ticket.id)]) else {
            throw RPCError(.notFound, "entrada não encontrada / entry not found")
        }
        var entry = Self.entry(row)
        guard !entry.publishable else { return entry }
        let at = now()
        try tx.execute("UPDATE discussion_entries SET publishable = 1 WHERE id = ?", [.text(entryID)])
        try record(tx, ticket.id, "discussion", new: "publicável", note: entryID, actor: actor, at: at)
        entry.publishable = true
        try publishAnswer(tx, ticket, entry: entry, actor: actor, at: at)
        return entry
    }

    func publishAnswer(_ tx: any SQLExecutor, _ ticket: TicketRecord, entry: WorkflowV1.DiscussionEntry, actor: Actor, at: Int64) throws {
        var event = WorkflowV1.PublishableAnswerMarked()
        event.ticket = summary(ticket)
        event.entryID = entry.entryID
        event.question = ticket.subject + "\n\n" + ticket.request
        event.answer = entry.text
        event.agentID = actor.id
        event.markedAtMs = at
        try publish(tx, event, ticket)
    }

    static func entry(_ row: Row) -> WorkflowV1.DiscussionEntry {
        var entry = WorkflowV1.DiscussionEntry()
        entry.entryID = row.s("id")
        entry.isPublic = row.i("is_public") != 0
        entry.kind = row.s("kind")
        entry.text = row.s("text")
        entry.authorID = row.s("author_id")
        entry.authorName = row.s("author_name")
        entry.publishable = row.i("publishable") != 0
        entry.addedAtMs = row.i("added_at")
        return entry
    }

    /// Sets the request or solution text as a new version; earlier versions stay for agents.
    @discardableResult
    public func setText(_ tx: any SQLExecutor, _ ticket: TicketRecord, field: String, text: String, actor: Actor) throws -> TicketRecord {
        precondition(field == "request" || field == "solution")
        let at = now()
        let version = try tx.queryOne("SELECT COALESCE(MAX(version), 0) + 1 AS n FROM text_versions WHERE ticket_id = ? AND field = ?",
                                      [.text(ticket.id), .text(field)])?.i("n") ?? 1
        try tx.execute("INSERT INTO text_versions (ticket_id, field, version, text, author_id, author_name, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       [.text(ticket.id), .text(field), .integer(version), .text(text), .text(actor.id), .text(actor.name), .integer(at)])
        try touch(tx, ticket.id, "\(field)_text = ?", [.text(text)], at: at)
        try tx.execute("UPDATE ticket_search SET \(field) = ? WHERE ticket_id = ?", [.text(SearchText.indexText(text)), .text(ticket.id)])
        try record(tx, ticket.id, "text", old: field, new: "versão \(version)", actor: actor, at: at)
        return try load(tx, ticket.id)
    }
}
