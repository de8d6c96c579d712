import Storage
import TestSupport

/// The hand-offs `workflow-bench --handoffs 1` writes into each held ticket's history, as workflow
/// writes them (`TicketLifecycle.changeHolder`): what migrations reading the history
/// (203's ``FormerHolders`` backfill) have to go through on a live database. Without it a
/// ticket's history holds one `holder` line with no note and no `transfers` row.
///
/// A held ticket (one with an agent) gets, drawn per ticket, one of:
/// - a take by its agent (no loss);
/// - a take by another agent, then that agent's repasse to it (a `transfers` row): one loss;
/// - a take by another agent, then its agent's take (a chefe's take): one loss;
/// - a step sequence (type `implantacao`): step 1 assigns it to A0001 in G01, step 2 to A0002 in
///   G02, its holder since: one loss (A0001's, known by id only from the step's definition).
struct HandoffHistory {
    static let stepType = "implantacao"
    static let steps = [(name: "Levantamento", agent: 1, group: 1), (name: "Configuração", agent: 2, group: 2)]

    /// The rows of one ticket: its history's `holder` lines (with their `seq`s) and `transfers`.
    struct Rows {
        var history: [[SQLValue]] = []
        var transfers: [[SQLValue]] = []
        /// The holder the lines end with (the ticket's row says the same).
        var agent: Int
        var group: Int
        var ticketType = ""
        /// The `seq` of the ticket's next history line.
        var nextSeq: Int64
    }

    static func agentID(_ a: Int) -> String { String(format: "A%04d", a) }
    static func describe(group: Int, agent: Int?) -> String {
        "grupo Grupo \(group)" + (agent.map { " / agente Agente \($0)" } ?? "")
    }

    /// `step_sequences` rows for ``stepType``.
    static func directory(_ tx: any SQLExecutor) throws {
        for (position, step) in steps.enumerated() {
            try tx.execute("INSERT INTO step_sequences (ticket_type, position, name, agent_id, group_id) VALUES (?, ?, ?, ?, ?)",
                           [.text(stepType), .integer(Int64(position)), .text(step.name), .text(agentID(step.agent)),
                            .text(String(format: "G%02d", step.group))])
        }
    }

    /// The hand-offs of ticket `id` (number `i`) held by `agent` in `group`, starting at `at` with
    /// history line `seq`.
    static func rows(_ id: String, _ i: Int, agent: Int, group: Int, at: Int64, seq: Int64) -> Rows {
        var random = SplitMix64(state: UInt64(i) &* 104_729 &+ 17)
        var rows = Rows(agent: agent, group: group, nextSeq: seq)
        func line(_ suffix: String, _ at: Int64, old: String, new: String, note: String, actor: Int?) {
            let actorID = actor.map(agentID) ?? ""
            rows.history.append([.text("\(id)-\(suffix)"), .text(id), .integer(at), .integer(rows.nextSeq), "holder", .text(old), .text(new),
                                 .text(note), .text(actorID), .text(actor.map { "Agente \($0)" } ?? "")])
            rows.nextSeq += 1
        }
        let queue = describe(group: group, agent: nil)
        var other = random.below(WorkflowBench.agents)
        if other == agent { other = (other + 1) % WorkflowBench.agents }
        switch random.below(4) {
        case 0:
            line("h2", at, old: queue, new: describe(group: group, agent: agent), note: "take", actor: agent)
        case 1:
            line("h2", at, old: queue, new: describe(group: group, agent: other), note: "take", actor: other)
            line("h2b", at + 600_000, old: describe(group: group, agent: other), new: describe(group: group, agent: agent),
                 note: "transfer", actor: other)
            let keys = ["a:\(agentID(other))", "a:\(agentID(agent))"].sorted().joined(separator: "|")
            rows.transfers.append([.text("\(id)-tr1"), .text(id), .integer(at + 600_000), .text(agentID(other)), .text(String(format: "G%02d", group)),
                                   .text(agentID(agent)), .text(String(format: "G%02d", group)), .text(keys), .text(agentID(other)),
                                   .text("Agente \(other)")])
        case 2:
            line("h2", at, old: queue, new: describe(group: group, agent: other), note: "take", actor: other)
            line("h2b", at + 600_000, old: describe(group: group, agent: other), new: describe(group: group, agent: agent),
                 note: "take", actor: agent)
        default:
            let (first, second) = (steps[0], steps[1])
            line("h2", at, old: queue, new: describe(group: first.group, agent: first.agent), note: "assign: Passo \(first.name)", actor: nil)
            line("h2b", at + 600_000, old: describe(group: first.group, agent: first.agent),
                 new: describe(group: second.group, agent: second.agent), note: "assign: Passo \(second.name)", actor: first.agent)
            rows.agent = second.agent
            rows.group = second.group
            rows.ticketType = stepType
        }
        return rows
    }
}
