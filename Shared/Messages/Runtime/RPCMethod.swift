/// A method of a service in `Proto/`, typed by its request and response messages.
///
/// Generated for every `rpc` line, e.g. `IntakeV1.Intake.openTicket`; servers register handlers
/// and clients make calls with it, so a method path is never spelled by hand.
public struct RPCMethod<Request: ProtoMessage, Response: ProtoMessage>: Sendable, Hashable {
    /// `/ocorrencias.intake.v1.Intake/OpenTicket`.
    public let path: String
    /// The client sends a stream of requests.
    public let clientStreaming: Bool
    /// The server answers with a stream of responses.
    public let serverStreaming: Bool

    public init(path: String, clientStreaming: Bool, serverStreaming: Bool) {
        self.path = path
        self.clientStreaming = clientStreaming
        self.serverStreaming = serverStreaming
    }

    /// What reflection reports about this method.
    public var info: RPCMethodInfo {
        RPCMethodInfo(path: path, requestType: Request.protoName, responseType: Response.protoName,
                      clientStreaming: clientStreaming, serverStreaming: serverStreaming)
    }
}

/// An untyped description of a method, as `Reflection/ListMethods` lists it.
public struct RPCMethodInfo: Sendable, Hashable {
    public var path: String
    public var requestType: String
    public var responseType: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool

    public init(path: String, requestType: String, responseType: String, clientStreaming: Bool, serverStreaming: Bool) {
        self.path = path
        self.requestType = requestType
        self.responseType = responseType
        self.clientStreaming = clientStreaming
        self.serverStreaming = serverStreaming
    }
}

/// A service from `Proto/`: its full name and methods.
public protocol RPCServiceDescriptor {
    static var serviceName: String { get }
    static var methods: [RPCMethodInfo] { get }
}
