import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit

/// Where the services of one deployment answer, and the secret they share: what the load driver
/// and the production tests need to call them as the gateway would (signed principals).
public struct Deployment: Sendable {
    public var intake: [Endpoint]
    public var workflow: [Endpoint]
    public var notification: [Endpoint]
    public var secretText: String

    public init(intake: [Endpoint], workflow: [Endpoint], notification: [Endpoint], secretText: String) {
        self.intake = intake
        self.workflow = workflow
        self.notification = notification
        self.secretText = secretText
    }

    public var secret: DeploymentSecret { DeploymentSecret(bytes: Array(secretText.utf8)) }
}

/// RPC clients for the services, with calls spread over every instance, and principals signed
/// with the deployment secret.
public final class Callers: Sendable {
    public let intake: RPCClient
    public let workflow: RPCClient
    public let notification: RPCClient
    public let signer: PrincipalSigner
    public let deployment: Deployment

    public init(_ deployment: Deployment, connectionsPerEndpoint: Int = 2) {
        self.deployment = deployment
        func client(_ endpoints: [Endpoint]) -> RPCClient {
            var configuration = ClientConfiguration(endpoints: endpoints, secret: deployment.secret)
            configuration.callerName = "gateway"
            configuration.connectionsPerEndpoint = connectionsPerEndpoint
            configuration.connectTimeoutMilliseconds = 1_000
            configuration.maxBackoffMilliseconds = 500
            return RPCClient(configuration: configuration)
        }
        intake = client(deployment.intake)
        workflow = client(deployment.workflow)
        notification = client(deployment.notification)
        signer = PrincipalSigner(secret: deployment.secret)
    }

    public func close() {
        intake.close()
        workflow.close()
        notification.close()
    }

    /// Options carrying `principal`, a deadline and, for writes, an idempotency key.
    public func options(_ principal: AuthV1.Principal, timeout: Int = 5_000, key: String? = nil) -> CallOptions {
        CallOptions(timeoutMilliseconds: timeout, metadata: signer.metadata(for: principal), idempotencyKey: key)
    }
}

/// The people of a journey: a staff administrator, the agent who works the tickets and the
/// customer contact who opens them.
public struct Cast: Sendable, Codable {
    public var organizationID: String
    public var contactID: String
    public var contactEmail: String
    public var agentID: String
    public var agentEmail: String

    public static let administrator: AuthV1.Principal = {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = "admin"
        principal.displayName = "Administradora"
        principal.email = "admin@suporte.example"
        principal.administrator = true
        principal.accessLevel = 9
        return principal
    }()

    public var agent: AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .agent
        principal.id = agentID
        principal.displayName = "Ana Agente"
        principal.email = agentEmail
        principal.accessLevel = 1
        return principal
    }

    public var customer: AuthV1.Principal {
        var principal = AuthV1.Principal()
        principal.kind = .customer
        principal.id = contactID
        principal.displayName = "Maria Cliente"
        principal.email = contactEmail
        principal.organizationID = organizationID
        return principal
    }

    /// Creates the organization and its authorized contact in intake, and the agent, group and
    /// routing rule in workflow. `tag` keeps names apart between runs on one database.
    public static func setUp(_ callers: Callers, tag: String) throws -> Cast {
        let admin = callers.options(administrator, timeout: 10_000)
        var organization = IntakeV1.Organization()
        organization.name = "Acme Comércio \(tag)"
        organization.taxID = "11.222.333/0001-81"
        organization.kind = .organizationCustomer
        organization.active = true
        organization.email = "contato@acme.example"
        organization = try retrying { try callers.intake.call(IntakeV1.Intake.createOrganization, organization, options: admin) }
        var contact = IntakeV1.Contact()
        contact.organizationID = organization.id
        contact.name = "Maria Cliente"
        contact.email = "maria.\(tag.lowercased())@acme.example"
        contact.authorized = true
        contact = try retrying { try callers.intake.call(IntakeV1.Intake.addContact, contact, options: admin) }

        let agentID = "ana-\(tag.lowercased())"
        var agent = WorkflowV1.PutAgentRequest()
        agent.agent = WorkflowV1.Agent()
        agent.agent?.id = agentID
        agent.agent?.name = "Ana Agente"
        agent.agent?.email = "\(agentID)@suporte.example"
        agent.agent?.maxAccessLevel = 1
        agent.agent?.active = true
        _ = try retrying { try callers.workflow.call(WorkflowV1.Workflow.putAgent, agent, options: admin) }
        var group = WorkflowV1.PutGroupRequest()
        group.group = WorkflowV1.Group()
        group.group?.id = "n1"
        group.group?.name = "Nível 1"
        group.group?.active = true
        _ = try retrying { try callers.workflow.call(WorkflowV1.Workflow.putGroup, group, options: admin) }
        var member = WorkflowV1.SetMembershipRequest()
        member.groupID = "n1"
        member.agentID = agentID
        member.member = true
        _ = try retrying { try callers.workflow.call(WorkflowV1.Workflow.setMembership, member, options: admin) }
        var rules = try retrying { try callers.workflow.call(WorkflowV1.Workflow.listRoutingRules, WorkflowV1.ListRoutingRulesRequest(), options: admin) }
        if !rules.rules.contains(where: { $0.groupID == "n1" }) {
            var rule = WorkflowV1.PutRoutingRuleRequest()
            rule.rule = WorkflowV1.RoutingRule()
            rule.rule?.groupID = "n1"
            _ = try retrying { try callers.workflow.call(WorkflowV1.Workflow.putRoutingRule, rule, options: admin) }
            rules = WorkflowV1.ListRoutingRulesResponse()
        }
        return Cast(organizationID: organization.id, contactID: contact.id, contactEmail: contact.email,
                    agentID: agentID, agentEmail: "\(agentID)@suporte.example")
    }
}

/// Whether an error may be retried: the call may not have reached a healthy instance.
public func isTransient(_ error: any Error) -> Bool {
    guard let error = error as? RPCError else { return true }
    switch error.code {
    case .unavailable, .deadlineExceeded, .aborted, .resourceExhausted, .internal, .unknown, .cancelled: return true
    default: return false
    }
}

/// Runs `body` until it succeeds, a non-transient error, or `deadline`.
public func retrying<T>(until deadline: Date = Date().addingTimeInterval(60), _ body: () throws -> T) throws -> T {
    var pause: useconds_t = 50_000
    while true {
        do { return try body() } catch {
            guard isTransient(error), Date() < deadline else { throw error }
            usleep(pause)
            pause = min(pause * 2, 500_000)
        }
    }
}
