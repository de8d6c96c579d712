import Messages
import RPC
import Storage

extension StaffDirectory {
    /// - Throws: `INVALID_ARGUMENT` naming `destinations[i].agent_id` or `destinations[i].group_id`
    ///   for an agent or group the directory does not have ("*", any, is always accepted).
    static func checkDestinations(_ tx: any SQLExecutor, _ destinations: [WorkflowV1.Destination]) throws {
        var violations: [FieldViolation] = []
        for (index, destination) in destinations.enumerated() {
            if !destination.agentID.isEmpty && destination.agentID != "*",
               try tx.queryOne("SELECT 1 AS x FROM agents WHERE id = ?", [.text(destination.agentID)]) == nil {
                violations.append(FieldViolation(field: "destinations[\(index)].agent_id", reason: "not_found",
                                                 pt: "Agente \(destination.agentID) não cadastrado.", en: "Agent \(destination.agentID) is not in the directory."))
            }
            if !destination.groupID.isEmpty && destination.groupID != "*",
               try tx.queryOne("SELECT 1 AS x FROM staff_groups WHERE id = ?", [.text(destination.groupID)]) == nil {
                violations.append(FieldViolation(field: "destinations[\(index)].group_id", reason: "not_found",
                                                 pt: "Grupo \(destination.groupID) não cadastrado.", en: "Group \(destination.groupID) is not in the directory."))
            }
        }
        guard violations.isEmpty else {
            throw RPCError(.invalidArgument, "destinos de repasse inválidos / invalid transfer destinations", violations: violations)
        }
    }
}
