import Messages
import RPCTransport
import ServiceKit

extension GatewayHarness {
    /// A client of the deployment's workflow over its own RPC port (no gateway in between), with
    /// call options signed as the agent Ana (`A-ana`, access level 1): a change made there reaches
    /// the gateways only by its event. Close the client when done.
    func workflowAsAna() -> (client: RPCClient, options: CallOptions) {
        let secret = DeploymentSecret(bytes: Array(environment["OCORRENCIAS_SECRET"]!.utf8))
        let workflow = RPCClient(configuration: ClientConfiguration(endpoints: Endpoint.list(environment["WORKFLOW_ADDRESSES"]!), secret: secret))
        var ana = AuthV1.Principal()
        ana.kind = .agent
        ana.id = "A-ana"
        ana.displayName = "Ana"
        ana.accessLevel = 1
        return (workflow, CallOptions(metadata: PrincipalSigner(secret: secret).metadata(for: ana)))
    }
}
