/// Decides whether a connection may call, in place of the deployment-secret handshake.
///
/// The gateway's public RPC port uses one to accept integration API keys. When a server has an
/// authenticator, the client's AUTH frame (metadata and payload) is handed to it; the metadata it
/// returns is attached to every call of the connection, replacing any value the client sent under
/// the same key, and the client's own `principal` / `principal-signature` are always dropped.
public protocol ConnectionAuthenticator: Sendable {
    /// - Returns: metadata for every call of the connection, or `nil` to refuse it
    ///   (`UNAUTHENTICATED`, then close). Runs on the connection's event loop: keep it short.
    /// - Throws: an ``RPCError`` to refuse it with that status instead (a credential that is
    ///   valid but may not open another connection: `RESOURCE_EXHAUSTED`).
    func authenticate(metadata: [String: String], payload: [UInt8], peer: String) throws -> [String: String]?

    /// A connection this authenticator accepted closed; `attached` is what ``authenticate(metadata:payload:peer:)``
    /// returned for it. Runs on the connection's event loop.
    func connectionClosed(attached: [String: String])
}

extension ConnectionAuthenticator {
    public func connectionClosed(attached: [String: String]) {}
}
