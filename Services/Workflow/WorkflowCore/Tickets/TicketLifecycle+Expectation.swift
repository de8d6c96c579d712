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
/// `no_longer_holder`), whether their page said so or not: their view is out of date, not their
/// permission. The answer says how and when they lost it — a repasse, a devolver, a chefe's take,
/// a step's assignment (``FormerHolders``) — and who holds it now. Before 2026-12 it was
/// `PERMISSION_DENIED`; until migration 203 still so without an expectation after a take or an
/// assignment (only repasses named the agent who lost the ticket).
extension TicketLifecycle {
    /// - Throws: `INVALID_ARGUMENT` on `expected.stage` when an expectation names no stage;
    ///   `FAILED_PRECONDITION` on `expected` when `ticket` is no longer in the stage or with the
    ///   holder `expected` names (reason `no_longer_holder` when it named the caller, else `stale`).
    func requireUnchanged(_ tx: any SQLExecutor, _ ticket: TicketRecord, since expected: WorkflowV1.TicketExpectation?, actor: Actor) throws {
        guard let expected else { return }
        guard !expected.stage.isEmpty else {
            throw RPCError(.invalidArgument, "informe a etapa esperada / give the expected stage", violations: [
                FieldViolation(field: "expected.stage", reason: "required", pt: "A etapa que a página mostrava.",
                               en: "The stage the page showed.")])
        }
        let shown = HolderRef(agentID: expected.agentID, groupID: expected.groupID)
        if expected.stage == ticket.stage && shown == ticket.holderRef { return }
        if !shown.agentID.isEmpty && shown.agentID == actor.id && ticket.agentID != actor.id {
            throw noLongerHolderError(ticket, field: "expected",
                                      lost: try FormerHolders.loss(tx, ticketID: ticket.id, agentID: actor.id), actor: actor)
        }
        let (pt, en) = currentState(ticket)
        throw RPCError(.failedPrecondition, """
            a ocorrência mudou desde que você a abriu (agora: \(pt)); recarregue / \
            the ticket changed since you opened it (now: \(en)); reload
            """, violations: [FieldViolation(field: "expected", reason: "stale", pt: "Agora: \(pt).", en: "Now: \(en).")])
    }

    /// What a caller who held `ticket` and passed it on (or had it taken) is answered: how and
    /// when they lost it, when known (`lost`), and who holds it now.
    func noLongerHolderError(_ ticket: TicketRecord, field: String, lost: FormerHolders.Loss?, actor: Actor) -> RPCError {
        let (pt, en) = currentState(ticket)
        let how = lost.map { FormerHolders.describe($0, caller: actor) }
        return RPCError(.failedPrecondition, """
            você não é mais o responsável pela ocorrência (\(how.map { $0.pt + "; " } ?? "")agora: \(pt)); recarregue / \
            you no longer hold this ticket (\(how.map { $0.en + "; " } ?? "")now: \(en)); reload
            """, violations: [FieldViolation(field: field, reason: "no_longer_holder",
                                             pt: (how.map { $0.pt + ". " } ?? "") + "Agora: \(pt).",
                                             en: (how.map { $0.en + ". " } ?? "") + "Now: \(en).")])
    }

    /// Whether `actor` may act on `ticket` (``requireCanAct(_:_:_:)``), for `GetTicketHolder`;
    /// when not because they held it and lost it, the refusal workflow answers their own changes
    /// (``noLongerHolderError(_:field:lost:actor:)``), for services that refuse on its behalf
    /// (notification's `SendTicketEmail`, ``TicketAccessCheck``).
    func mayAct(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor) -> (Bool, WorkflowV1.NoLongerHolder?) {
        do {
            try requireCanAct(tx, ticket, actor)
            return (true, nil)
        } catch let error as RPCError where error.code == .failedPrecondition {
            guard let violation = error.violations.first, violation.reason == "no_longer_holder",
                  let lost = try? formerHolding(tx, ticket, actor) else { return (false, nil) }
            var refusal = WorkflowV1.NoLongerHolder()
            refusal.message = error.message
            refusal.description = violation.descriptionPT
            refusal.descriptionEn = violation.descriptionEN
            refusal.lostAtMs = lost.at
            refusal.kind = lost.kind
            return (false, refusal)
        } catch {
            return (false, nil)
        }
    }

    /// How and when `actor`, an agent who does not hold `ticket`, once held it and lost it (a
    /// repasse, a devolver, a chefe's take, a step's assignment); `nil` when they never held it.
    func formerHolding(_ tx: any SQLExecutor, _ ticket: TicketRecord, _ actor: Actor) throws -> FormerHolders.Loss? {
        guard actor.kind == .agent, ticket.agentID != actor.id else { return nil }
        return try FormerHolders.loss(tx, ticketID: ticket.id, agentID: actor.id)
    }

    /// The ticket's stage and holder, named, in Portuguese and in English: "Em atendimento, com
    /// grupo Nível 1, agente Bruno". Group and agent are not joined by " / ", which splits a
    /// message's two languages (`BilingualText`): before, the gateway cut the Portuguese half at
    /// the group ("… com grupo Nível 1") and started the English one with "agente Bruno); recarregue".
    func currentState(_ ticket: TicketRecord) -> (pt: String, en: String) {
        let group = ticket.groupName.isEmpty ? ticket.groupID : ticket.groupName
        let agent = ticket.agentName.isEmpty ? ticket.agentID : ticket.agentName
        let pt = [group.isEmpty ? "" : "grupo \(group)", agent.isEmpty ? "" : "agente \(agent)"].filter { !$0.isEmpty }
        let en = [group.isEmpty ? "" : "group \(group)", agent.isEmpty ? "" : "agent \(agent)"].filter { !$0.isEmpty }
        return ("\(stageName(ticket, ticket.stage)), com \(pt.isEmpty ? "ninguém" : pt.joined(separator: ", "))",
                "\(ticket.stage), held by \(en.isEmpty ? "nobody" : en.joined(separator: ", "))")
    }
}
