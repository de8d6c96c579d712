import Foundation
import Observability
import RPCTransport
import ServiceKit
import Storage
import Synchronization

/// The gateway service: its schema, and the HTTP server and public RPC port it starts next to
/// the RPC built-ins every service has.
public enum GatewayService {
    /// Versioned migrations of the gateway database: credentials only.
    public static let migrations = CredentialStore.migrations

    /// The running proxy's server, for `/metrics`.
    static let proxyServer = Mutex<RPCServer?>(nil)

    /// The HTTP port and the public RPC port, bound with the service's RPC port before the
    /// database opens (``ServiceMain``).
    /// - Throws: when a `GATEWAY_*` variable is malformed.
    public static func ports(_ service: ServiceConfiguration) throws -> [ServicePort] {
        let configuration = try GatewayConfiguration(environment: service.environment)
        var ports = [ServicePort(name: httpPort, host: configuration.http.host, port: configuration.http.port,
                                 backlog: HTTPServer.backlog)]
        if let port = configuration.proxyPort { ports.append(ServicePort(name: proxyPort, host: service.host, port: port)) }
        return ports
    }

    /// Names of the gateway's ports (``ServicePort/name``).
    static let httpPort = "http", proxyPort = "rpc-proxy"

    /// Before the gateway's database opens: starts the HTTP server on the port ``ports(_:)``
    /// bound, answering `/healthz`, `/readyz` and 503 while the database migrates
    /// (``StartingHTTP``); returns the setup that hands it the gateway once the database is ready.
    /// The public RPC port waits for the setup: it cannot check an API key before then.
    /// - Throws: when the HTTP port cannot be bound, or a `GATEWAY_*` variable is malformed.
    public static func prepare(_ startup: ServiceStartup) throws -> ServiceMain.Setup {
        let configuration = try GatewayConfiguration(environment: startup.configuration.environment)
        let starting = StartingHTTP(configuration: configuration, startup: startup)
        try starting.server.start(listeningOn: startup.listener(httpPort))
        startup.onFailedStart { starting.server.stop() }
        return { runtime, router in try register(runtime: runtime, router: &router, configuration: configuration, starting: starting) }
    }

    /// Starts the HTTP server and the public RPC port (on the sockets ``ports(_:)`` bound, else
    /// binding them now); they stop with the service.
    /// - Throws: when a port cannot be bound, or a `GATEWAY_*` variable is malformed.
    public static func register(runtime: ServiceRuntime, router: inout RPCRouter) throws {
        let configuration = try GatewayConfiguration(environment: runtime.configuration.environment)
        let gateway = Gateway(runtime: runtime, configuration: configuration)
        let http = HTTPServer(configuration: configuration.http, logger: runtime.logger,
                              tooLarge: { gateway.refuseTooLarge($0) }, streaming: gateway.bodyStreaming,
                              handler: { gateway.handle($0) })
        try http.start(listeningOn: runtime.listener(httpPort))
        try startServing(gateway, http: http, runtime: runtime, configuration: configuration)
    }

    /// ``register(runtime:router:)`` with the HTTP server ``prepare(_:)`` started.
    static func register(runtime: ServiceRuntime, router: inout RPCRouter, configuration: GatewayConfiguration,
                         starting: StartingHTTP) throws {
        let gateway = Gateway(runtime: runtime, configuration: configuration)
        try startServing(gateway, http: starting.server, runtime: runtime, configuration: configuration)
        starting.serve(gateway)
    }

    /// The public RPC port and the gateway's background work, next to its running HTTP server.
    private static func startServing(_ gateway: Gateway, http: HTTPServer, runtime: ServiceRuntime,
                                     configuration: GatewayConfiguration) throws {
        var proxy: RPCProxy?
        if let port = configuration.proxyPort {
            let created = RPCProxy(gateway: gateway, port: port)
            try created.start(listeningOn: runtime.listener(proxyPort))
            proxyServer.withLock { $0 = created.server }
            runtime.logger.notice("rpc proxy listening", ["address": "\(runtime.configuration.host):\(created.server.port)"])
            proxy = created
        }
        runtime.addBackground(Servers(http: http, proxy: proxy))
        runtime.addBackground(gateway.contactSignIns)
        if let feed = gateway.eventFeed { runtime.addBackground(feed) }
    }

    /// Stops the HTTP server and the proxy with the service.
    final class Servers: BackgroundService, @unchecked Sendable {
        let http: HTTPServer
        let proxy: RPCProxy?
        init(http: HTTPServer, proxy: RPCProxy?) {
            self.http = http
            self.proxy = proxy
        }
        func start() {}
        func stop() {
            proxy?.stop()
            http.stop()
        }
    }
}
