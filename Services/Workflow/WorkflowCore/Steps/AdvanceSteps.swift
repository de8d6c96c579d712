import Foundation
import Messages
import RPC
import RPCTransport
import Storage

/// Advance step: a ticket type carries a predefined sequence of steps, each with its holder and
/// required fields; advancing checks the fields, names what is missing and assigns the next holder.
enum AdvanceSteps {
    struct StepRow {
        var name: String
        var holder: HolderRef
        var required: [String]
    }

    static func steps(_ tx: any SQLExecutor, _ type: String) throws -> [StepRow] {
        try tx.query("SELECT * FROM step_sequences WHERE ticket_type = ? ORDER BY position", [.text(type)]).map(stepRow)
    }

    /// A `step_sequences` row (its required fields stored comma-separated).
    static func stepRow(_ row: Row) -> StepRow {
        StepRow(name: row.s("name"), holder: HolderRef(agentID: row.s("agent_id"), groupID: row.s("group_id")),
                required: row.s("required_fields").split(separator: ",").map(String.init))
    }

    static func fields(_ tx: any SQLExecutor, _ ticketID: String) throws -> [String: String] {
        Dictionary(try tx.query("SELECT name, value FROM ticket_fields WHERE ticket_id = ?", [.text(ticketID)]).map { ($0.s("name"), $0.s("value")) },
                   uniquingKeysWith: { $1 })
    }

    static func setFields(_ tx: any SQLExecutor, _ ticketID: String, _ fields: [String: String]) throws {
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            try tx.execute("DELETE FROM ticket_fields WHERE ticket_id = ? AND name = ?", [.text(ticketID), .text(name)])
            if !value.isEmpty {
                try tx.execute("INSERT INTO ticket_fields (ticket_id, name, value) VALUES (?, ?, ?)", [.text(ticketID), .text(name), .text(value)])
            }
        }
    }

    /// Puts `ticket` on step 0 of `type`'s sequence and gives it to that step's holder.
    @discardableResult
    static func start(_ tx: any SQLExecutor, _ ticket: TicketRecord, type: String, actor: Actor, lifecycle: TicketLifecycle) throws -> TicketRecord {
        let sequence = try steps(tx, type)
        guard let first = sequence.first else {
            throw RPCError(.failedPrecondition, "tipo sem sequência de passos / no step sequence for \(type)")
        }
        let at = lifecycle.now()
        try lifecycle.touch(tx, ticket.id, "ticket_type = ?, step_position = 0", [.text(type)], at: at)
        try lifecycle.record(tx, ticket.id, "step", old: "", new: first.name, note: type, actor: actor, at: at)
        var updated = try lifecycle.load(tx, ticket.id)
        if first.holder != updated.holderRef {
            updated = try lifecycle.changeHolder(tx, updated, to: first.holder, kind: .assign, actor: actor, note: "Passo \(first.name)")
        }
        return updated
    }

    static func register(_ router: inout RPCRouter, api: WorkflowAPI) {
        let lifecycle = api.lifecycle
        router.register(WorkflowV1.Workflow.putStepSequence) { request, context in
            try api.write(context, request, requiring: "routing.manage") { actor, tx in
                var violations: [FieldViolation] = []
                if request.ticketType.isEmpty {
                    violations.append(FieldViolation(field: "ticket_type", reason: "required", pt: "Informe o tipo.", en: "Give the type."))
                }
                for (index, step) in request.steps.enumerated() where step.name.isEmpty || (step.agentID.isEmpty && step.groupID.isEmpty) {
                    violations.append(FieldViolation(field: "steps[\(index)]", reason: "incomplete", pt: "Cada passo tem nome e responsável.",
                                                     en: "Each step has a name and a holder."))
                }
                // Required fields are stored as one comma-separated list: a name is non-empty and has no comma.
                for (index, step) in request.steps.enumerated()
                where step.requiredFields.contains(where: { $0.trimmingCharacters(in: .whitespaces).isEmpty || $0.contains(",") }) {
                    violations.append(FieldViolation(field: "steps[\(index)].required_fields", reason: "invalid",
                                                     pt: "Cada campo obrigatório tem um nome, sem vírgula.", en: "Each required field has a name, without a comma."))
                }
                guard violations.isEmpty else { throw RPCError(.invalidArgument, "sequência inválida / invalid sequence", violations: violations) }
                try tx.execute("DELETE FROM step_sequences WHERE ticket_type = ?", [.text(request.ticketType)])
                for (index, step) in request.steps.enumerated() {
                    try tx.execute("""
                        INSERT INTO step_sequences (ticket_type, position, name, agent_id, group_id, required_fields) VALUES (?, ?, ?, ?, ?, ?)
                        """, [.text(request.ticketType), SQLValue(index), .text(step.name), .text(step.agentID), .text(step.groupID),
                              .text(step.requiredFields.joined(separator: ","))])
                }
                var response = WorkflowV1.PutStepSequenceResponse()
                response.ticketType = request.ticketType
                response.steps = request.steps
                return response
            }
        }
        router.register(WorkflowV1.Workflow.listStepSequences) { _, context in
            try api.read(context) { actor, tx in
                try actor.requireStaff()
                var response = WorkflowV1.ListStepSequencesResponse()
                var current: WorkflowV1.StepSequence?
                for row in try tx.query("SELECT * FROM step_sequences ORDER BY ticket_type, position") {
                    if current?.ticketType != row.s("ticket_type") {
                        if let done = current { response.sequences.append(done) }
                        current = WorkflowV1.StepSequence()
                        current?.ticketType = row.s("ticket_type")
                    }
                    let stored = stepRow(row)
                    var step = WorkflowV1.Step()
                    step.name = stored.name
                    step.agentID = stored.holder.agentID
                    step.groupID = stored.holder.groupID
                    step.requiredFields = stored.required
                    current?.steps.append(step)
                }
                if let done = current { response.sequences.append(done) }
                return response
            }
        }
        router.register(WorkflowV1.Workflow.setTicketFields) { request, context in
            try api.work(context, request) { actor, tx in
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                try setFields(tx, ticket.id, request.fields)
                let at = lifecycle.now()
                try tx.execute("UPDATE tickets SET updated_at = ? WHERE id = ?", [.integer(at), .text(ticket.id)])
                try lifecycle.record(tx, ticket.id, "fields", new: request.fields.keys.sorted().joined(separator: ", "), actor: actor, at: at)
                return try api.view(tx, try lifecycle.load(tx, ticket.id), actor)
            }
        }
        router.register(WorkflowV1.Workflow.startSteps) { request, context in
            try api.work(context, request) { actor, tx in
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                return try api.view(tx, try start(tx, ticket, type: request.ticketType, actor: actor, lifecycle: lifecycle), actor)
            }
        }
        router.register(WorkflowV1.Workflow.advanceStep) { request, context in
            try api.work(context, request) { actor, tx in
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                let sequence = try steps(tx, ticket.ticketType)
                guard ticket.stepPosition >= 0, ticket.stepPosition < sequence.count else {
                    throw RPCError(.failedPrecondition, "a ocorrência não está em uma sequência de passos / the ticket is not in a step sequence")
                }
                let current = sequence[ticket.stepPosition]
                let filled = try fields(tx, ticket.id)
                let missing = current.required.filter { (filled[$0] ?? "").trimmingCharacters(in: .whitespaces).isEmpty }
                guard missing.isEmpty else {
                    throw RPCError(.failedPrecondition, """
                        campos obrigatórios do passo \(current.name) não preenchidos: \(missing.joined(separator: ", ")) \
                        / required fields missing: \(missing.joined(separator: ", "))
                        """, violations: missing.map { FieldViolation(field: "fields.\($0)", reason: "required", pt: "Preencha \($0).", en: "Fill in \($0).") })
                }
                let at = lifecycle.now()
                let nextPosition = ticket.stepPosition + 1
                try lifecycle.touch(tx, ticket.id, "step_position = ?", [SQLValue(nextPosition)], at: at)
                let nextName = nextPosition < sequence.count ? sequence[nextPosition].name : "concluída"
                try lifecycle.record(tx, ticket.id, "step", old: current.name, new: nextName, actor: actor, at: at)
                var updated = try lifecycle.load(tx, ticket.id)
                if nextPosition < sequence.count, sequence[nextPosition].holder != updated.holderRef {
                    updated = try lifecycle.changeHolder(tx, updated, to: sequence[nextPosition].holder, kind: .assign, actor: actor,
                                                         note: "Passo \(nextName)")
                }
                return try api.view(tx, updated, actor)
            }
        }
    }
}
