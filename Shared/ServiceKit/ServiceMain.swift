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
        withoutActuallyEscaping(setup) { setup in
            run(name: name, migrations: migrations, databaseTuning: databaseTuning, backupFiles: backupFiles,
                commands: commands, settings: settings, ports: ports, prepare: { _ in setup })
        }
    }

    /// ``run(name:migrations:databaseTuning:backupFiles:commands:settings:ports:setup:)`` for a
    /// service that starts something before its database opens, to answer while it migrates
    /// (the gateway's HTTP server: `/healthz`, `/readyz`): `prepare` runs once the ports are bound
    /// and the RPC server answers "starting", and returns the setup to run once the database is ready.
    public static func run(name: String, migrations: [Migration],
                           databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration = { $0 },
                           backupFiles: ServiceBackup.Files? = nil, commands: [String] = [],
                           settings: [(variable: String, value: String)] = [],
                           ports: (ServiceConfiguration) throws -> [ServicePort] = { _ in [] },
                           prepare: (ServiceStartup) throws -> Setup) -> Never {
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
                                 databaseTuning: databaseTuning, ports: ports, prepare: prepare)
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
    /// In this order: its ports are bound (the RPC port and `ports`), its RPC server starts
    /// answering, then its database is opened and migrated, then it serves. A port in use stops
    /// it before it touches the database (a second instance started by mistake next to a running
    /// one must not migrate that one's database under it). While it opens and migrates its
    /// database, `Health/Check` answers `NOT_SERVING` with what it is doing ("migrando o banco de
    /// dados (migração 12 de 30: …) / migrating the database (migration 12 of 30: …)",
    /// ``StartupProgress``) and every other call `UNAVAILABLE`, not started (callers may repeat
    /// it); then the same socket serves its methods. A failed migration stops it: the error is
    /// thrown and the port closed.
    public static func start(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger,
                             databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration = { $0 },
                             ports: (ServiceConfiguration) throws -> [ServicePort] = { _ in [] },
                             setup: (ServiceRuntime, inout RPCRouter) throws -> Void) throws -> ServiceHost {
        try withoutActuallyEscaping(setup) { setup in
            try start(configuration: configuration, migrations: migrations, logger: logger, databaseTuning: databaseTuning,
                      ports: ports, prepare: { _ in setup })
        }
    }

    /// What a service registers once its database is ready (its methods, background work).
    public typealias Setup = (ServiceRuntime, inout RPCRouter) throws -> Void

    /// ``start(configuration:migrations:logger:databaseTuning:ports:setup:)`` with a `prepare`
    /// step before the database opens (see ``run(name:migrations:databaseTuning:backupFiles:commands:settings:ports:prepare:)``).
    public static func start(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger,
                             databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration = { $0 },
                             ports: (ServiceConfiguration) throws -> [ServicePort] = { _ in [] },
                             prepare: (ServiceStartup) throws -> Setup) throws -> ServiceHost {
        _ = StorageErrorAnswers.registered
        try configuration.createDataDirectory()
        let secret = try configuration.deploymentSecret()
        let servicePorts = [ServicePort(name: ServicePort.rpc, host: configuration.host, port: configuration.port)] + (try ports(configuration))
        var listeners = try ServicePort.bind(servicePorts[0], Array(servicePorts.dropFirst()))
        // As bound (a port 0 asked for is the one the system gave): `rpc=127.0.0.1:7100 http=…`.
        let boundPorts = servicePorts.map { "\($0.name)=\($0.host):\(listeners[$0.name]?.port ?? $0.port)" }.joined(separator: " ")
        let progress = StartupProgress(logger: logger)
        var serverConfiguration = ServerConfiguration(serviceName: configuration.serviceName, secret: secret)
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        serverConfiguration.limits = configuration.limits
        serverConfiguration.workerThreads = configuration.workers
        serverConfiguration.acceptsUnboundPrincipals = PrincipalBinding.acceptsUnbound(configuration.environment)
        let server = RPCServer(configuration: serverConfiguration, logger: logger) { progress.reason }
        do {
            try server.start(listeningOn: listeners.removeValue(forKey: ServicePort.rpc))
        } catch {
            for listener in listeners.values { listener.close() }
            throw error
        }
        let startup = ServiceStartup(configuration: configuration, logger: logger, secret: secret, progress: progress, listeners: listeners)
        do {
            let setup = try prepare(startup)
            return try start(configuration: configuration, migrations: migrations, logger: logger, secret: secret,
                             server: server, progress: progress, listeners: startup.remainingListeners(), boundPorts: boundPorts,
                             databaseTuning: databaseTuning, setup: setup)
        } catch {
            startup.startFailed()
            server.shutdown(gracePeriodMilliseconds: 0)
            for listener in startup.remainingListeners().values { listener.close() }
            throw error
        }
    }

    private static func start(configuration: ServiceConfiguration, migrations: [Migration], logger: Logger,
                              secret: DeploymentSecret, server: RPCServer, progress: StartupProgress,
                              listeners: [String: ListeningSocket], boundPorts: String,
                              databaseTuning: (DatabaseConfiguration) -> DatabaseConfiguration,
                              setup: Setup) throws -> ServiceHost {
        let databaseConfiguration = databaseTuning(DatabaseConfiguration.fromEnvironment(
            service: configuration.serviceName, dataDirectory: configuration.dataDirectory, environment: configuration.environment))
        let database = try openDatabase(databaseConfiguration, migrations: migrations, progress: progress.report)
        // Where the data is, never a password (``DatabaseConfiguration/location``).
        let databaseFields = ["db.engine": database.engine.rawValue, "db.location": databaseConfiguration.location,
                              "db.schema": (try? schemaVersions(database)) ?? "unknown",
                              "db.migrations_applied": String(progress.appliedMigrations)]
        logger.notice("database ready", databaseFields)
        let runtime = ServiceRuntime(configuration: configuration, logger: logger, database: database, secret: secret,
                                     listeners: listeners)
        do {
            var router = RPCRouter()
            BuiltinServices.register(in: &router, service: configuration.serviceName) { StorageWriteProbe.health(of: database) }
            registerOutboxStats(in: &router, database: database)
            registerEventFeed(in: &router, runtime: runtime)
            runtime.addBackground(try StorageWriteProbe(database: database, environment: configuration.environment, logger: logger))
            runtime.addBackground(StorageRetention(database: database, settings: configuration.retention, logger: logger))
            try setup(runtime, &router)
            server.serve(router)
        } catch {
            database.close()
            throw error
        }
        for service in runtime.backgroundServices { service.start() }
        // A line operators and scripts can wait for, saying what runs: the release, every port,
        // the database and its schema (docs/DEPLOYMENT.md, "Logs at start-up").
        logger.notice("ready", databaseFields.merging(["address": "\(configuration.host):\(server.port)", "version": BuildInfo.version,
                                                       "ports": boundPorts]) { $1 })
        return ServiceHost(runtime: runtime, server: server)
    }

    /// The latest migration applied of each schema component, `service 42, storage 3`.
    static func schemaVersions(_ database: any Database) throws -> String {
        try database.read { tx in
            try tx.query("SELECT component, MAX(version) AS version FROM schema_migrations GROUP BY component ORDER BY component")
                .map { "\(try $0.text("component")) \(try $0.int("version"))" }.joined(separator: ", ")
        }
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
