import Foundation
import Observability
import RPC
import RPCTransport
import Storage

/// How a service process is configured: flags win over environment variables, which win over
/// defaults. Every setting is listed in docs/CONFIGURATION.md.
///
/// | setting | flag | environment | default |
/// |---|---|---|---|
/// | bind address | `--host` | `OCORRENCIAS_HOST` | `127.0.0.1` |
/// | RPC port | `--port` | `<SERVICE>_PORT` | the service's default (7101–7104, gateway 7100) |
/// | data directory | `--data-dir` | `OCORRENCIAS_DATA_DIR` | `./data` |
/// | log level | `--log-level` | `OCORRENCIAS_LOG_LEVEL` | `info` |
/// | database | | `<SERVICE>_DATABASE_URL` | SQLite `<data-dir>/<service>.sqlite` |
/// | deployment secret | | `OCORRENCIAS_SECRET` or `OCORRENCIAS_SECRET_FILE` (not both) | generated in `<data-dir>/secret` |
/// | instances of another service | | `<SERVICE>_ADDRESSES` (`host:port,host:port`) | `127.0.0.1:<its default port>` |
/// | worker threads | `--workers` | `<SERVICE>_WORKERS` | 16 |
/// | instance name | `--instance-id` | `OCORRENCIAS_INSTANCE_ID` | `<hostname>:<port>` |
/// | idempotency keys kept | | `OCORRENCIAS_IDEMPOTENCY_RETENTION_HOURS` | 168 |
/// | inbox entries kept | | `OCORRENCIAS_INBOX_RETENTION_DAYS` | 30 |
/// | wait for a held migration lock | | `<SERVICE>_MIGRATION_LOCK_WAIT_SECONDS`, else `OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS` | 600 (0: for ever) |
public struct ServiceConfiguration: Sendable {
    public var serviceName: String
    public var host: String
    public var port: Int
    public var dataDirectory: String
    public var logLevel: Logger.Level
    public var workers: Int
    /// This instance's name among the instances of its service, stable across restarts: whatever
    /// an instance leased in the database (outbox events, deliveries) is taken back at once by
    /// the same instance restarted instead of waiting for the lease to run out. Two running
    /// instances must never share it. Default `<hostname>:<port>` (a random name when the port is
    /// chosen by the system).
    public var instanceID: String
    public var limits: RPCLimits
    /// How long idempotency keys and inbox entries are kept (``StorageRetention``).
    public var retention: StorageRetention.Settings
    public var environment: [String: String]

    /// Default RPC ports of the services, also used to find each other on one machine.
    public static let defaultPorts = ["gateway": 7100, "intake": 7101, "workflow": 7102, "notification": 7103, "knowledge": 7104]

    /// Reads flags and environment.
    /// - Throws: ``ConfigurationError`` naming the offending flag or variable.
    public init(serviceName: String, arguments: [String] = CommandLine.arguments,
                environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        self.serviceName = serviceName
        self.environment = environment
        let prefix = Self.environmentPrefix(serviceName)
        var flags: [String: String] = [:]
        let known: Set<String> = ["host", "port", "data-dir", "log-level", "workers", "instance-id"]
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw ConfigurationError("unexpected argument \(argument)") }
            if let equals = argument.firstIndex(of: "=") {
                flags[String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])] = String(argument[argument.index(after: equals)...])
                index += 1
            } else {
                // An unknown flag is named as such, even as the last argument (not "needs a value").
                guard known.contains(String(argument.dropFirst(2))) else {
                    throw ConfigurationError("unknown flag \(argument) (\(serviceName) --help lists them)")
                }
                guard index + 1 < arguments.count else { throw ConfigurationError("\(argument) needs a value") }
                flags[String(argument.dropFirst(2))] = arguments[index + 1]
                index += 2
            }
        }
        if let unknown = flags.keys.first(where: { !known.contains($0) }) { throw ConfigurationError("unknown flag --\(unknown) (\(serviceName) --help lists them)") }

        host = flags["host"] ?? environment["OCORRENCIAS_HOST"] ?? "127.0.0.1"
        let portText = flags["port"] ?? environment["\(prefix)_PORT"]
        if let portText {
            guard let port = Int(portText), (0..<65536).contains(port) else { throw ConfigurationError("porta inválida / invalid port \(portText)") }
            self.port = port
        } else {
            port = Self.defaultPorts[serviceName] ?? 0
        }
        dataDirectory = flags["data-dir"] ?? environment["OCORRENCIAS_DATA_DIR"] ?? "./data"
        let levelText = flags["log-level"] ?? environment["OCORRENCIAS_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(name: levelText) else { throw ConfigurationError("nível de log inválido / invalid log level \(levelText)") }
        logLevel = level
        let workersText = flags["workers"] ?? environment["\(prefix)_WORKERS"] ?? "16"
        guard let workers = Int(workersText), workers > 0, workers <= 1024 else { throw ConfigurationError("número de workers inválido / invalid worker count \(workersText)") }
        self.workers = workers
        let instanceText = flags["instance-id"] ?? environment["OCORRENCIAS_INSTANCE_ID"]
        if let instanceText {
            guard !instanceText.isEmpty, instanceText.count <= 200 else { throw ConfigurationError("nome de instância inválido / invalid instance id \(instanceText)") }
            instanceID = instanceText
        } else {
            instanceID = port == 0 ? UUID().uuidString : "\(ProcessInfo.processInfo.hostName):\(port)"
        }
        try Self.checkNumbers(environment, prefix: prefix)
        do { try DeploymentSecret.checkSources(environment) } catch { throw ConfigurationError("\(error)") }
        limits = RPCLimits(environment: environment)
        retention = try StorageRetention.Settings(environment: environment)
    }

    /// Refuses a malformed value of the variables read leniently below ServiceKit (``RPCLimits``,
    /// ``Storage/DatabaseConfiguration``, the `<SERVICE>_ADDRESSES` lists), so that a typo stops
    /// the start instead of leaving the default in place or no peer to call (``EnvironmentSettings``).
    static func checkNumbers(_ environment: [String: String], prefix: String) throws {
        let settings = EnvironmentSettings(environment)
        let positive = 1...(1 << 40)
        for name in ["OCORRENCIAS_RPC_MAX_FRAME_BYTES", "OCORRENCIAS_RPC_MAX_IN_FLIGHT", "OCORRENCIAS_RPC_MAX_CONNECTIONS",
                     "OCORRENCIAS_RPC_IDLE_TIMEOUT_MS", "OCORRENCIAS_RPC_FRAME_TIMEOUT_MS", "OCORRENCIAS_RPC_AUTH_TIMEOUT_MS",
                     "OCORRENCIAS_RPC_DEFAULT_TIMEOUT_MS", "OCORRENCIAS_RPC_MAX_TIMEOUT_MS", "OCORRENCIAS_RPC_MAX_STREAMS"] {
            _ = try settings.integer(name, in: positive)
        }
        _ = try settings.integer("\(prefix)_DATABASE_POOL_SIZE", in: 1...1_024)
        _ = try settings.integer("\(prefix)_SQLITE_CACHE_KIB", in: positive)
        _ = try settings.integer("\(prefix)_SQLITE_CHECKPOINT_PAGES", in: 0...(1 << 40))
        _ = try settings.integer("\(prefix)_MIGRATION_LOCK_WAIT_SECONDS", in: DatabaseConfiguration.migrationLockWaitRange)
        _ = try settings.integer("OCORRENCIAS_MIGRATION_LOCK_WAIT_SECONDS", in: DatabaseConfiguration.migrationLockWaitRange)
        // Read by ``EventBus/relay(runtime:configuration:)``, which cannot throw: a typo used to
        // leave the default in place silently.
        _ = try settings.integer("OCORRENCIAS_RELAY_ROUND_MS", in: 0...60_000)
        // Read again by ``StorageWriteProbe`` once the database is open: refused here, before it is.
        _ = try settings.integer("OCORRENCIAS_STORAGE_PROBE_MS", in: StorageWriteProbe.intervalRange)
        // `INTAKE_ADDRESSES=intake` (no port) used to leave no instance to call: a service that
        // started and failed every call to that peer.
        for service in defaultPorts.keys.sorted() {
            let name = "\(environmentPrefix(service))_ADDRESSES"
            guard let text = settings.text(name) else { continue }
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            if let bad = items.first(where: { Endpoint($0) == nil }) ?? (items.isEmpty ? text : nil) {
                throw ConfigurationError("\(name) inválido / invalid: '\(bad)' (host:porta,host:porta / host:port,host:port)")
            }
        }
    }

    /// Whether `arguments` (the process's, program name first) ask for the usage: `--help`,
    /// `-h` or `help` as the first argument.
    public static func asksForHelp(_ arguments: [String]) -> Bool {
        arguments.count > 1 && ["--help", "-h", "help"].contains(arguments[1])
    }

    /// What `<service> --help` prints: how to run it, its commands, the flags and the variables
    /// they stand for (docs/CONFIGURATION.md), in Portuguese and English.
    /// - Parameter commands: the service's own commands, one line each after the name
    ///   (`ingest-mail [--data-dir D]   …`).
    /// - Parameter settings: the service's own variables worth naming there (`variable`, its
    ///   default and meaning), listed after the shared ones.
    public static func usage(serviceName name: String, commands: [String] = [], settings: [(variable: String, value: String)] = []) -> String {
        let prefix = environmentPrefix(name)
        let port = defaultPorts[name].map(String.init) ?? "?"
        let lines = ["\(name) \(BuildInfo.version)", "uso / usage:",
                     "  \(name) [--host H] [--port P] [--data-dir D] [--log-level L] [--workers N] [--instance-id ID]",
                     "      serve (RPC na porta / RPC on port \(port)); SIGTERM ou Ctrl-C para / stops",
                     "  \(name) healthcheck [--port P]     a instância em execução atende? / does the running instance serve? (0 sim/yes, 1 não/no)",
                     "  \(name) healthcheck --live [--port P]   o processo responde (mesmo migrando)? / is the process alive (even while migrating)?",
                     "  \(name) backup --to DIR [--data-dir D]   copia os dados em funcionamento / copies its data while it runs (docs/DEPLOYMENT.md)"]
            + commands.map { "  \(name) \($0)" }
            + ["", "opções e variáveis / flags and environment (flags win; docs/CONFIGURATION.md, docs/\(name.uppercased()).md):"]
            + ([("--host", "OCORRENCIAS_HOST", "127.0.0.1"), ("--port", "\(prefix)_PORT", port), ("--data-dir", "OCORRENCIAS_DATA_DIR", "./data"),
               ("--log-level", "OCORRENCIAS_LOG_LEVEL", "info (debug, info, notice, warning, error, critical)"),
               ("--workers", "\(prefix)_WORKERS", "16"), ("--instance-id", "OCORRENCIAS_INSTANCE_ID", "<hostname>:<port>"),
               ("", "\(prefix)_DATABASE_URL", "postgres://… (else <data-dir>/\(name).sqlite)"),
               ("", "OCORRENCIAS_SECRET_FILE", "or OCORRENCIAS_SECRET, not both (else <data-dir>/secret)"),
               ("", "<SERVICE>_ADDRESSES", "host:port,… of the other services"),
               ("", "\(prefix)_MIGRATION_LOCK_WAIT_SECONDS", "600 (or OCORRENCIAS_…; 0: for ever)")]
            + settings.map { ("", $0.variable, $0.value) }).map { flag, variable, value in
                // A longer name than the column keeps all of it, and a space.
                "  " + flag.padding(toLength: 16, withPad: " ", startingAt: 0)
                    + variable.padding(toLength: max(29, variable.count + 1), withPad: " ", startingAt: 0) + value
            }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `notification` → `NOTIFICATION`.
    public static func environmentPrefix(_ service: String) -> String {
        String(service.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    /// Where the instances of `service` listen: `<SERVICE>_ADDRESSES`, else its default port here.
    public func endpoints(of service: String) -> [Endpoint] {
        if let text = environment["\(Self.environmentPrefix(service))_ADDRESSES"], !text.isEmpty {
            return Endpoint.list(text)
        }
        return [Endpoint(host: "127.0.0.1", port: Self.defaultPorts[service] ?? 0)]
    }

    /// The deployment secret: from the environment, else a random one kept in `<data-dir>/secret`
    /// so every service started on this machine shares it.
    public func deploymentSecret() throws -> DeploymentSecret {
        if let secret = try DeploymentSecret.fromEnvironment(environment) { return secret }
        let path = (dataDirectory as NSString).appendingPathComponent("secret")
        try createDataDirectory()
        if !FileManager.default.fileExists(atPath: path) {
            let text = Digest.hex(DeploymentSecret.randomBytes(32))
            // Write to a temporary file and link it into place: two services starting at once
            // agree on one secret.
            let temporary = path + ".\(getpid())"
            let written = FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
            let reason = written ? nil : String(cString: strerror(errno))
            _ = link(temporary, path)
            unlink(temporary)
            // A read-only or full data directory: say so, rather than "cannot read
            // OCORRENCIAS_SECRET_FILE", a variable nobody set.
            if let reason, !FileManager.default.fileExists(atPath: path) {
                throw ConfigurationError("não foi possível gravar o segredo gerado em / cannot write the generated deployment secret to \(path): \(reason) (OCORRENCIAS_DATA_DIR somente leitura ou cheio? / read-only or full? or set OCORRENCIAS_SECRET)")
            }
        }
        guard let secret = try DeploymentSecret.fromEnvironment(["OCORRENCIAS_SECRET_FILE": path]) else {
            throw ConfigurationError("cannot read the secret at \(path)")
        }
        return secret
    }
}

extension ServiceConfiguration {
    /// Creates the data directory when missing.
    /// - Throws: ``ConfigurationError`` naming it when it is a file or cannot be created.
    func createDataDirectory() throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dataDirectory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else {
                throw ConfigurationError("OCORRENCIAS_DATA_DIR '\(dataDirectory)' é um arquivo, não um diretório / is a file, not a directory")
            }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        } catch {
            let reason = ((error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError)?.localizedDescription ?? error.localizedDescription
            throw ConfigurationError("não foi possível criar o diretório de dados / cannot create the data directory OCORRENCIAS_DATA_DIR '\(dataDirectory)': \(reason)")
        }
    }
}

/// A configuration mistake, reported at start-up before anything listens.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
