import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Synchronization

/// A small workflow stand-in for the tests of services that ask workflow about tickets (intake,
/// notification): a real RPC server answering
/// `Workflow/GetTicketHolder` as workflow does (the real method is tested by workflow's own tests,
/// and against the real deployment in `GatewayTests.IntakeTicketAccessTests`):
///
/// - the principal must be signed with the deployment secret (else `UNAUTHENTICATED`);
/// - a ticket it does not know is `NOT_FOUND` to everyone (``forget(_:)``, ``knowsNoTicket``);
/// - a ticket hidden from an agent (``hide(_:from:)``) is `NOT_FOUND` to that agent only, so a
///   service still finds it;
/// - otherwise the answer the test set (``holds(_:chefe:open:callerMayLink:)``), by default an open
///   ticket held by nobody: every agent may see and act on every ticket, unless ``seeOnly(_:by:)``
///   says an agent may only see one.
///
/// Events delivered to it are answered `UNAVAILABLE`, so intake's outbox keeps them for the tests
/// to read (as when nothing listens).
public final class FakeWorkflow: Sendable {
    /// One `GetTicketHolder` call: which ticket, asked by whom.
    public struct Question: Sendable, Equatable {
        public let ticketID: String
        public let principalID: String

        public init(ticketID: String, principalID: String) {
            self.ticketID = ticketID
            self.principalID = principalID
        }
    }

    final class State: Sendable {
        let answer = Mutex<WorkflowV1.GetTicketHolderResponse>(FakeWorkflow.openTicket)
        let knowsNoTicket = Mutex<Bool>(false)
        let unknown = Mutex<Set<String>>([])
        /// "agent id|ticket id", or "agent id|*" for every ticket.
        let hidden = Mutex<Set<String>>([])
        /// Seen but not acted on ("agent id|ticket id" or "agent id|*"): `caller_may_act` false.
        let seeOnly = Mutex<Set<String>>([])
        let questions = Mutex<[Question]>([])
    }

    public let server: RPCServer
    let state = State()

    /// Ticket ids asked about, in order.
    public var asked: [String] { state.questions.withLock { $0.map(\.ticketID) } }
    /// Every question, in order.
    public var questions: [Question] { state.questions.withLock { $0 } }

    public init(secret: String) throws {
        let signer = PrincipalSigner(secret: DeploymentSecret(bytes: Array(secret.utf8)))
        var router = RPCRouter()
        let state = self.state
        router.register(WorkflowV1.Workflow.getTicketHolder) { request, context in
            let principal = try signer.require(context)
            state.questions.withLock { $0.append(Question(ticketID: request.ticketID, principalID: principal.id)) }
            if state.knowsNoTicket.withLock({ $0 }) || state.unknown.withLock({ $0.contains(request.ticketID) }) {
                throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
            }
            if principal.kind != .service,
               state.hidden.withLock({ $0.contains("\(principal.id)|\(request.ticketID)") || $0.contains("\(principal.id)|*") }) {
                throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
            }
            var answer = state.answer.withLock { $0 }
            if state.seeOnly.withLock({ $0.contains("\(principal.id)|\(request.ticketID)") || $0.contains("\(principal.id)|*") }) {
                answer.callerMayAct = false
            }
            return answer
        }
        router.register(EventsV1.EventSink.deliver) { _, _ in
            throw RPCError(.unavailable, "a workflow stand-in takes no events")
        }
        var configuration = ServerConfiguration(serviceName: "workflow", secret: DeploymentSecret(bytes: Array(secret.utf8)))
        configuration.port = 0
        server = RPCServer(configuration: configuration, router: router, logger: Logger(service: "workflow", level: .critical))
        try server.start()
    }

    deinit { server.shutdown(gracePeriodMilliseconds: 0) }

    /// `127.0.0.1:port`, for `WORKFLOW_ADDRESSES`.
    public var address: String { "127.0.0.1:\(server.port)" }

    /// An open ticket held by nobody, in the first stage.
    public static let openTicket: WorkflowV1.GetTicketHolderResponse = {
        var response = WorkflowV1.GetTicketHolderResponse()
        response.open = true
        response.stage = "aguardando_atendimento"
        response.callerMayAct = true
        return response
    }()

    /// Workflow's answer: `agent` holds the ticket; `callerMayLink` is what workflow says of the
    /// caller's right to link customers (from its own directory roles). Workflow knows every ticket.
    public func holds(_ agent: String, chefe: String = "chefe-1", open: Bool = true, callerMayLink: Bool = false) {
        var holder = WorkflowV1.Holder()
        holder.agentID = agent
        holder.chefeAgentID = chefe
        var response = WorkflowV1.GetTicketHolderResponse()
        response.open = open
        response.holder = holder
        response.stage = open ? "Em atendimento" : "Finalizado"
        response.callerMayLinkCustomers = callerMayLink
        response.callerMayAct = true
        state.answer.withLock { $0 = response }
        state.knowsNoTicket.withLock { $0 = false }
    }

    /// Whether workflow has received no ticket at all (every question is `NOT_FOUND`).
    public func knowsNoTicket(_ value: Bool) { state.knowsNoTicket.withLock { $0 = value } }

    /// Workflow has not received `ticketID` (yet).
    public func forget(_ ticketID: String) { _ = state.unknown.withLock { $0.insert(ticketID) } }

    /// Workflow received `ticketID` (again).
    public func learn(_ ticketID: String) { _ = state.unknown.withLock { $0.remove(ticketID) } }

    /// `agentID` may not see `ticketID` (every ticket when `nil`).
    public func hide(_ ticketID: String? = nil, from agentID: String) {
        _ = state.hidden.withLock { $0.insert("\(agentID)|\(ticketID ?? "*")") }
    }

    /// `agentID` may see `ticketID` but not act on it (every ticket when `nil`): workflow answers
    /// `caller_may_act` false to them.
    public func seeOnly(_ ticketID: String? = nil, by agentID: String) {
        _ = state.seeOnly.withLock { $0.insert("\(agentID)|\(ticketID ?? "*")") }
    }

    /// `agentID` may see `ticketID` again (every ticket when `nil`).
    public func show(_ ticketID: String? = nil, to agentID: String) {
        _ = state.hidden.withLock { $0.remove("\(agentID)|\(ticketID ?? "*")") }
    }

    /// Forgets the questions asked so far.
    public func clearQuestions() { state.questions.withLock { $0.removeAll() } }
}
