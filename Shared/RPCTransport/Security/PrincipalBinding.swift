import RPC

/// Binds a call's signed principal to the service and method it is sent to (docs/PROTOCOL.md,
/// "Principals"): the client that sends a call carrying `principal` adds `principal-binding`, the
/// hex HMAC-SHA256 with the deployment secret of the principal's signature, the service the
/// connection's HELLO named and the method; the server refuses the call with `UNAUTHENTICATED`
/// when the binding is missing or made for another service or method. A principal read off the
/// (unencrypted) service network then works only for the same method of the same service, not at
/// any service for its 15 minutes.
///
/// Whoever holds the secret may bind (a service passing a caller's principal on binds it again
/// for its own call); the gateway's public port drops the client's principal and metadata of
/// this kind anyway (``ConnectionAuthenticator``).
public enum PrincipalBinding {
    static let label = Array("ocorrencias-principal-binding-v1".utf8)

    /// The setting that lets principals without a binding in during the rolling upgrade to the
    /// release that binds them (their older signers send none).
    public static let acceptUnboundSetting = "OCORRENCIAS_PRINCIPAL_ACCEPT_UNBOUND"

    /// Whether `environment` asks for ``acceptUnboundSetting`` (`1`, `true` or `yes`).
    public static func acceptsUnbound(_ environment: [String: String]) -> Bool {
        ["1", "true", "yes"].contains(environment[acceptUnboundSetting]?.lowercased() ?? "")
    }

    /// The `principal-binding` text for a principal signed with `signature`, sent to `method` of `service`.
    public static func binding(secret: DeploymentSecret, signature: String, service: String, method: String) -> String {
        Digest.hex(secret.mac(label, Array(signature.utf8), [0], Array(service.utf8), [0], Array(method.utf8)))
    }

    /// `metadata` with the binding added, when it carries a signed principal.
    static func bound(_ metadata: [String: String], secret: DeploymentSecret, service: String, method: String) -> [String: String] {
        guard let signature = metadata[MetadataKey.principalSignature], metadata[MetadataKey.principal]?.isEmpty == false else {
            return metadata
        }
        var metadata = metadata
        metadata[MetadataKey.principalBinding] = binding(secret: secret, signature: signature, service: service, method: method)
        return metadata
    }

    /// Why a server refuses the principal of a call, or `nil` when it may go on (no principal, or
    /// one bound to this service and method, or an unbound one while `acceptingUnbound`).
    static func refusal(_ metadata: [String: String], secret: DeploymentSecret, service: String, method: String,
                        acceptingUnbound: Bool) -> RPCError? {
        guard metadata[MetadataKey.principal]?.isEmpty == false else { return nil }
        guard let given = metadata[MetadataKey.principalBinding] else {
            if acceptingUnbound { return nil }
            return RPCError(.unauthenticated,
                            "identidade do chamador sem vínculo a serviço e método / caller identity not bound to a service and method")
        }
        let expected = binding(secret: secret, signature: metadata[MetadataKey.principalSignature] ?? "", service: service, method: method)
        guard Digest.constantTimeEqual(given, expected) else {
            return RPCError(.unauthenticated,
                            "identidade do chamador vinculada a outro serviço ou método / caller identity bound to another service or method")
        }
        return nil
    }
}
