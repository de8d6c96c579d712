import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// How a ticket awaits the customer's acceptance of a solution, if it does.
public enum SolutionAcceptance: Sendable, Equatable {
    /// The flow offers the customer moves from the ticket's stage (the `totvs` flow's Resolvido):
    /// accepting takes the move into a final stage, rejecting the move that reopens the work.
    case moves(accept: String, reject: String)
    /// The ticket is open with status `cliente_informado` (the customer was told the solution):
    /// accepting sets `solucao_confirmada`, rejecting clears the status.
    case status
}

extension TicketLifecycle {
    /// The status that says the customer was told the solution and may confirm it.
    public static let awaitingAcceptanceStatus = "cliente_informado"
    /// The status a customer's acceptance sets.
    public static let confirmedStatus = "solucao_confirmada"

    /// Whether (and how) `ticket` awaits the customer's acceptance of a solution; `nil` when not.
    public func solutionAcceptance(_ ticket: TicketRecord) -> SolutionAcceptance? {
        if let moves = acceptanceMoves(ticket, in: ticket.stage) { return .moves(accept: moves.accept, reject: moves.reject) }
        if ticket.isOpen && ticket.status == Self.awaitingAcceptanceStatus { return .status }
        return nil
    }

    /// The customer moves that accept (into a final stage) and reject (back to the work) a
    /// solution proposed in `stage` of `ticket`'s flow (the `totvs` flow's Resolvido), if it has both.
    func acceptanceMoves(_ ticket: TicketRecord, in stage: String) -> (accept: String, reject: String)? {
        let flow = flow(of: ticket)
        let moves = flow.moves(from: stage, trigger: .customer, category: ticket.category)
        let accept = moves.first { flow.stage($0.to)?.isFinal == true }
        let reject = moves.first { flow.stage($0.to).map { !$0.isFinal } ?? false }
        guard let accept, let reject else { return nil }
        return (accept.to, reject.to)
    }

    /// Whether customer `actor` may accept or reject `ticket`'s proposed solution: its own contact,
    /// a company administrator of its organization or its representative's people — the rule
    /// intake's cancellation follows (``TicketDecisionRule``). Another contact of the company
    /// reads and answers the ticket, but does not decide for a colleague's (before 2026-12 any
    /// contact of the organization accepted, which in the `totvs` flow finishes the ticket).
    func mayAnswerSolution(_ ticket: TicketRecord, _ actor: Actor) -> Bool {
        actor.kind == .customer && TicketDecisionRule.mayDecide(
            callerID: actor.id, callerRepresentativeID: actor.representativeID, organizationAdmin: actor.isOrganizationAdmin,
            contactID: ticket.contact.id, representativeID: ticket.representative.id)
    }

    /// The customer's answer to the proposed solution of `ticket`.
    ///
    /// Accepting finishes the ticket along the flow's customer move, or confirms the solution
    /// (status `solucao_confirmada`, by the customer). Rejecting records the reason as a public
    /// discussion entry (`solution_rejected`: the holder and the customer see it), counts it as an
    /// unread customer message, and reopens the work: the flow's customer move back, or the status
    /// cleared.
    /// - Throws: `PERMISSION_DENIED` for staff and for a customer who may not decide for the ticket
    ///   (``mayAnswerSolution(_:_:)``); `FAILED_PRECONDITION` when the ticket awaits no
    ///   acceptance; `INVALID_ARGUMENT` naming `reason` when a rejection has none.
    @discardableResult
    public func answerSolution(_ tx: any SQLExecutor, _ ticket: TicketRecord, accept: Bool, reason: String, actor: Actor) throws -> TicketRecord {
        guard actor.kind == .customer else {
            throw RPCError(.permissionDenied, "somente o cliente aceita ou rejeita a solução / only the customer accepts or rejects the solution")
        }
        guard mayAnswerSolution(ticket, actor) else {
            throw RPCError(.permissionDenied, """
                apenas o contato da ocorrência, um administrador da empresa ou o representante dela aceita ou rejeita a solução / \
                only the ticket's contact, a company administrator or its representative's people accept or reject the solution
                """, violations: [FieldViolation(field: "ticket_id", reason: "not_the_tickets_own",
                                                 pt: "A ocorrência é de \(ticket.contact.name.isEmpty ? "outro contato" : ticket.contact.name).",
                                                 en: "The ticket is \(ticket.contact.name.isEmpty ? "another contact" : ticket.contact.name)'s.")])
        }
        guard let acceptance = solutionAcceptance(ticket) else {
            throw RPCError(.failedPrecondition, "a ocorrência não aguarda sua validação / the ticket does not await your acceptance",
                           violations: [FieldViolation(field: "ticket_id", reason: "not_awaiting_acceptance",
                                                       pt: "Não há solução a validar.", en: "There is no solution to accept.")])
        }
        let text = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        if !accept && text.isEmpty {
            throw RPCError(.invalidArgument, "informe o motivo da rejeição / give the reason for rejecting", violations: [
                FieldViolation(field: "reason", reason: "required", pt: "Explique por que a solução não resolve.",
                               en: "Explain why the solution does not solve it.")])
        }
        let at = now()
        var updated = ticket
        if !text.isEmpty {
            updated = try addEntry(tx, updated, kind: accept ? "solution_accepted" : "solution_rejected", isPublic: true, text: text,
                                   actor: actor, at: at).ticket
        }
        if !accept {
            // Like a customer reply: the holder has a message to read.
            try touch(tx, updated.id, "unread_count = unread_count + 1", [], at: at)
            updated = try load(tx, updated.id)
            try notify(tx, .customerReplied, updated, at: at)
        }
        switch acceptance {
        case .moves(let acceptStage, let rejectStage):
            return try move(tx, updated, to: accept ? acceptStage : rejectStage, trigger: .customer, actor: actor)
        case .status:
            // Told the solution while the ticket waited on them (Aguardando cliente: "did it
            // work?"), the customer answered: the ticket comes back to the team by the flow's
            // reply move, as with a reply. Before 2026-12 it stayed waiting, the inactivity
            // countdown ran on, and a confirmed solution closed as "sem retorno do cliente".
            let told = updated.status
            if let back = flow(of: updated).moves(from: updated.stage, trigger: .customerReply, category: updated.category).first {
                updated = try move(tx, updated, to: back.to, trigger: .customerReply, actor: actor)
                updated.status = told  // the history's old status: the move cleared it
            }
            return try setStatus(tx, updated, status: accept ? Self.confirmedStatus : "", reason: accept ? text : "rejeitada: \(text)", actor: actor)
        }
    }
}
