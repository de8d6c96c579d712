/// Limits every RPC server enforces, with documented defaults; each can be overridden by an
/// environment variable (see ``init(environment:)``) or a flag of the service.
public struct RPCLimits: Sendable, Hashable {
    /// Largest frame body accepted, checked before allocating (`OCORRENCIAS_RPC_MAX_FRAME_BYTES`, 4 MiB).
    public var maxFrameSize: Int = 4 << 20
    /// Calls in flight per connection; beyond it the server stops reading that connection until
    /// calls finish (back-pressure, not an error) (`OCORRENCIAS_RPC_MAX_IN_FLIGHT`, 512).
    public var maxInFlightPerConnection: Int = 512
    /// Open connections per server; further ones are refused with RESOURCE_EXHAUSTED
    /// (`OCORRENCIAS_RPC_MAX_CONNECTIONS`, 4096).
    public var maxConnections: Int = 4096
    /// A connection with no call and no frame for this long is closed (`OCORRENCIAS_RPC_IDLE_TIMEOUT_MS`, 5 min).
    public var idleTimeoutMilliseconds: Int = 300_000
    /// A frame that has started must complete within this time (slow-loris) (`OCORRENCIAS_RPC_FRAME_TIMEOUT_MS`, 10 s).
    public var frameCompletionTimeoutMilliseconds: Int = 10_000
    /// A new connection must authenticate within this time (`OCORRENCIAS_RPC_AUTH_TIMEOUT_MS`, 5 s).
    public var authenticationTimeoutMilliseconds: Int = 5_000
    /// Deadline applied when a request carries none (`OCORRENCIAS_RPC_DEFAULT_TIMEOUT_MS`, 30 s).
    public var defaultTimeoutMilliseconds: Int = 30_000
    /// Largest deadline a caller may ask for (`OCORRENCIAS_RPC_MAX_TIMEOUT_MS`, 10 min).
    public var maxTimeoutMilliseconds: Int = 600_000
    /// Streaming handlers running at once per server, each on a thread of its own (not the
    /// worker pool, which a few idle streams would otherwise hold); a stream beyond it is
    /// refused with RESOURCE_EXHAUSTED (`OCORRENCIAS_RPC_MAX_STREAMS`, 1024).
    public var maxStreamingHandlers: Int = 1024
    /// Bytes of streaming requests one connection may have buffered, across its calls, that
    /// their handlers did not take yet; past it the server stops reading that connection until
    /// the handlers took half of them (back-pressure, not an error)
    /// (`OCORRENCIAS_RPC_MAX_CONNECTION_BUFFER_BYTES`, 64 MiB). Without it one connection could
    /// have 512 calls × 16 messages × 4 MiB waiting.
    public var maxBufferedStreamBytesPerConnection: Int = 64 << 20
    /// At the connection limit, once no connection that has not authenticated is left to
    /// replace, a new connection replaces the authenticated one that has had no call for the
    /// longest, if that is longer than this (PINGs do not count)
    /// (`OCORRENCIAS_RPC_IDLE_REPLACE_MS`, 2 min): many keys' idle connections cannot fill the
    /// gateway's RPC port for good.
    public var idleReplaceAfterMilliseconds: Int = 120_000
    public init() {}

    /// Defaults overridden by the `OCORRENCIAS_RPC_*` variables that are set and valid.
    public init(environment: [String: String]) {
        self.init()
        func int(_ key: String) -> Int? { environment[key].flatMap(Int.init).flatMap { $0 > 0 ? $0 : nil } }
        if let v = int("OCORRENCIAS_RPC_MAX_FRAME_BYTES") { maxFrameSize = v }
        if let v = int("OCORRENCIAS_RPC_MAX_IN_FLIGHT") { maxInFlightPerConnection = v }
        if let v = int("OCORRENCIAS_RPC_MAX_CONNECTIONS") { maxConnections = v }
        if let v = int("OCORRENCIAS_RPC_IDLE_TIMEOUT_MS") { idleTimeoutMilliseconds = v }
        if let v = int("OCORRENCIAS_RPC_FRAME_TIMEOUT_MS") { frameCompletionTimeoutMilliseconds = v }
        if let v = int("OCORRENCIAS_RPC_AUTH_TIMEOUT_MS") { authenticationTimeoutMilliseconds = v }
        if let v = int("OCORRENCIAS_RPC_DEFAULT_TIMEOUT_MS") { defaultTimeoutMilliseconds = v }
        if let v = int("OCORRENCIAS_RPC_MAX_TIMEOUT_MS") { maxTimeoutMilliseconds = v }
        if let v = int("OCORRENCIAS_RPC_MAX_STREAMS") { maxStreamingHandlers = v }
        if let v = int("OCORRENCIAS_RPC_MAX_CONNECTION_BUFFER_BYTES") { maxBufferedStreamBytesPerConnection = v }
        if let v = int("OCORRENCIAS_RPC_IDLE_REPLACE_MS") { idleReplaceAfterMilliseconds = v }
    }
}

/// Constants of the wire protocol itself (docs/PROTOCOL.md); both sides must agree on them.
public enum RPCProtocol {
    /// Messages each side of a streaming call may send before the receiver grants more with WINDOW.
    public static let initialStreamWindow = 16
    /// Length of the big-endian length prefix of every frame.
    public static let lengthPrefixSize = 4
}
