import Messages
import Storage

/// Keeps the flows as rows: seeds the shipped presets when their rows are missing and loads
/// every flow from the tables, so a vendor's edits to the rows take effect at the next start.
public enum FlowStore {
    /// Inserts the rows of `flows` that are missing (existing rows are left as edited).
    public static func seed(_ tx: any SQLExecutor, _ flows: [StageFlow] = FlowPresets.all) throws {
        for flow in flows {
            let present = try tx.scalar("SELECT COUNT(*) FROM flow_settings WHERE flow = ?", [.text(flow.name)])
            if case .integer(let n) = present, n > 0 { continue }
            if case .text(let n) = present, n != "0" { continue }
            try tx.execute("INSERT INTO flow_settings (flow, queue_stage, working_stage, waiting_stage) VALUES (?, ?, ?, ?)",
                           [.text(flow.name), .text(flow.queueStage), .text(flow.workingStage), .text(flow.waitingStage)])
            for (position, stage) in flow.stages.enumerated() {
                try tx.execute("""
                    INSERT INTO flow_stages (flow, stage_key, name, customer_name, customer_stage, position, is_final, name_en, customer_name_en)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(flow.name), .text(stage.key), .text(stage.name), .text(stage.customerName),
                          .text(stage.customerStage), SQLValue(position), SQLValue(stage.isFinal), .text(stage.nameEN), .text(stage.customerNameEN)])
            }
            for (position, move) in flow.transitions.enumerated() {
                let categories = move.categories.map { String($0.rawValue) }.sorted().joined(separator: ",")
                try tx.execute("""
                    INSERT INTO flow_transitions (flow, position, from_stage, to_stage, trigger_kind, categories, outcome,
                        requires_note, requires_public_note, permission, after_days, label)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(flow.name), SQLValue(position), .text(move.from), .text(move.to), .text(move.trigger.rawValue),
                          .text(categories), .text(move.outcome), SQLValue(move.requiresNote), SQLValue(move.requiresPublicNote),
                          .text(move.permission), SQLValue(move.afterDays), .text(move.label)])
            }
        }
    }

    /// Migration 200: a stage's English names beside its Portuguese ones (`name_en`,
    /// `customer_name_en`; empty: a shipped stage's English name when its Portuguese name is one,
    /// else the Portuguese name), so a flow an administrator configures names its stages in both
    /// languages. Stored flows get the shipped stages' English names (``ShippedStageNames``).
    static let englishNamesMigration: Migration = {
        let names = ShippedStageNames.english.sorted { $0.key < $1.key }
        func english(_ column: String) -> String {
            "CASE \(column) " + names.map { "WHEN '\($0.key)' THEN '\($0.value)'" }.joined(separator: " ") + " ELSE '' END"
        }
        return Migration(version: 200, name: "flow_stage_english_names", sql: """
            ALTER TABLE flow_stages ADD COLUMN name_en TEXT NOT NULL DEFAULT '';
            ALTER TABLE flow_stages ADD COLUMN customer_name_en TEXT NOT NULL DEFAULT '';
            UPDATE flow_stages SET name_en = \(english("name")), customer_name_en = \(english("customer_name"));
            """)
    }()

    /// Every flow in the tables.
    public static func load(_ tx: any SQLExecutor) throws -> [String: StageFlow] {
        var flows: [String: StageFlow] = [:]
        for settings in try tx.query("SELECT flow, queue_stage, working_stage, waiting_stage FROM flow_settings") {
            let name = settings.s("flow")
            let stages = try tx.query("SELECT * FROM flow_stages WHERE flow = ? ORDER BY position", [.text(name)]).map {
                StageDefinition($0.s("stage_key"), $0.s("name"), customer: $0.s("customer_name"), shownAs: $0.s("customer_stage"),
                                isFinal: $0.i("is_final") != 0, nameEN: $0.s("name_en"), customerNameEN: $0.s("customer_name_en"))
            }
            let transitions = try tx.query("SELECT * FROM flow_transitions WHERE flow = ? ORDER BY position", [.text(name)]).compactMap { row -> Transition? in
                guard let trigger = TransitionTrigger(rawValue: row.s("trigger_kind")) else { return nil }
                let categories = Set(row.s("categories").split(separator: ",").compactMap { Int32($0).flatMap(CommonV1.Category.init(rawValue:)) })
                return Transition(row.s("from_stage"), row.s("to_stage"), trigger, categories: categories, outcome: row.s("outcome"),
                                  requiresNote: row.i("requires_note") != 0, requiresPublicNote: row.i("requires_public_note") != 0,
                                  permission: row.s("permission"), afterDays: Int(row.i("after_days")), label: row.s("label"))
            }
            flows[name] = StageFlow(name: name, stages: stages, transitions: transitions, queueStage: settings.s("queue_stage"),
                                    workingStage: settings.s("working_stage"), waitingStage: settings.s("waiting_stage"))
        }
        return flows
    }
}
