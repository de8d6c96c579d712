import Foundation
import Storage

/// Who held a ticket and lost it, by agent id: when, how (a repasse, a devolver, a chefe's take,
/// a step's assignment) and by whom. One row per ticket and former holder, the latest loss.
///
/// The answer to a former holder acting on the ticket from an out-of-date page reads it
/// (``TicketLifecycle/noLongerHolderError(_:field:lost:actor:)``): "you held this ticket until
/// the chefe took it at …", a `FAILED_PRECONDITION`, not the `PERMISSION_DENIED` of a colleague
/// who never held it. Before migration 203 only repasses and devolver (`transfers`) named the
/// agent who lost the ticket; the history's `holder` lines name holders by name only, so a
/// chefe's take or a step's assignment left nothing by id.
public enum FormerHolders {
    /// How and when an agent lost a ticket.
    public struct Loss: Sendable, Hashable {
        /// When (epoch ms).
        public var at: Int64
        /// ``TicketLifecycle/HandoffKind``'s raw value: `take`, `transfer`, `send_back`, `assign`.
        public var kind: String
        /// Who made the change (the former holder themselves for their own repasse).
        public var actorID: String
        public var actorName: String
    }

    /// Migration 203: the table, backfilled with what can be known by id.
    ///
    /// - Repasses and devolver: every `transfers` row from an agent (exact).
    /// - A take or a step's assignment: from the history's `holder` lines, when the line before it
    ///   made an agent known by id the holder — a take (its actor is who took it) or a repasse
    ///   or devolver to an agent (its `transfers` row, same ticket and time) — and that line's new
    ///   holder reads as this one's old (nothing unrecorded in between, no rename since).
    /// - Left out: a holder who got the ticket by a step's assignment (204 adds them when the
    ///   step still says who, ``stepsMigration``), or one renamed between the two lines (their
    ///   history names them only); they keep `PERMISSION_DENIED` for losses before the migration.
    ///
    /// One pass over the history in its primary key's order (``backfill(_:_:)``): at 1,000,000
    /// tickets (1.7 M `holder` lines, 3.7 M history rows) 4.7–4.8 s on SQLite, peak memory flat
    /// (before: 6.5 s, +71 MiB for the sorts), 4.1–5.3 s on PostgreSQL (docs/BENCHMARKS-workflow.md).
    static let migration = Migration(version: 203, name: "ticket_former_holders",
                                     sqlite: createTable + backfill(.sqlite, historyLosses),
                                     postgres: createTable + backfill(.postgres, historyLosses))

    static let createTable = """
        CREATE TABLE ticket_former_holders (
            ticket_id TEXT NOT NULL, agent_id TEXT NOT NULL, until_at BIGINT NOT NULL, kind TEXT NOT NULL,
            actor_id TEXT NOT NULL DEFAULT '', actor_name TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (ticket_id, agent_id));

        """

    /// 203's `losses`: the `transfers` rows from an agent, and the takes and assignments whose
    /// previous `holder` line (``ordered(_:agent:)``) made an agent known by id the holder.
    static let historyLosses = """
        WITH holder_lines AS (
            SELECT h.id, h.ticket_id, h.seq, h.at, h.note, h.actor_id, h.actor_name, h.old_value, h.new_value,
                   CASE WHEN h.note = 'take' THEN h.actor_id
                        WHEN h.note LIKE 'transfer%' OR h.note LIKE 'devolvida%' THEN COALESCE((
                            SELECT tr.to_agent_id FROM transfers tr WHERE tr.ticket_id = h.ticket_id AND tr.at = h.at
                            ORDER BY tr.id DESC LIMIT 1), '')
                   END AS new_agent_id
            FROM ticket_history h WHERE h.kind = 'holder'
        ), \(ordered("holder_lines", agent: "new_agent_id"))
        ), losses AS (
            SELECT tr.ticket_id, tr.from_agent_id AS agent_id, tr.at, tr.id AS tie,
                   CASE WHEN tr.sent_back <> 0 THEN 'send_back' ELSE 'transfer' END AS kind, tr.actor_id, tr.actor_name
            FROM transfers tr WHERE tr.from_agent_id <> '' AND tr.from_agent_id <> tr.to_agent_id
            UNION ALL
            SELECT o.ticket_id, o.prev_agent_id, o.at, o.id, CASE WHEN o.note = 'take' THEN 'take' ELSE 'assign' END,
                   o.actor_id, o.actor_name
            FROM ordered o
            WHERE (o.note = 'take' OR o.note LIKE 'assign%') AND o.prev_agent_id <> '' AND o.prev_value = o.old_value
              AND o.prev_agent_id <> COALESCE(o.new_agent_id, '')
        )
        """

    /// `ordered`: each of `lines` (`holder` lines, in a `WITH`) with the previous line's agent
    /// id (its column `agent`) and new holder (`prev_agent_id`, `prev_value`), in the history's
    /// order, `at` then `seq`: `ticket_history`'s primary key, so SQLite reads the table as it
    /// lies, no sort.
    static func ordered(_ lines: String, agent: String) -> String {
        """
        ordered AS (
            SELECT l.*, LAG(l.\(agent)) OVER (PARTITION BY l.ticket_id ORDER BY l.at, l.seq) AS prev_agent_id,
                   LAG(l.new_value) OVER (PARTITION BY l.ticket_id ORDER BY l.at, l.seq) AS prev_value
            FROM \(lines) l
        """
    }

    /// Writes the latest of `losses` (a `WITH` whose last table is `losses`: ticket_id,
    /// agent_id, at, tie, kind, actor_id, actor_name) per ticket and agent, keeping a later loss
    /// already recorded. SQLite: each loss as it comes, the later one kept by the upsert (one
    /// statement may meet the same row twice there): nothing sorted, nothing held (workflow's
    /// SQLite writer keeps temporary files in memory, so a sort of every loss was memory
    /// proportional to the history). PostgreSQL: the latest per ticket and agent first (an
    /// `INSERT … ON CONFLICT DO UPDATE` may not meet a row twice; its sort spills to disk past
    /// `work_mem`); at the same millisecond the later row id wins there, the first read on SQLite.
    static func backfill(_ engine: DatabaseEngine, _ losses: String) -> String {
        let upsert = """
            ON CONFLICT (ticket_id, agent_id) DO UPDATE SET until_at = excluded.until_at, kind = excluded.kind,
                actor_id = excluded.actor_id, actor_name = excluded.actor_name
            WHERE excluded.until_at > ticket_former_holders.until_at;
            """
        let insert = "INSERT INTO ticket_former_holders (ticket_id, agent_id, until_at, kind, actor_id, actor_name)\n"
        switch engine {
        case .sqlite:
            return losses + "\n" + insert + "SELECT ticket_id, agent_id, at, kind, actor_id, actor_name FROM losses WHERE true\n" + upsert
        case .postgres:
            return losses + """
                , latest AS (
                    SELECT losses.*, ROW_NUMBER() OVER (PARTITION BY ticket_id, agent_id ORDER BY at DESC, tie DESC) AS n FROM losses
                )

                """ + insert + "SELECT ticket_id, agent_id, at, kind, actor_id, actor_name FROM latest WHERE n = 1\n" + upsert
        }
    }

    /// Migration 204: what 203 left out of a step sequence. A step's assignment line (note
    /// `assign: Passo <name>`) names its new holder by name only, but the step it names says who:
    /// a step of that name (`step_sequences`) whose holder, named as workflow names holders today
    /// ("grupo G / agente A"), reads as the line's new holder — the sequence not edited and the
    /// agent not renamed since — gives the agent's id, when every such step (of any ticket type)
    /// names the same agent and no other agent bears that name (else left out). Each such
    /// holder who then lost the ticket by a take or by the next step's assignment (the next line
    /// reading them as its old holder) is recorded; their losses by repasse or devolver were
    /// already (`transfers`, 203). Run as its own migration so that databases that applied 203
    /// before it get it too; a loss recorded already, later or at the same time, is kept.
    ///
    /// The steps are joined, not looked up line by line, and the ticket's type is not read: as
    /// first written (a subquery per assignment line, through the ticket's type) PostgreSQL took
    /// 24 s at 1,000,000 tickets, joining `tickets` 9 s, now 3.2–5.2 s (SQLite 7.1 s, now 3.6–3.8 s).
    /// Without a step naming an agent the history is not read at all (a condition checked once).
    static let stepsMigration = Migration(version: 204, name: "ticket_former_holders_steps",
                                          sqlite: backfill(.sqlite, stepLosses), postgres: backfill(.postgres, stepLosses))

    /// 204's `losses`: takes and assignments whose previous `holder` line was a step's
    /// assignment to an agent its step names by id.
    static let stepLosses = """
        WITH step_holders AS (
            SELECT 'assign: Passo ' || s.name AS note,
                   CASE WHEN s.group_id = '' THEN '' ELSE 'grupo ' || COALESCE(NULLIF(g.name, ''), s.group_id) || ' / ' END
                       || 'agente ' || COALESCE(NULLIF(a.name, ''), s.agent_id) AS described,
                   s.agent_id
            FROM step_sequences s
            LEFT JOIN agents a ON a.id = s.agent_id
            LEFT JOIN staff_groups g ON g.id = s.group_id
            WHERE s.agent_id <> '' AND NOT EXISTS (SELECT 1 FROM agents o WHERE o.name = a.name AND o.id <> s.agent_id)
        ), step_agents AS (
            SELECT note, described, MIN(agent_id) AS agent_id FROM step_holders
            GROUP BY note, described HAVING COUNT(DISTINCT agent_id) = 1
        ), step_lines AS (
            SELECT h.id, h.ticket_id, h.seq, h.at, h.note, h.actor_id, h.actor_name, h.old_value, h.new_value,
                   sa.agent_id AS step_agent_id
            FROM ticket_history h
            LEFT JOIN step_agents sa ON sa.note = h.note AND sa.described = h.new_value
            WHERE h.kind = 'holder' AND EXISTS (SELECT 1 FROM step_sequences WHERE agent_id <> '')
        ), \(ordered("step_lines", agent: "step_agent_id"))
        ), losses AS (
            SELECT o.ticket_id, o.prev_agent_id AS agent_id, o.at, o.id AS tie,
                   CASE WHEN o.note = 'take' THEN 'take' ELSE 'assign' END AS kind, o.actor_id, o.actor_name
            FROM ordered o
            WHERE (o.note = 'take' OR o.note LIKE 'assign%') AND o.prev_agent_id IS NOT NULL AND o.prev_value = o.old_value
              AND COALESCE(CASE WHEN o.note = 'take' THEN o.actor_id ELSE o.step_agent_id END, '') <> o.prev_agent_id
        )
        """

    /// Records that `agentID` lost `ticketID` (a no-op for nobody). Deferred on PostgreSQL: it goes
    /// out with the change's next statement, no round trip more.
    static func record(_ tx: any SQLExecutor, ticketID: String, agentID: String, at: Int64, kind: TicketLifecycle.HandoffKind,
                       actor: Actor) throws {
        guard !agentID.isEmpty else { return }
        try tx.executeDeferred("""
            INSERT INTO ticket_former_holders (ticket_id, agent_id, until_at, kind, actor_id, actor_name) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (ticket_id, agent_id) DO UPDATE SET until_at = excluded.until_at, kind = excluded.kind,
                actor_id = excluded.actor_id, actor_name = excluded.actor_name
            """, [.text(ticketID), .text(agentID), .integer(at), .text(kind.rawValue), .text(actor.id), .text(actor.name)])
    }

    /// The latest time `agentID` lost `ticketID`; `nil` when they never held it (as far as known).
    public static func loss(_ tx: any SQLExecutor, ticketID: String, agentID: String) throws -> Loss? {
        guard !agentID.isEmpty,
              let row = try tx.queryOne("SELECT until_at, kind, actor_id, actor_name FROM ticket_former_holders WHERE ticket_id = ? AND agent_id = ?",
                                        [.text(ticketID), .text(agentID)]) else { return nil }
        return Loss(at: row.i("until_at"), kind: row.s("kind"), actorID: row.s("actor_id"), actorName: row.s("actor_name"))
    }

    /// "Chefe a assumiu em 02/12/2026 09:00 UTC-03:00" / "Chefe took it at 2026-12-02 09:00
    /// UTC-03:00": who did what, when, in São Paulo's time (the business calendar's default
    /// zone), the zone named by its offset. "Você"/"You" when the caller did it themselves.
    static func describe(_ loss: Loss, caller: Actor) -> (pt: String, en: String) {
        let own = !loss.actorID.isEmpty && loss.actorID == caller.id
        let name = loss.actorName.isEmpty ? loss.actorID : loss.actorName
        let who = own ? ("Você", "You") : name.isEmpty ? ("Alguém", "Someone") : (name, name)
        let did: (String, String)
        switch TicketLifecycle.HandoffKind(rawValue: loss.kind) {
        case .take: did = ("a assumiu", "took it")
        case .transfer: did = ("a repassou", "passed it on")
        case .sendBack: did = ("a devolveu", "sent it back")
        case .assign: did = ("a atribuiu a outro responsável", "assigned it to another holder")
        case nil: did = ("a passou adiante", "handed it on")
        }
        return ("\(who.0) \(did.0) em \(time(loss.at, english: false))", "\(who.1) \(did.1) at \(time(loss.at, english: true))")
    }

    static func time(_ ms: Int64, english: Bool) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "America/Sao_Paulo") ?? .gmt
        formatter.dateFormat = (english ? "yyyy-MM-dd HH:mm" : "dd/MM/yyyy HH:mm") + " 'UTC'xxx"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }
}
