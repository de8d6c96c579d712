import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

extension WorkflowAPI {
    /// Stage statuses an agent may set.
    static let statuses: Set<String> = ["solucionado_nao_informado", "cliente_informado", "solucao_confirmada", "agendado", "pendente", "paralisado", ""]
    static let serviceTypes: Set<String> = ["support", "consulting"]

    /// Mutations: stages, status, classification, level, hand-offs, conversation, links.
    func registerWrites(_ router: inout RPCRouter) {
        let api = self
        let lifecycle = self.lifecycle
        router.register(WorkflowV1.Workflow.moveTicket) { request, context in
            try api.write(context, request) { actor, tx in try api.view(tx, try api.move(tx, request, actor), actor) }
        }
        router.register(WorkflowV1.Workflow.listAllowedMoves) { request, context in
            try api.read(context) { actor, tx in
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor)
                let flow = lifecycle.flow(of: ticket)
                var response = WorkflowV1.ListAllowedMovesResponse()
                let triggers: [TransitionTrigger] = actor.kind == .customer ? [.customer] : [.agent]
                // As `move` decides it: staff who may not change tickets (a read-only key) move
                // nothing; staff who may not act on this ticket only along a move their permission
                // guards (a product manager's accept or deny in Análise produto).
                let mayWork = actor.kind == .customer || (try? actor.requireWork()) != nil
                let mayAct = actor.kind == .customer || (try? lifecycle.requireCanAct(tx, ticket, actor)) != nil
                // A customer's rejection of a proposed solution needs its reason (``move``: it is AnswerSolution),
                // and only who may answer it is offered the answer (its contact, a company administrator,
                // its representative's people).
                let acceptance = actor.kind == .customer ? lifecycle.acceptanceMoves(ticket, in: ticket.stage) : nil
                let rejection = acceptance?.reject
                let answers = acceptance.map { [$0.accept, $0.reject] } ?? []
                let mayAnswer = lifecycle.mayAnswerSolution(ticket, actor)
                for trigger in triggers where mayWork {
                    for transition in flow.moves(from: ticket.stage, trigger: trigger, category: ticket.category)
                    where (transition.permission.isEmpty ? mayAct : actor.has(transition.permission)) && (mayAnswer || !answers.contains(transition.to)) {
                        var move = WorkflowV1.AllowedMove()
                        move.toStage = transition.to
                        let stage = flow.stage(transition.to)
                        move.stageName = (actor.isStaff ? stage?.name : stage?.customerName) ?? transition.to
                        move.stageNameEn = (actor.isStaff ? stage?.nameEN : stage?.customerNameEN) ?? transition.to
                        move.outcome = transition.outcome
                        move.requiresNote = transition.requiresNote
                        move.requiresPublicNote = transition.requiresPublicNote || transition.to == rejection
                        move.permission = transition.permission
                        response.moves.append(move)
                    }
                }
                return response
            }
        }
        router.register(WorkflowV1.Workflow.setStageStatus) { request, context in
            try api.work(context, request) { actor, tx in
                guard Self.statuses.contains(request.status) else {
                    throw RPCError(.invalidArgument, "status inválido / invalid status", violations: [FieldViolation(
                        field: "status", reason: "invalid", pt: "Use: \(Self.statuses.sorted().joined(separator: ", "))",
                        en: "Use: \(Self.statuses.sorted().joined(separator: ", "))")])
                }
                try TextLimits.check([(request.reason, "reason", TextLimits.note)])
                if request.status == "paralisado" && request.reason.trimmingCharacters(in: .whitespaces).isEmpty {
                    throw RPCError(.invalidArgument, "informe o motivo da paralisação / give the reason", violations: [
                        FieldViolation(field: "reason", reason: "required", pt: "Quem ou o que a ocorrência aguarda.", en: "Who or what it waits on.")])
                }
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor, expecting: request.expected)
                // A status is inside a stage's work: a finished ticket has none (a stale page set one).
                guard ticket.isOpen else { throw Self.finishedError }
                // Scheduling, or telling the customer the solution (which they then accept), over a
                // customer message nobody read: it may say the solution does not work.
                if (request.status == "agendado" || request.status == TicketLifecycle.awaitingAcceptanceStatus) && ticket.unreadCount > 0 {
                    throw lifecycle.unreadError(ticket)
                }
                return try api.view(tx, try lifecycle.setStatus(tx, ticket, status: request.status, reason: request.reason, actor: actor), actor)
            }
        }
        router.register(WorkflowV1.Workflow.answerSolution) { request, context in
            try api.write(context, request) { actor, tx in
                try TextLimits.check([(request.reason, "reason", TextLimits.note)])
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                return try api.view(tx, try lifecycle.answerSolution(tx, ticket, accept: request.accept, reason: request.reason, actor: actor), actor)
            }
        }
        router.register(WorkflowV1.Workflow.reclassify) { request, context in
            try api.work(context, request) { actor, tx in
                try TextLimits.check([(request.reason, "reason", TextLimits.note)])
                guard !request.reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                    throw RPCError(.invalidArgument, "informe o motivo / give the reason", violations: [
                        FieldViolation(field: "reason", reason: "required", pt: "Por que mudar?", en: "Why change it?")])
                }
                if !request.serviceType.isEmpty && !Self.serviceTypes.contains(request.serviceType) {
                    throw RPCError(.invalidArgument, "tipo de atendimento inválido / invalid service type", violations: [
                        FieldViolation(field: "service_type", reason: "invalid", pt: "Use support ou consulting.", en: "Use support or consulting.")])
                }
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                let updated = try lifecycle.reclassify(tx, ticket, category: request.category == .unspecified ? nil : request.category,
                                                       priority: request.priority == .unspecified ? nil : request.priority,
                                                       serviceType: request.serviceType.isEmpty ? nil : request.serviceType,
                                                       reason: request.reason, actor: actor)
                return try api.view(tx, updated, actor)
            }
        }
        router.register(WorkflowV1.Workflow.setAccessLevel) { request, context in
            // Only chefes (and services): checked again before a retry is answered (``WorkflowAPI/write(_:_:gate:_:)``).
            try api.write(context, request, gate: { actor in
                try actor.requireWork()
                guard actor.isChefe || actor.kind == .service else {
                    throw RPCError(.permissionDenied, "somente chefes mudam o nível de acesso / only chefes change the access level")
                }
            }) { actor, tx in
                try TextLimits.check([(request.reason, "reason", TextLimits.note)])
                guard request.accessLevel >= 0, request.accessLevel <= actor.level else {
                    throw RPCError(.invalidArgument, "nível acima do seu / level above yours", violations: [
                        FieldViolation(field: "access_level", reason: "above_own", pt: "No máximo \(actor.level).", en: "At most \(actor.level).")])
                }
                // A chefe sees above their level only what they hold; they cannot change what they cannot see.
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                guard ticket.accessLevel <= actor.level || actor.kind == .service else {
                    throw RPCError(.permissionDenied, "nível da ocorrência acima do seu / ticket level above yours")
                }
                return try api.view(tx, try lifecycle.setAccessLevel(tx, ticket, level: request.accessLevel, reason: request.reason, actor: actor), actor)
            }
        }
        router.register(WorkflowV1.Workflow.takeTicket) { request, context in
            try api.work(context, request) { actor, tx in try api.view(tx, try api.take(tx, request.ticketID, actor), actor) }
        }
        router.register(WorkflowV1.Workflow.transferTicket) { request, context in
            try api.work(context, request) { actor, tx in try api.view(tx, try api.transfer(tx, request, actor), actor) }
        }
        router.register(WorkflowV1.Workflow.sendBack) { request, context in
            try api.work(context, request) { actor, tx in
                try TextLimits.check([(request.justification, "justification", TextLimits.note)])
                guard !request.justification.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw RPCError(.invalidArgument, "justificativa obrigatória para devolver / a justification is required", violations: [
                        FieldViolation(field: "justification", reason: "required", pt: "Explique por que devolve.", en: "Explain why.")])
                }
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor, expecting: request.expected)
                guard ticket.isOpen else { throw Self.finishedError }
                guard ticket.unreadCount == 0 else { throw lifecycle.unreadError(ticket) }
                guard let previous = try lifecycle.previousHolder(tx, ticket) else {
                    throw RPCError(.failedPrecondition, "não há responsável anterior / there is no previous holder")
                }
                // Not to someone who may no longer hold it (deactivated, a level now below the ticket's, a closed group).
                try HandoffDestination.check(tx, ticket, previous, by: actor, agentField: "ticket_id", groupField: "ticket_id")
                return try api.view(tx, try lifecycle.changeHolder(tx, ticket, to: previous, kind: .sendBack, actor: actor,
                                                                   note: request.justification), actor)
            }
        }
        router.register(WorkflowV1.Workflow.markMessagesRead) { request, context in
            try api.work(context, request) { actor, tx in
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                return try api.view(tx, try lifecycle.markRead(tx, ticket, actor: actor), actor)
            }
        }
        router.register(WorkflowV1.Workflow.logCustomerMessage) { request, context in
            try api.work(context, request) { actor, tx in
                try actor.requireStaff()
                try TextLimits.check([(request.text, "text", TextLimits.text), (request.kind, "kind", TextLimits.name)])
                // A message with nothing in it is no customer getting back (before 2026-12 an empty
                // one was stored, counted unread and took a waiting ticket back to the team).
                guard !request.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw RPCError(.invalidArgument, "texto vazio / empty text", violations: [
                        FieldViolation(field: "text", reason: "required", pt: "Escreva o que o cliente disse.", en: "Write what the customer said.")])
                }
                var ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                let kind = request.kind.isEmpty ? "voicemail" : request.kind
                let author = Actor(kind: .customer, id: ticket.contact.id, name: ticket.contact.name, organizationID: ticket.organizationID)
                ticket = try lifecycle.addEntry(tx, ticket, kind: kind, isPublic: false, text: request.text, actor: author).ticket
                let at = lifecycle.now()
                try lifecycle.touch(tx, ticket.id, "unread_count = unread_count + 1, last_interaction_at = ?", [.integer(at)], at: at)
                try lifecycle.record(tx, ticket.id, "discussion", new: kind, note: "registrada por \(actor.name)", actor: actor, at: at)
                // The customer got back, as by a reply (before, a ticket waiting on them stayed
                // there and was closed "sem retorno do cliente" although they had called).
                return try api.view(tx, try lifecycle.customerGotBack(tx, try lifecycle.load(tx, ticket.id), actor: author, at: at), actor)
            }
        }
        router.register(WorkflowV1.Workflow.scheduleTicket) { request, context in
            try api.work(context, request) { actor, tx in
                try TextLimits.check([(request.note, "note", TextLimits.note)])
                guard request.scheduledForMs > 0 else {
                    throw RPCError(.invalidArgument, "data obrigatória / a date is required", violations: [
                        FieldViolation(field: "scheduled_for_ms", reason: "required", pt: "Informe a data.", en: "Give the date.")])
                }
                let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor, expecting: request.expected)
                guard ticket.isOpen else { throw Self.finishedError }
                return try api.view(tx, try lifecycle.schedule(tx, ticket, at: request.scheduledForMs, note: request.note, actor: actor), actor)
            }
        }
        router.register(WorkflowV1.Workflow.bulkAction) { request, context in
            try api.bulk(request, context)
        }
        router.register(WorkflowV1.Workflow.addDiscussion) { request, context in
            if request.validateOnly {
                return try api.read(context) { actor, tx in
                    try actor.requireWork()
                    _ = try api.discussionTicket(tx, request, actor, forUpdate: false)
                    return WorkflowV1.AddDiscussionResponse()
                }
            }
            return try api.work(context, request) { actor, tx in
                var response = WorkflowV1.AddDiscussionResponse()
                response.entry = try api.addDiscussion(tx, request, actor).entry
                return response
            }
        }
        router.register(WorkflowV1.Workflow.markPublishable) { request, context in
            try api.work(context, request) { actor, tx in
                try actor.requireStaff()
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                var response = WorkflowV1.AddDiscussionResponse()
                response.entry = try lifecycle.markPublishable(tx, ticket, entryID: request.entryID, actor: actor)
                return response
            }
        }
        for (method, field) in [(WorkflowV1.Workflow.setSolution, "solution"), (WorkflowV1.Workflow.amendRequest, "request")] {
            router.register(method) { request, context in
                try api.work(context, request) { actor, tx in
                    try TextLimits.check([(request.text, "text", TextLimits.text)])
                    let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor)
                    return try api.view(tx, try lifecycle.setText(tx, ticket, field: field, text: request.text, actor: actor), actor)
                }
            }
        }
        router.register(WorkflowV1.Workflow.linkTickets) { request, context in
            try api.work(context, request) { actor, tx in
                try actor.requireStaff()
                try TextLimits.check([(request.note, "note", TextLimits.note)])
                guard request.ticketID != request.otherTicketID else {
                    throw RPCError(.invalidArgument, "uma ocorrência não se liga a si mesma / a ticket cannot link to itself")
                }
                let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
                let other = try lifecycle.loadVisible(tx, request.otherTicketID, actor: actor)
                try RelatedTickets.link(tx, ticket.id, other.id, codes: (ticket.code, other.code), note: request.note, actor: actor,
                                        at: lifecycle.now(), lifecycle: lifecycle)
                return try api.related(tx, ticket.id, actor)
            }
        }
    }

    func move(_ tx: any SQLExecutor, _ request: WorkflowV1.MoveTicketRequest, _ actor: Actor) throws -> TicketRecord {
        try TextLimits.check([(request.note, "note", TextLimits.note), (request.publicNote, "public_note", TextLimits.text)])
        if actor.kind == .customer {
            let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
            // A customer writes nothing internal: a note of theirs is for the team and for them
            // alike (before 2026-12 it was stored as an internal entry they could not read back).
            let text = [request.publicNote, request.note].filter { !$0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
                .joined(separator: "\n\n")
            // Accepting or rejecting a proposed solution is AnswerSolution's, however it is asked:
            // a rejection needs its reason and is a message for the holder. Before 2026-12 the
            // customer's own move back from Resolvido reopened the work without either.
            if let moves = lifecycle.acceptanceMoves(ticket, in: ticket.stage), request.toStage == moves.accept || request.toStage == moves.reject {
                try TextLimits.check([(text, request.publicNote.isEmpty ? "note" : "public_note", TextLimits.note)])
                if request.toStage == moves.reject && text.isEmpty {
                    throw RPCError(.invalidArgument, "informe o motivo da rejeição / give the reason for rejecting", violations: [
                        FieldViolation(field: "public_note", reason: "required", pt: "Explique por que a solução não resolve.",
                                       en: "Explain why the solution does not solve it.")])
                }
                return try lifecycle.answerSolution(tx, ticket, accept: request.toStage == moves.accept, reason: text, actor: actor)
            }
            return try lifecycle.move(tx, ticket, to: request.toStage, trigger: .customer, actor: actor, publicNote: text)
        }
        try actor.requireWork()
        let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: true)
        try lifecycle.requireUnchanged(tx, ticket, since: request.expected, actor: actor)
        do {
            try lifecycle.requireCanAct(tx, ticket, actor)
        } catch {
            // A move guarded by a permission (e.g. product managers accepting or denying in
            // Análise produto) may be made by whoever has that permission, holder or not.
            let guarded = lifecycle.flow(of: ticket).moves(from: ticket.stage, trigger: .agent, category: ticket.category)
                .contains { $0.to == request.toStage && !$0.permission.isEmpty && actor.has($0.permission) }
            if !guarded { throw error }
        }
        var moved = ticket
        // Taking a ticket that waits in a group's queue by moving it also assigns it to the agent.
        if ticket.agentID.isEmpty && actor.kind == .agent && request.toStage == lifecycle.flow(of: ticket).workingStage {
            moved = try lifecycle.changeHolder(tx, ticket, to: HolderRef(agentID: actor.id, groupID: ticket.groupID), kind: .take, actor: actor)
        }
        return try lifecycle.move(tx, moved, to: request.toStage, trigger: .agent, actor: actor, note: request.note, publicNote: request.publicNote)
    }

    /// A hand-off, take, status or schedule of a finished ticket.
    static var finishedError: RPCError {
        RPCError(.failedPrecondition, "ocorrência encerrada / the ticket is finished",
                 violations: [FieldViolation(field: "ticket_id", reason: "finished", pt: "A ocorrência já foi encerrada.", en: "The ticket is finished.")])
    }

    /// Takes a ticket. What the caller's view may no longer show — another agent took it first,
    /// or it was finished (a customer's cancellation while it waited in the queue) — is
    /// `FAILED_PRECONDITION`, checked before who may act on it (before, a group member who lost
    /// the race got `PERMISSION_DENIED`, and a finished ticket was assigned).
    func take(_ tx: any SQLExecutor, _ ticketID: String, _ actor: Actor) throws -> TicketRecord {
        guard actor.kind == .agent else { throw RPCError(.permissionDenied, "somente agentes / agents only") }
        try actor.requireWork()
        let ticket = try lifecycle.loadVisible(tx, ticketID, actor: actor, forUpdate: true)
        guard ticket.isOpen else { throw Self.finishedError }
        guard ticket.agentID.isEmpty || ticket.agentID == actor.id || actor.isChefe && ticket.chefeAgentID == actor.id else {
            throw RPCError(.failedPrecondition, "a ocorrência já está com outro agente / another agent holds the ticket",
                           violations: [FieldViolation(field: "ticket_id", reason: "taken", pt: "Outro agente já a atende: \(ticket.agentName.isEmpty ? ticket.agentID : ticket.agentName).",
                                                       en: "Another agent holds it: \(ticket.agentName.isEmpty ? ticket.agentID : ticket.agentName).")])
        }
        try lifecycle.requireCanAct(tx, ticket, actor)
        var taken = ticket
        if ticket.agentID != actor.id {
            taken = try lifecycle.changeHolder(tx, ticket, to: HolderRef(agentID: actor.id, groupID: ticket.groupID), kind: .take, actor: actor)
        }
        let flow = lifecycle.flow(of: taken)
        if taken.stage == flow.queueStage {
            taken = try lifecycle.move(tx, taken, to: flow.workingStage, trigger: .agent, actor: actor)
        }
        return taken
    }

    func transfer(_ tx: any SQLExecutor, _ request: WorkflowV1.TransferTicketRequest, _ actor: Actor) throws -> TicketRecord {
        try TextLimits.check([(request.note, "note", TextLimits.note)])
        guard !request.toAgentID.isEmpty || !request.toGroupID.isEmpty else {
            throw RPCError(.invalidArgument, "informe o destino / give the destination", violations: [
                FieldViolation(field: "to_agent_id", reason: "required", pt: "Agente ou grupo de destino.", en: "Destination agent or group.")])
        }
        let ticket = try lifecycle.loadActionable(tx, request.ticketID, actor: actor, expecting: request.expected)
        guard ticket.isOpen else { throw Self.finishedError }
        guard ticket.unreadCount == 0 else { throw lifecycle.unreadError(ticket) }
        let named = HolderRef(agentID: request.toAgentID, groupID: request.toGroupID)
        // Active, cleared for the ticket's level, and in the group named with them (before, "bruno
        // in n2" when bruno was not in n2, and a confidential ticket shown to whoever received it).
        try HandoffDestination.check(tx, ticket, named, member: true, by: actor, agentField: "to_agent_id", groupField: "to_group_id")
        var destination = named
        if !destination.agentID.isEmpty && destination.groupID.isEmpty {
            // Keep the group when the agent belongs to it; else the agent's first group.
            let groups = try tx.query("SELECT group_id FROM group_members WHERE agent_id = ? ORDER BY group_id", [.text(destination.agentID)]).map { $0.s("group_id") }
            destination.groupID = groups.contains(ticket.groupID) ? ticket.groupID : groups.first ?? ""
        }
        guard destination != ticket.holderRef else {
            throw RPCError(.failedPrecondition, "a ocorrência já está com esse responsável / the ticket already has that holder")
        }
        guard try StaffDirectory.mayTransfer(tx, actor, to: named) else {
            throw RPCError(.permissionDenied, "sem permissão para repassar a esse destino / not allowed to transfer to that destination")
        }
        return try lifecycle.changeHolder(tx, ticket, to: destination, kind: .transfer, actor: actor, note: request.note, copyTo: request.copyTo)
    }

    /// The ticket an entry goes on, after the entry's checks: a staff caller, a text, a ticket
    /// the caller sees and, for a public entry, may act on (``TicketLifecycle/requireCanAct(_:_:_:)``).
    func discussionTicket(_ tx: any SQLExecutor, _ request: WorkflowV1.AddDiscussionRequest, _ actor: Actor,
                          forUpdate: Bool) throws -> TicketRecord {
        try actor.requireStaff()
        // Here, so that `validate_only` checks them too (before 2026-12 it passed a text over the
        // limit, the gateway put the entry's files on the ticket, then the entry was refused).
        // 3,000,000 characters were stored; a kind of any length too.
        try TextLimits.check([(request.text, "text", TextLimits.text), (request.kind, "kind", TextLimits.name)])
        // One of the kinds an agent writes (not a customer's: before 2026-12 any text was taken).
        _ = try EntryKinds.agentKind(request.kind)
        guard !request.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RPCError(.invalidArgument, "texto vazio / empty text", violations: [
                FieldViolation(field: "text", reason: "required", pt: "Escreva o texto.", en: "Write the text.")])
        }
        // Internal notes from anyone who sees the ticket; public entries only from who may act on it.
        let ticket = try lifecycle.loadVisible(tx, request.ticketID, actor: actor, forUpdate: forUpdate)
        if request.isPublic { try lifecycle.requireCanAct(tx, ticket, actor) }
        return ticket
    }

    func addDiscussion(_ tx: any SQLExecutor, _ request: WorkflowV1.AddDiscussionRequest, _ actor: Actor) throws -> (entry: WorkflowV1.DiscussionEntry, ticket: TicketRecord) {
        let ticket = try discussionTicket(tx, request, actor, forUpdate: true)
        // The entry's files go under a message id of its own, by which the view lists them on it.
        let messageID = request.attachments.isEmpty ? "" : RandomID.timeOrdered()
        let attachments = try InternalAttachments.recordEntryFiles(tx, ticketID: ticket.id, request.attachments, messageID: messageID,
                                                                   entryIsPublic: request.isPublic, at: lifecycle.now())
        return try lifecycle.addEntry(tx, ticket, kind: try EntryKinds.agentKind(request.kind), isPublic: request.isPublic,
                                      text: request.text, actor: actor, publishable: request.publishable, messageID: messageID,
                                      attachments: attachments)
    }

    /// Bulk actions: each ticket in its own transaction, each recorded in its own history. With
    /// an idempotency key, the key is first claimed for the whole request (the same key with
    /// another request is refused before any ticket is touched), then each ticket's change is
    /// stored with its own result: a retry replays the tickets done and runs only those that
    /// failed (or were not reached).
    func bulk(_ request: WorkflowV1.BulkActionRequest, _ context: ServerContext) throws -> WorkflowV1.BulkActionResponse {
        // Staff who may change tickets, before the request is checked.
        try read(context) { actor, _ in try actor.requireWork() }
        let actions = [request.transfer != nil, request.move != nil, request.note != nil].filter { $0 }.count
        guard actions == 1 else {
            throw RPCError(.invalidArgument, "escolha uma ação / choose exactly one action", violations: [
                FieldViolation(field: "transfer", reason: "one_action", pt: "Repasse, movimento ou nota.", en: "Transfer, move or note.")])
        }
        guard request.ticketIDs.count <= 500 else {
            throw RPCError(.invalidArgument, "no máximo 500 ocorrências / at most 500 tickets", violations: [
                FieldViolation(field: "ticket_ids", reason: "too_many", pt: "No máximo 500.", en: "At most 500.")])
        }
        let scope = "\(context.method)|\(try principals.require(context).id)"
        let fingerprint = Digest.sha256(request.serializedBytes())
        if context.idempotencyKey?.isEmpty == false {
            _ = try Idempotent.bytes(database, key: context.idempotencyKey, scope: scope, fingerprint: fingerprint) { _ in [] }
        }
        var response = WorkflowV1.BulkActionResponse()
        // A ticket named twice is changed once (before, a bulk note was added twice), answered once.
        var seen = Set<String>()
        for ticketID in request.ticketIDs where seen.insert(ticketID).inserted {
            try context.checkCancellation()
            do {
                // A retry replays a ticket done only while the caller may still see it.
                let replayCheck: Idempotent.ReplayCheck = { tx in _ = try self.lifecycle.loadVisible(tx, ticketID, actor: try self.actor(context, tx)) }
                response.results.append(try Idempotent.write(database, key: context.idempotencyKey, scope: "\(scope)|\(ticketID)",
                                                             fingerprint: fingerprint, replayCheck: replayCheck) { tx in
                    let actor = try self.actor(context, tx)
                    if var transfer = request.transfer {
                        transfer.ticketID = ticketID
                        _ = try self.transfer(tx, transfer, actor)
                    } else if var move = request.move {
                        move.ticketID = ticketID
                        _ = try self.move(tx, move, actor)
                    } else if var note = request.note {
                        note.ticketID = ticketID
                        _ = try self.addDiscussion(tx, note, actor)
                    }
                    var result = WorkflowV1.BulkResult()
                    result.ticketID = ticketID
                    result.ok = true
                    return result
                })
            } catch let error as RPCError {
                var result = WorkflowV1.BulkResult()
                result.ticketID = ticketID
                result.error = error.message
                response.results.append(result)
            }
        }
        return response
    }
}
