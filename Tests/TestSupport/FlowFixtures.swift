import Storage

/// Flow rows as an administrator writes them into workflow's database (`flow_stages`,
/// `flow_transitions`; docs/WORKFLOW.md "Stages and flows"), for tests of what names stages.
/// Workflow reads its flows at the start: start (or restart) it after adding them.
public enum FlowFixtures {
    /// The `padrao` flow's stage an administrator adds: Triagem fiscal (key `triagem_fiscal`,
    /// "Em triagem" to customers), named in English too ("Tax triage", "In triage"), with the
    /// agents' move into it from Em atendimento (after the flow's last move).
    public static func addTaxTriage(_ database: any Database) throws {
        try database.write { tx in
            try tx.execute("""
                INSERT INTO flow_stages (flow, stage_key, name, customer_name, customer_stage, position, is_final, name_en, customer_name_en)
                VALUES ('padrao', 'triagem_fiscal', 'Triagem fiscal', 'Em triagem', 'triagem_fiscal', 99, 0, 'Tax triage', 'In triage')
                """)
            try tx.execute("""
                INSERT INTO flow_transitions (flow, position, from_stage, to_stage, trigger_kind)
                SELECT 'padrao', MAX(position) + 1, 'em_atendimento', 'triagem_fiscal', 'agent' FROM flow_transitions WHERE flow = 'padrao'
                """)
        }
    }
}
