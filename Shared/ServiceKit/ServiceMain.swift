import Foundation
import Observability
import RPC
import RPCTransport
import Storage

/// Everything that makes a process a service of this system, shared by every executable:
/// configuration, logging, its own database with migrations, the RPC server with health and
/// reflection, background work, and graceful shutdown on SIGTERM/SIGINT.
///
/// ```swift
/// // Services/Intake/Executable/main.swift
/// ServiceMain.run(name: "intake", migrations: IntakeSchema.migrations) { runtime, router in
///     try IntakeService(runtime: runtime).register(in: &router)
/// }
/// ```
public enum ServiceMain {
    /// Starts the service and blocks until it has shut down; exits the process.
    /// `<service> healthcheck [flags]` instead asks the running instance whether it serves, and
    /// `<service> backup --to DIR [flags]` copies its data while it runs (``ServiceBackup``).
    /// - Parameter backupFiles: What the service's backup copies besides its database.
    /// - Parameter databaseTuning: The service's own defaults for its database configuration
    ///   (e.g. ``DatabaseConfiguration/tunedForWrites()``), applied to what the environment gave;
    ///   identity by default.
    /// - Parameter commands: the service's own commands for `--help` (``ServiceConfiguration/usage(serviceName:commands:settings:)``).
    /// - Parameter settings: the service's own variables `--help` names (the gateway's HTTP and integration ports).
    /// - Parameter ports: the ports the service listens on besides its RPC port (the gateway's
    ///   HTTP and integration ports), bound with it before the database opens
    ///   (``ServiceRuntime/listener(_:)``).
    public static func run(name: String, migrations: [Migration],
                           databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration = { $0 },
                           backupFiles: ServiceBackup.Files? = nil, commands: [String] = [],
                           settings: [(variable: String, value: String)] = [],
                           ports: (ServiceConfiguration) throws -> [ServicePort] = { _ in [] },
                           setup: (ServiceRuntime, inout RPCRouter) throws -> Void) -> Never {
        let arguments = CommandLine.arguments
        if ServiceConfiguration.asksForHelp(arguments) {
            print(ServiceConfiguration.usage(serviceName: name, commands: commands, settings: settings), terminator: "")
            exit(0)
        }
        if arguments.count > 1, arguments[1] == "healthcheck" {
            exit(HealthProbe.run(name: name, arguments: [arguments[0]] + arguments.dropFirst(2)))
        }
        if arguments.count > 1, arguments[1] == "backup" {
            exit(ServiceBackup.run(name: name, arguments: [arguments[0]] + arguments.dropFirst(2), migrations: migrations, files: backupFiles))
        }
        // Block the termination signals before any thread starts, so only signalfd sees them.
        let signals = SignalWaiter.prepare()
        let configuration: ServiceConfiguration
        do { configuration = try ServiceConfiguration(serviceName: name) } catch {
            FileHandle.standardError.write(Data("\(name): \(error)\n".utf8))
            exit(2)
        }
        let logger = Logger(service: name, level: configuration.logLevel)
        do {
            let host = try start(configuration: configuration, migrations: migrations, logger: logger,
                                 databaseTuning: databaseTuning, ports: ports, setup: setup)
            let signal = SignalWaiter.waitForTermination(signals)
            logger.notice("termination signal received", ["signal": String(signal)])
            host.stop()
            exit(0)
        } catch {
            logger.critical("start-up failed: \(error)")
            exit(1)
        }
    }

    /// Starts a service in this process (tests run several this way) and returns its handle.
    ///
    /// In this order: its ports are bound (the RPC port and `ports`), then its database is opened
    /// and migrated, then it serves. A port in use stops it before it touches the database (a
    /// second instance started by mistake next to a running one must not migrate that one's
    /// database under it); connections made while it migrates wait in the listen backlog, so a
    /// health check meanwhile gets no answer: not ready.
    public static func start(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger,
                             databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration = { $0 },
                             ports: (ServiceConfiguration) throws -> [ServicePort] = { _ in [] },
                             setup: (ServiceRuntime, inout RPCRouter) throws -> Void) throws -> ServiceHost {
        _ = StorageErrorAnswers.registered
        try configuration.createDataDirectory()
        let secret = try configuration.deploymentSecret()
        let listeners = try ServicePort.bind(ServicePort(name: ServicePort.rpc, host: configuration.host, port: configuration.port),
                                             try ports(configuration))
        do {
            return try start(configuration: configuration, migrations: migrations, logger: logger, secret: secret,
                             listeners: listeners, databaseTuning: databaseTuning, setup: setup)
        } catch {
            for listener in listeners.values { listener.close() }
            throw error
        }
    }

    private static func start(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger,
                              secret: DeploymentSecret, listeners: [String: ListeningSocket],
                              databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration,
                              setup: (ServiceRuntime, inout RPCRouter) throws -> Void) throws -> ServiceHost {
        let databaseConfiguration = databaseTuning(DatabaseConfiguration.fromEnvironment(
            service: configuration.serviceName, dataDirectory: configuration.dataDirectory, environment: configuration.environment))
        let database = try openDatabase(databaseConfiguration, migrations: migrations)
        logger.notice("database ready", ["db.engine": database.engine.rawValue,
                                         "db.location": databaseConfiguration.url == nil ? databaseConfiguration.sqlitePath : "postgres"])
        let runtime = ServiceRuntime(configuration: configuration, logger: logger, database: database, secret: secret,
                                     listeners: listeners)
        var router = RPCRouter()
        BuiltinServices.register(in: &router, service: configuration.serviceName) { StorageWriteProbe.health(of: database) }
        registerOutboxStats(in: &router, database: database)
        registerEventFeed(in: &router, runtime: runtime)
        runtime.addBackground(try StorageWriteProbe(database: database, environment: configuration.environment, logger: logger))
        runtime.addBackground(StorageRetention(database: database, settings: configuration.retention, logger: logger))
        try setup(runtime, &router)
        var serverConfiguration = ServerConfiguration(serviceName: configuration.serviceName, secret: secret)
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.limits = configuration.limits
        serverConfiguration.workerThreads = configuration.workers
        let server = RPCServer(configuration: serverConfiguration, router: router, logger: logger)
        try server.start(listeningOn: runtime.listener(ServicePort.rpc))
        for service in runtime.backgroundServices { service.start() }
        // A line operators and scripts can wait for.
        logger.notice("ready", ["address": "\(configuration.host):\(server.port)"])
        return ServiceHost(runtime: runtime, server: server)
    }
}

/// A running service: its server and runtime.
public final class ServiceHost: @unchecked Sendable {
    public let runtime: ServiceRuntime
    public let server: RPCServer

    init(runtime: ServiceRuntime, server: RPCServer) {
        self.runtime = runtime
        self.server = server
    }

    /// The RPC port the service listens on.
    public var port: Int { server.port }

    /// Graceful stop: drain the RPC server, stop background work, close clients and the database.
    public func stop() {
        // Watch streams would otherwise hold the drain for the whole grace period.
        runtime.eventFeed.close()
        server.shutdown()
        for service in runtime.backgroundServices.reversed() { service.stop() }
        runtime.closeClients()
        runtime.database.close()
        runtime.logger.notice("stopped cleanly")
    }
}
