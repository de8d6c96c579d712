import Foundation
import Messages
import Storage

/// An automatic close a ticket is still in: the inactivity engine's timer move into a final
/// stage (``TicketLifecycle/inactivityClose(_:_:)``), as its history recorded it.
public struct InactivityClose: Sendable, Hashable {
    /// The stage the countdown closed the ticket from (Aguardando cliente; in the TOTVS-like flow
    /// Validação cliente, or Resolvido).
    public var fromStage: String
    /// The final stage it closed the ticket into.
    public var toStage: String
    /// The outcome the close recorded (the ticket's, until a reopening clears it).
    public var outcome: String
    /// When the close took effect (its history line; the ticket's `finished_at`).
    public var closedAt: Int64
    /// When the ticket entered the first stage of the automatic moves that ended in the close
    /// (the waiting stage; in the TOTVS-like flow Pendente, before its timer move to Validação
    /// cliente): the countdown a reply would have stopped started there.
    public var waitingSince: Int64

    /// Whether a customer reply written at `writtenAt` would have stopped the countdown had it
    /// reached workflow in time: written while the ticket waited, before the close took effect.
    public func isUndone(byReplyWrittenAt writtenAt: Int64) -> Bool {
        waitingSince <= writtenAt && writtenAt < closedAt
    }
}

/// A customer reply written before an inactivity close but delivered after it (workflow down
/// across the deadline while intake's outbox held the reply, a retried delivery): the customer's
/// timely answer wins, and the ticket is reopened as the reply would have left it.
extension TicketLifecycle {
    /// The history note of such a reopening (after the flow's reply move's label, when there is one).
    static func lateReplyNote(undoing outcome: String) -> String {
        """
        resposta do cliente anterior ao encerramento (\(TicketOutcome.label(outcome, .portuguese))) \
        / customer reply written before the close (\(TicketOutcome.label(outcome, .english)))
        """
    }

    /// The inactivity close `ticket` is still in, or `nil`: the ticket is finished and its latest
    /// stage change is a move by the system (``Actor/system``) along a `timer` transition of its
    /// flow into the stage it is in — the only moves the system makes along timer transitions are
    /// the inactivity engine's (``LifecycleSeam/performInactivityAction(_:ticketID:action:at:)``).
    /// Anything that moved it since (an agent's reopening and a new finish) makes it `nil`.
    public func inactivityClose(_ tx: any SQLExecutor, _ ticket: TicketRecord) throws -> InactivityClose? {
        guard !ticket.isOpen else { return nil }
        let flow = flow(of: ticket)
        let lines = try tx.query("""
            SELECT old_value, new_value, at, actor_id FROM ticket_history WHERE ticket_id = ? AND kind = 'stage' ORDER BY seq DESC
            """, [.text(ticket.id)]).map { (from: try $0.text("old_value"), to: try $0.text("new_value"), at: try $0.int("at"),
                                             actor: try $0.text("actor_id")) }
        func automatic(_ line: (from: String, to: String, at: Int64, actor: String)) -> Bool {
            line.actor == Actor.system.id
                && flow.moves(from: line.from, trigger: .timer, category: ticket.category).contains { $0.to == line.to }
        }
        guard let close = lines.first, automatic(close), close.to == ticket.stage, flow.stage(close.to)?.isFinal == true else { return nil }
        // Back along the chain of automatic moves that led to the close, to the move (an agent's
        // request for information, usually) that put the ticket in its first waiting stage.
        var first = 0
        while first + 1 < lines.count, automatic(lines[first + 1]), lines[first + 1].to == lines[first].from { first += 1 }
        let entered = first + 1 < lines.count && lines[first + 1].to == lines[first].from ? lines[first + 1].at : ticket.openedAt
        return InactivityClose(fromStage: close.from, toStage: close.to, outcome: ticket.outcome, closedAt: close.at, waitingSince: entered)
    }

    /// Reopens `ticket`, closed by `close` although the customer's reply (already added to its
    /// discussion) was written before it, where that reply would have taken it: the flow's
    /// `customer_reply` move from the stage it was closed from (Aguardando cliente → Em
    /// atendimento), or, when the flow has none, back into that stage. The outcome is cleared,
    /// the history says why (``lateReplyNote(undoing:)``), `StageChanged` is published (no
    /// `InformationRequested`: nobody asked anything) and the observers get the reply and the
    /// move, at `at` (the delivery), in the order a reply in time would have given them: the
    /// SLA opens a next-response cycle from the reopening, and a countdown the reopening starts
    /// (back into the waiting stage) is stopped by the reply, as it would have been.
    /// - Returns: the ticket reopened, or `nil` when the reply would have taken it into a final
    ///   stage (a flow whose reply move finishes): then nothing changes.
    func reopenAfterLateReply(_ tx: any SQLExecutor, _ ticket: TicketRecord, close: InactivityClose, actor: Actor,
                              at: Int64) throws -> TicketRecord? {
        let flow = flow(of: ticket)
        let reply = flow.moves(from: close.fromStage, trigger: .customerReply, category: ticket.category).first
        guard let destination = flow.stage(reply?.to ?? close.fromStage), !destination.isFinal else { return nil }
        let note = [reply?.label ?? "", Self.lateReplyNote(undoing: close.outcome)].filter { !$0.isEmpty }.joined(separator: ": ")
        func reopen() throws -> TicketRecord {
            try changeStage(tx, ticket, to: destination, trigger: .customerReply, actor: actor, historyNote: note, note: "", publicNote: "",
                            outcome: "", requestsInformation: false, at: at)
        }
        guard reply != nil else {
            // Back into the stage the reply was written in, where the flow moves nothing on a
            // reply: its countdown, started again by the reopening, stops for good.
            let reopened = try reopen()
            try notify(tx, .customerReplied, reopened, at: at)
            return reopened
        }
        try notify(tx, .customerReplied, ticket, at: at)
        return try reopen()
    }
}
