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
    /// (``StartingHTTP``), and the public RPC port, answering `Health/Check` `NOT_SERVING` and
    /// `UNAVAILABLE` meanwhile (it cannot check an API key before then; ``RPCProxy``); returns
    /// the setup that hands both the gateway once the database is ready.
    /// - Throws: when a port cannot be bound, or a `GATEWAY_*` variable is malformed.
    public static func prepare(_ startup: ServiceStartup) throws -> ServiceMain.Setup {
        let configuration = try GatewayConfiguration(environment: startup.configuration.environment)
        let starting = StartingHTTP(configuration: configuration, startup: startup)
        try starting.server.start(listeningOn: startup.listener(httpPort))
        startup.onFailedStart { starting.server.stop() }
        var proxy: RPCProxy?
        if let port = configuration.proxyPort {
            let progress = startup.progress
            let created = RPCProxy(service: startup.configuration, secret: startup.secret, logger: startup.logger, port: port) { progress.reason }
            try created.start(listeningOn: startup.listener(proxyPort))
            startup.onFailedStart { created.stop() }
            proxy = created
        }
        return { [proxy] runtime, router in
            try register(runtime: runtime, router: &router, configuration: configuration, starting: starting, proxy: proxy)
        }
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
        var proxy: RPCProxy?
        if let port = configuration.proxyPort {
            let created = RPCProxy(gateway: gateway, port: port)
            try created.start(listeningOn: runtime.listener(proxyPort))
            proxy = created
        }
        startServing(gateway, http: http, proxy: proxy, runtime: runtime)
    }

    /// ``register(runtime:router:)`` with the HTTP server and the proxy ``prepare(_:)`` started.
    static func register(runtime: ServiceRuntime, router: inout RPCRouter, configuration: GatewayConfiguration,
                         starting: StartingHTTP, proxy: RPCProxy?) throws {
        let gateway = Gateway(runtime: runtime, configuration: configuration)
        proxy?.serve(gateway)
        startServing(gateway, http: starting.server, proxy: proxy, runtime: runtime)
        starting.serve(gateway)
    }

    /// The gateway's background work, next to its running HTTP server and proxy.
    private static func startServing(_ gateway: Gateway, http: HTTPServer, proxy: RPCProxy?, runtime: ServiceRuntime) {
        if let proxy {
            proxyServer.withLock { $0 = proxy.server }
            runtime.logger.notice("rpc proxy listening", ["address": "\(runtime.configuration.host):\(proxy.server.port)"])
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
