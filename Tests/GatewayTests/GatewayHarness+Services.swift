import Messages
import RPCTransport
import ServiceKit

extension GatewayHarness {
    /// A client of one of the deployment's services (`intake`, `workflow`…) over its own RPC port
    /// (no gateway in between), with call options signed as `principal`: a change made there
    /// reaches the gateways only by its event. Close the client when done.
    func direct(_ service: String, as principal: AuthV1.Principal) -> (client: RPCClient, options: CallOptions) {
        let secret = DeploymentSecret(bytes: Array(environment["OCORRENCIAS_SECRET"]!.utf8))
        let addresses = environment["\(service.uppercased())_ADDRESSES"]!
        let client = RPCClient(configuration: ClientConfiguration(endpoints: Endpoint.list(addresses), secret: secret))
        return (client, CallOptions(metadata: PrincipalSigner(secret: secret).metadata(for: principal)))
    }

    /// Workflow, as the agent Ana (`A-ana`, access level 1) (``direct(_:as:)``).
    func workflowAsAna() -> (client: RPCClient, options: CallOptions) {
        var ana = AuthV1.Principal()
        ana.kind = .agent
        ana.id = "A-ana"
        ana.displayName = "Ana"
        ana.accessLevel = 1
        return direct("workflow", as: ana)
    }

    /// A staff administrator's principal, for a service's own port.
    static var administrator: AuthV1.Principal {
        var administrator = AuthV1.Principal()
        administrator.kind = .agent
        administrator.id = "A-direct"
        administrator.displayName = "Direct administrator"
        administrator.administrator = true
        administrator.chefe = true
        return administrator
    }

    /// Intake, as a staff administrator (``direct(_:as:)``): what an intake client or an
    /// integration does.
    func intakeAsAdministrator() -> (client: RPCClient, options: CallOptions) {
        direct("intake", as: Self.administrator)
    }
}
