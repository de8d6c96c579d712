import RPCTransport

/// A port a service listens on, bound before its database opens (``ServiceMain``): its RPC port
/// (``rpc``) and those it names itself (the gateway's HTTP and integration ports).
public struct ServicePort: Sendable {
    /// The name its server asks the runtime for (``ServiceRuntime/listener(_:)``).
    public var name: String
    public var host: String
    public var port: Int
    /// Connections that may wait to be accepted.
    public var backlog: Int

    public init(name: String, host: String, port: Int, backlog: Int = 1024) {
        self.name = name
        self.host = host
        self.port = port
        self.backlog = backlog
    }

    /// The service's RPC port.
    public static let rpc = "rpc"

    /// Binds every port, or none: the first one in use closes those already bound and throws.
    /// - Throws: ``PortInUse`` naming the address.
    static func bind(_ first: ServicePort, _ others: [ServicePort]) throws -> [String: ListeningSocket] {
        var bound: [String: ListeningSocket] = [:]
        for port in [first] + others {
            do {
                bound[port.name] = try ListeningSocket(host: port.host, port: port.port, backlog: port.backlog)
            } catch {
                for socket in bound.values { socket.close() }
                throw PortInUse(port: port, cause: "\(error)")
            }
        }
        return bound
    }
}

/// A port could not be bound at start-up: the service stops before it opens its database.
public struct PortInUse: Error, CustomStringConvertible {
    public var port: ServicePort
    public var cause: String

    public var description: String {
        "porta \(port.name) indisponível (outra instância já está rodando?); o banco de dados não foi aberto / "
            + "\(port.name) port unavailable (is another instance running?); the database was not opened: \(cause)"
    }
}
