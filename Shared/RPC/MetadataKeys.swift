/// Metadata keys with a meaning across the deployment. Keys are lower-case ASCII.
public enum MetadataKey {
    /// Identifies one request end to end (gateway → services → events); generated when absent.
    public static let requestID = "request-id"
    /// Groups the calls of one trace.
    public static let traceID = "trace-id"
    /// Makes a mutating call safe to retry: the owning service stores the first result under it.
    public static let idempotencyKey = "idempotency-key"
    /// The person or system on whose behalf the call is made, signed by the gateway.
    public static let principal = "principal"
    /// HMAC of ``principal`` with the deployment secret.
    public static let principalSignature = "principal-signature"
    /// HMAC of ``principalSignature``, the service and the method a call is sent to: a principal
    /// is good for that method of that service only (`PrincipalBinding`).
    public static let principalBinding = "principal-binding"
    /// Name of the calling service, for logs.
    public static let caller = "caller"
    /// On the gateway's public RPC port: the integration API key, sent in the AUTH frame.
    public static let apiKey = "api-key"
    /// On the gateway's public RPC port: which service a built-in method (`ocorrencias.rpc.v1.*`) is for.
    public static let service = "service"
}
