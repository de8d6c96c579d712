import Foundation
import Messages
import RPC
import Storage

/// Changes asked from a page that no longer shows the ticket as it is.
///
/// A staff change may carry what the caller's page showed (`TicketExpectation`: the stage and the
/// holder). When the ticket has since moved or changed hands the change is refused
/// (`FAILED_PRECONDITION`) even if it would still be allowed in the new state: a chefe's repasse
/// sent right after the holder's own, a "concluir" chosen in Em atendimento arriving in Diagnóstico
/// técnico. Without an expectation the change is judged on the ticket as it is (integrations).
///
/// A caller who held the ticket and no longer does is told so (`FAILED_PRECONDITION`, reason
/// `no_longer_holder`), whether their page said so or the transfers show they passed it on:
/// their view is out of date, not their permission (before 2026-12 it was `PERMISSION_DENIED`).
extension TicketLifecycle {
    /// - Throws: `INVALID_ARGUMENT` on `expected.stage` when an expectation names no stage;
    ///   `FAILED_PRECONDITION` on `expected` when `ticket` is no longer in the stage or with the
    ///   holder `expected` names (reason `no_longer_holder` when it named the caller, else `stale`).
    func requireUnchanged(_ ticket: TicketRecord, since expected: WorkflowV1.TicketExpectation?, actor: Actor) throws {
        guard let expected else { return }
        guard !expected.stage.isEmpty else {
            throw RPCError(.invalidArgument, "informe a etapa esperada / give the expected stage", violations: [
                FieldViolation(field: "expected.stage", reason: "required", pt: "A etapa que a página mostrava.",
                               en: "The stage the page showed.")])
        }
        let shown = HolderRef(agentID: expected.agentID, groupID: expected.groupID)
        if expected.stage == ticket.stage && shown == ticket.holderRef { return }
        if !shown.agentID.isEmpty && shown.agentID == actor.id && ticket.agentID != actor.id {
            throw noLongerHolderError(ticket, field: "expected")
        }
        let (pt, en) = currentState(ticket)
        throw RPCError(.failedPrecondition, """
            a ocorrência mudou desde que você a abriu (agora: \(pt)); recarregue / \
            the ticket changed since you opened it (now: \(en)); reload
            """, violations: [FieldViolation(field: "expected", reason: "stale", pt: "Agora: \(pt).", en: "Now: \(en).")])
    }

    /// What a caller who held `ticket` and passed it on (or had it taken) is answered.
    func noLongerHolderError(_ ticket: TicketRecord, field: String) -> RPCError {
        let (pt, en) = currentState(ticket)
        return RPCError(.failedPrecondition, """
            você não é mais o responsável pela ocorrência (agora: \(pt)); recarregue / \
            you no longer hold this ticket (now: \(en)); reload
            """, violations: [FieldViolation(field: field, reason: "no_longer_holder", pt: "Agora: \(pt).", en: "Now: \(en).")])
    }

    /// Whether `actor` once held `ticket` and passed it on or had it sent back (a transfer from them).
    func handedOnBy(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor) throws -> Bool {
        guard actor.kind == .agent, ticket.agentID != actor.id else { return false }
        return try tx.queryOne("SELECT 1 AS x FROM transfers WHERE ticket_id = ? AND from_agent_id = ? LIMIT 1",
                               [.text(ticket.id), .text(actor.id)]) != nil
    }

    /// The ticket's stage and holder, named, in Portuguese and in English.
    func currentState(_ ticket: TicketRecord) -> (pt: String, en: String) {
        let group = ticket.groupName.isEmpty ? ticket.groupID : ticket.groupName
        let agent = ticket.agentName.isEmpty ? ticket.agentID : ticket.agentName
        let pt = [group.isEmpty ? "" : "grupo \(group)", agent.isEmpty ? "" : "agente \(agent)"].filter { !$0.isEmpty }
        let en = [group.isEmpty ? "" : "group \(group)", agent.isEmpty ? "" : "agent \(agent)"].filter { !$0.isEmpty }
        return ("\(stageName(ticket, ticket.stage)), com \(pt.isEmpty ? "ninguém" : pt.joined(separator: " / "))",
                "\(ticket.stage), held by \(en.isEmpty ? "nobody" : en.joined(separator: " / "))")
    }
}
