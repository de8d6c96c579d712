import Messages
import RPC
import RPCTransport
import Testing

/// A signed principal is good for the service and method it was sent to only (docs/PROTOCOL.md,
/// "Principals"; docs/threat_model.md, RPC review): one read off the service network no longer
/// works at any service for its 15 minutes.
@Suite("Principal bound to its service and method", .serialized)
struct PrincipalBindingTests {
    /// What a principal looks like on the wire; the transport checks the binding, not the
    /// signature (services do that: `PrincipalSigner`).
    static let principal = [MetadataKey.principal: "cHJpbmNpcGFs", MetadataKey.principalSignature: String(repeating: "ab", count: 32)]

    static func request(id: UInt64, method: String = RpcV1.Echo.echo.path, metadata: [String: String]) -> RpcV1.Frame {
        var frame = RpcV1.Frame()
        frame.kind = .request
        frame.callID = id
        frame.method = method
        frame.metadata = metadata
        frame.payload = LoopbackTests.echoRequest([1]).serializedBytes()
        frame.endStream = true
        return frame
    }

    static func bound(service: String = "test", method: String = RpcV1.Echo.echo.path, secret: DeploymentSecret) -> [String: String] {
        var metadata = principal
        metadata[MetadataKey.principalBinding] = PrincipalBinding.binding(
            secret: secret, signature: principal[MetadataKey.principalSignature]!, service: service, method: method)
        return metadata
    }

    /// The status of call `frame` sent by an authenticated raw peer (nil: OK).
    static func status(_ frame: RpcV1.Frame, on server: LoopbackServer) throws -> RpcV1.Status? {
        let peer = try RawPeer(port: server.server.port)
        #expect(peer.authenticate(server.secret))
        peer.send(frame)
        let answer = try #require(peer.receive())
        #expect(answer.kind == .response && answer.callID == frame.callID)
        return answer.status
    }

    @Test("the client binds a call's principal to the service its HELLO named and the method: the call is served; the same principal unbound, bound to another method or to another service (workflow's GetTicket at this service) is UNAUTHENTICATED with the reason; a call without a principal needs no binding")
    func bindingIsChecked() throws {
        let server = try LoopbackServer()
        let client = server.client()
        defer { client.close() }
        let answer = try client.call(RpcV1.Echo.echo, LoopbackTests.echoRequest([7]), options: CallOptions(metadata: Self.principal))
        #expect(answer.payload == [7])

        #expect(try Self.status(Self.request(id: 1, metadata: Self.bound(secret: server.secret)), on: server) == nil)
        #expect(try Self.status(Self.request(id: 2, metadata: [:]), on: server) == nil)

        let unbound = try #require(try Self.status(Self.request(id: 3, metadata: Self.principal), on: server))
        #expect(unbound.code == RPCStatusCode.unauthenticated.rawValue)
        #expect(unbound.message.contains("not bound to a service and method"))

        let otherMethod = Self.bound(method: "/ocorrencias.workflow.v1.Workflow/GetTicket", secret: server.secret)
        let atEcho = try #require(try Self.status(Self.request(id: 4, metadata: otherMethod), on: server))
        #expect(atEcho.code == RPCStatusCode.unauthenticated.rawValue)
        #expect(atEcho.message.contains("bound to another service or method"))

        let otherService = Self.bound(service: "workflow", secret: server.secret)
        #expect(try Self.status(Self.request(id: 5, metadata: otherService), on: server)?.code == RPCStatusCode.unauthenticated.rawValue)

        var forged = Self.bound(secret: server.secret)
        forged[MetadataKey.principalSignature] = String(repeating: "cd", count: 32)
        #expect(try Self.status(Self.request(id: 6, metadata: forged), on: server)?.code == RPCStatusCode.unauthenticated.rawValue,
                "the binding covers the signature: another principal cannot borrow it")
        #expect(try Self.status(Self.request(id: 7, metadata: Self.bound(secret: .random())), on: server)?.code
                == RPCStatusCode.unauthenticated.rawValue, "only the deployment secret binds")
    }

    @Test("during the rolling upgrade (OCORRENCIAS_PRINCIPAL_ACCEPT_UNBOUND=1) an older signer's unbound principal is served; one bound elsewhere is still refused")
    func rollingUpgrade() throws {
        #expect(PrincipalBinding.acceptsUnbound(["OCORRENCIAS_PRINCIPAL_ACCEPT_UNBOUND": "1"]))
        #expect(!PrincipalBinding.acceptsUnbound([:]))
        let server = try LoopbackServer(acceptsUnboundPrincipals: true)
        #expect(try Self.status(Self.request(id: 1, metadata: Self.principal), on: server) == nil)
        let otherMethod = Self.bound(method: "/ocorrencias.workflow.v1.Workflow/GetTicket", secret: server.secret)
        #expect(try Self.status(Self.request(id: 2, metadata: otherMethod), on: server)?.code == RPCStatusCode.unauthenticated.rawValue)
    }
}
