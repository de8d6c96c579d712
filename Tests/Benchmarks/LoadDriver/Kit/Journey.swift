import Foundation
import Messages
import RPC
import RPCTransport

/// How far a ticket's journey was acknowledged by the services.
public enum JourneyStep: Int, Codable, Sendable, Comparable, CaseIterable {
    case opened, taken, waiting, replied, back, finished

    public static func < (a: JourneyStep, b: JourneyStep) -> Bool { a.rawValue < b.rawValue }

    /// The workflow stage a ticket acknowledged up to this step must have once events settle.
    public var expectedStage: String {
        switch self {
        case .opened: "aguardando_atendimento"
        case .taken, .replied, .back: "em_atendimento"
        case .waiting: "aguardando_cliente"
        case .finished: "finalizado"
        }
    }

    /// E-mails (event kind → audience) this step implies, cumulatively.
    public var expectedMails: [(kind: String, toCustomer: Bool)] {
        var mails: [(String, Bool)] = [("TicketOpened", true)]
        if self >= .waiting { mails.append(("InformationRequested", true)) }
        if self >= .replied { mails.append(("CustomerReplied", false)) }
        if self >= .finished { mails += [("SolutionGiven", true), ("TicketFinished", true)] }
        return mails
    }
}

/// One ticket as the driver saw it: what the services acknowledged.
public struct TicketRecord: Codable, Sendable {
    public var id: String
    public var code: String
    public var step: JourneyStep
    /// A step after `step` may have been applied without its answer reaching the driver.
    public var uncertain: Bool = false
    public var openedAtMs: Int64
    /// From the open's answer until workflow served the ticket (intake's outbox → workflow).
    public var workflowLagMs: Int64 = -1
    public var error: String = ""
}

/// The customer's and the agent's path through one ticket: open, take, ask for information,
/// customer reply, back with the agent, solution, finish. Every write carries an idempotency key
/// (intake's reply has none: an uncertain reply is checked against the ticket's messages before
/// it is sent again), so retrying across killed instances has one effect.
public struct Journey: Sendable {
    public let callers: Callers
    public let cast: Cast
    /// Give up on a step (the ticket stays at its last acknowledged step) after this long.
    public var stepTimeout: TimeInterval = 60
    /// Stop after this step.
    public var lastStep: JourneyStep = .finished

    public init(callers: Callers, cast: Cast) {
        self.callers = callers
        self.cast = cast
    }

    /// Opens a ticket; returns its record (step `.opened`).
    public func open(nonce: String) throws -> TicketRecord {
        var request = IntakeV1.OpenTicketRequest()
        request.organizationID = cast.organizationID
        request.category = .duvida
        request.priority = .normal
        request.product = "ERP"
        request.module = "Fiscal"
        request.subject = "Dúvida sobre a nota de devolução \(nonce)"
        request.request = "Como emito a nota de devolução? Pedido \(nonce)."
        var details = CommonV1.TechnicalDetails()
        details.systemVersion = "12.1.2310"
        details.database = "PostgreSQL"
        details.environment = "cloud"
        details.companyBranch = "01/0001"
        details.routine = "FIS001"
        details.affectedUsers = "all users"
        request.details = details
        let options = callers.options(cast.customer, key: "open-\(nonce)")
        let response = try retrying(until: Date().addingTimeInterval(stepTimeout)) {
            try callers.intake.call(IntakeV1.Intake.openTicket, request, options: options)
        }
        guard let ticket = response.ticket else { throw RPCError(.internal, "OpenTicket answered without a ticket") }
        return TicketRecord(id: ticket.id, code: ticket.code, step: .opened, openedAtMs: Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// Runs the rest of the journey, updating `record` after every acknowledged step.
    public func advance(_ record: inout TicketRecord, nonce: String, onStep: (TicketRecord) -> Void = { _ in }) {
        do {
            while record.step < lastStep {
                let next = JourneyStep(rawValue: record.step.rawValue + 1)!
                record.uncertain = true
                if next == .taken {
                    _ = try waitForStage(record.id, deadline: Date().addingTimeInterval(stepTimeout)) { _ in true }
                    record.workflowLagMs = Int64(Date().timeIntervalSince1970 * 1000) - record.openedAtMs
                }
                try perform(next, record, nonce: nonce)
                record.step = next
                record.uncertain = false
                onStep(record)
            }
        } catch {
            record.error = "\(error)"
        }
    }

    private func perform(_ step: JourneyStep, _ record: TicketRecord, nonce: String) throws {
        let deadline = Date().addingTimeInterval(stepTimeout)
        let agent = cast.agent
        switch step {
        case .opened:
            break
        case .taken:
            // Workflow learns about the ticket through intake's outbox.
            _ = try waitForStage(record.id, deadline: deadline) { _ in true }
            var take = WorkflowV1.TakeTicketRequest()
            take.ticketID = record.id
            let options = callers.options(agent, key: "take-\(nonce)")
            _ = try retrying(until: deadline) { try callers.workflow.call(WorkflowV1.Workflow.takeTicket, take, options: options) }
        case .waiting:
            var move = WorkflowV1.MoveTicketRequest()
            move.ticketID = record.id
            move.toStage = "aguardando_cliente"
            move.publicNote = "Qual a versão do sistema e a filial? (\(nonce))"
            let options = callers.options(agent, key: "ask-\(nonce)")
            _ = try retrying(until: deadline) { try callers.workflow.call(WorkflowV1.Workflow.moveTicket, move, options: options) }
        case .replied:
            var reply = IntakeV1.ReplyRequest()
            reply.ticket = record.id
            reply.text = "Versão 12.1.2310, filial 01/0001. Resposta \(nonce)."
            let options = callers.options(cast.customer)
            _ = try retrying(until: deadline) { () throws -> Bool in
                do {
                    _ = try callers.intake.call(IntakeV1.Intake.reply, reply, options: options)
                    return true
                } catch where isTransient(error) {
                    // The reply may have been stored before the answer was lost: look before resending.
                    var get = IntakeV1.GetTicketRequest()
                    get.ticket = record.id
                    if let ticket = try? callers.intake.call(IntakeV1.Intake.getTicket, get, options: options),
                       ticket.messages.contains(where: { $0.text == reply.text }) {
                        return true
                    }
                    throw error
                }
            }
        case .back:
            _ = try waitForStage(record.id, deadline: deadline) { $0 == "em_atendimento" }
        case .finished:
            var read = WorkflowV1.MarkMessagesReadRequest()
            read.ticketID = record.id
            let readOptions = callers.options(agent, key: "read-\(nonce)")
            _ = try retrying(until: deadline) { try callers.workflow.call(WorkflowV1.Workflow.markMessagesRead, read, options: readOptions) }
            var solution = WorkflowV1.SetTextRequest()
            solution.ticketID = record.id
            solution.text = "Use a rotina FIS010 com a série de devolução. (\(nonce))"
            let solutionOptions = callers.options(agent, key: "solution-\(nonce)")
            _ = try retrying(until: deadline) { try callers.workflow.call(WorkflowV1.Workflow.setSolution, solution, options: solutionOptions) }
            var move = WorkflowV1.MoveTicketRequest()
            move.ticketID = record.id
            move.toStage = "finalizado"
            move.publicNote = "Resolvido: use a rotina FIS010."
            let options = callers.options(agent, key: "finish-\(nonce)")
            _ = try retrying(until: deadline) { try callers.workflow.call(WorkflowV1.Workflow.moveTicket, move, options: options) }
        }
    }

    /// Polls workflow until the ticket exists and its stage satisfies `accept`.
    public func waitForStage(_ ticketID: String, deadline: Date, _ accept: (String) -> Bool) throws -> String {
        var get = WorkflowV1.GetTicketRequest()
        get.ticketID = ticketID
        let options = callers.options(cast.agent, timeout: 3_000)
        var last: (any Error)?
        var pause: useconds_t = 10_000
        while Date() < deadline {
            do {
                let view = try callers.workflow.call(WorkflowV1.Workflow.getTicket, get, options: options)
                if let stage = view.row?.stage, accept(stage) { return stage }
            } catch let error as RPCError where error.code == .notFound {
                last = error
            } catch {
                guard isTransient(error) else { throw error }
                last = error
            }
            // Short waits are measured finely; long ones poll less, so waiting journeys do not
            // load workflow.
            usleep(pause)
            pause = min(pause * 2, 200_000)
        }
        throw RPCError(.deadlineExceeded, "ticket \(ticketID) did not reach the expected stage in time (\(last.map { "\($0)" } ?? "stage differs"))")
    }
}
