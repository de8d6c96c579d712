import RPC

/// Per-call settings; `nil` means "the client's configuration decides".
public struct CallOptions: Sendable {
    /// Time allowed for the call, in milliseconds.
    public var timeoutMilliseconds: Int?
    /// An absolute deadline; wins over ``timeoutMilliseconds``. Pass a handler's
    /// `context.deadline` to propagate what is left of it.
    public var deadline: Deadline?
    /// Metadata sent with the request (request id, trace id, principal, ...).
    public var metadata: [String: String] = [:]

    public init(timeoutMilliseconds: Int? = nil, deadline: Deadline? = nil, metadata: [String: String] = [:],
                idempotencyKey: String? = nil) {
        self.timeoutMilliseconds = timeoutMilliseconds
        self.deadline = deadline
        self.metadata = metadata
        if let idempotencyKey { self.metadata[MetadataKey.idempotencyKey] = idempotencyKey }
    }

    /// Options that carry on a call made while serving another: deadline, request and trace ids.
    public init(propagating context: ServerContext, metadata extra: [String: String] = [:]) {
        self.init(deadline: context.deadline, metadata: context.outgoingMetadata)
        for (k, v) in extra { metadata[k] = v }
    }

    /// The key that makes this call safe to retry after it may have been processed.
    public var idempotencyKey: String? { metadata[MetadataKey.idempotencyKey].flatMap { $0.isEmpty ? nil : $0 } }
}

/// Where a client sends its calls.
public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`.
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              port > 0, port < 65536 else { return nil }
        let host = String(text[..<colon])
        self.init(host: host.isEmpty ? "127.0.0.1" : host, port: port)
    }

    /// Parses a comma-separated list of `host:port`.
    public static func list(_ text: String) -> [Endpoint] {
        text.split(separator: ",").compactMap { Endpoint(String($0).trimmingCharacters(in: .whitespaces)) }
    }

    public var description: String { "\(host):\(port)" }
}

/// How an ``RPCClient`` connects, retries and times out.
public struct ClientConfiguration: Sendable {
    /// Instances of the target service; calls are spread round-robin over the healthy ones.
    public var endpoints: [Endpoint]
    /// The deployment secret used to authenticate each connection.
    public var secret: DeploymentSecret
    /// Name of the calling process, sent as `caller` metadata and used in logs.
    public var callerName: String = "client"
    /// Connections kept open per endpoint.
    public var connectionsPerEndpoint: Int = 1
    /// Deadline for calls that set none.
    public var defaultTimeoutMilliseconds: Int = 10_000
    /// Time allowed to open and authenticate a connection.
    public var connectTimeoutMilliseconds: Int = 2_000
    /// Attempts per call, counting the first, where a retry is safe.
    public var maxAttempts: Int = 3
    /// First reconnect delay after a failure; doubles up to ``maxBackoffMilliseconds``, with jitter.
    public var initialBackoffMilliseconds: Int = 50
    public var maxBackoffMilliseconds: Int = 5_000
    /// Largest frame accepted from the server, and sent to it: a request whose frame is larger
    /// fails alone with ``RPCError/requestTooLarge(bytes:limit:)`` instead of being sent (the
    /// server would close the connection). Services set it from `OCORRENCIAS_RPC_MAX_FRAME_BYTES`.
    public var maxFrameSize: Int = 4 << 20
    /// When set, connections authenticate with this integration API key instead of the deployment
    /// secret (the gateway's public RPC port); `secret` is then unused.
    public var apiKey: String?

    public init(endpoints: [Endpoint], secret: DeploymentSecret) {
        self.endpoints = endpoints
        self.secret = secret
    }
}

#if canImport(Foundation)
import Foundation
#endif
