import Foundation
import Storage

/// A throwaway PostgreSQL 15 cluster on 127.0.0.1 for tests.
///
/// ``shared()`` starts one cluster per test process on first use; each test then takes a fresh
/// database from ``createDatabase()``. The cluster runs as the `postgres` OS user (through
/// `runuser` when the tests run as root), listens on an OS-chosen free port, trusts local
/// connections and runs with `fsync=off` (fast, not crash-safe: a test cluster).
///
/// No cluster outlives the test process: an `atexit` handler stops every cluster with
/// `pg_ctl stop -m immediate`, and a detached watchdog shell does the same (and deletes the data
/// directory) if the process dies without running it.
///
/// Set `OCORRENCIAS_TEST_PG=0` to skip PostgreSQL tests (``isEnabled``); by default they run.
/// `OCORRENCIAS_PG_BIN` overrides the binary directory (default `/usr/lib/postgresql/15/bin`).
///
/// ```swift
/// let url = try PostgresTestServer.shared().createDatabase()
/// let db = try openDatabase(DatabaseConfiguration(url: url, sqlitePath: ""), migrations: [])
/// ```
public final class PostgresTestServer: @unchecked Sendable {
    /// Whether PostgreSQL tests should run (`OCORRENCIAS_TEST_PG` is not `0`).
    public static var isEnabled: Bool {
        ProcessInfo.processInfo.environment["OCORRENCIAS_TEST_PG"] != "0"
    }

    /// The TCP port the cluster listens on (127.0.0.1).
    public let port: Int
    /// A superuser URL for the `postgres` maintenance database.
    public var adminURL: String { url(database: "postgres") }

    private let directory: String
    private let binaries: String
    private let lock = NSLock()
    private var databaseCounter = 0  // guarded by lock
    private var isStopped = false  // guarded by lock

    // MARK: Shared instance

    private static let sharedLock = NSLock()
    nonisolated(unsafe) private static var sharedResult: Result<PostgresTestServer, any Error>?  // guarded by sharedLock
    private static let registryLock = NSLock()
    nonisolated(unsafe) private static var running: [PostgresTestServer] = []  // guarded by registryLock
    nonisolated(unsafe) private static var exitHandlerInstalled = false  // guarded by registryLock

    /// The cluster shared by every test in this process, started on first call.
    /// - Throws: Why the cluster could not start (the same error on every later call).
    public static func shared() throws -> PostgresTestServer {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if let sharedResult { return try sharedResult.get() }
        let result = Result { try PostgresTestServer() }
        sharedResult = result
        return try result.get()
    }

    /// Starts a private cluster, for tests that disturb it (``restart()``); call ``stop()`` when
    /// done (it is also stopped at process exit).
    public static func start() throws -> PostgresTestServer {
        try PostgresTestServer()
    }

    /// Stops every cluster started by this process (installed as an `atexit` handler).
    public static func stopAll() {
        registryLock.lock()
        let servers = running
        running.removeAll()
        registryLock.unlock()
        servers.forEach { $0.stop() }
    }

    // MARK: Lifecycle

    private init() throws {
        binaries = ProcessInfo.processInfo.environment["OCORRENCIAS_PG_BIN"] ?? "/usr/lib/postgresql/15/bin"
        guard FileManager.default.isExecutableFile(atPath: "\(binaries)/initdb") else {
            throw TestSupportError("PostgreSQL binaries not found in \(binaries) (install postgresql-15, or set OCORRENCIAS_TEST_PG=0 to skip PostgreSQL tests)")
        }
        directory = try TemporaryDirectory.create(prefix: "ocorrencias-pg")
        do {
            try Self.startWatchdog(binaries: binaries, directory: directory)
            try Self.giveToPostgresUser(directory)
            try Self.runAsPostgres("\(binaries)/initdb", [
                "-D", "\(directory)/data", "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
            ], log: "\(directory)/initdb.log")
            port = try Self.startOnFreePort(binaries: binaries, directory: directory)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        Self.register(self)
    }

    /// Restarts the cluster (`pg_ctl restart -m fast`): every open connection is cut and the
    /// server comes back on the same port.
    public func restart() throws {
        try Self.runAsPostgres("\(binaries)/pg_ctl", [
            "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-m", "fast", "-w", "-t", "60", "restart",
        ], log: "\(directory)/pg_ctl.log")
    }

    /// Stops the cluster immediately and deletes its data directory. Idempotent.
    public func stop() {
        lock.lock()
        let alreadyStopped = isStopped
        isStopped = true
        lock.unlock()
        guard !alreadyStopped else { return }
        try? Self.runAsPostgres("\(binaries)/pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "-w", "stop"],
                                log: "/dev/null")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Creates an empty database and returns its URL.
    public func createDatabase() throws -> String {
        lock.lock()
        databaseCounter += 1
        let name = "test_\(databaseCounter)"
        lock.unlock()
        try PostgresAdmin.execute(url: adminURL, "CREATE DATABASE \(name)")
        return url(database: name)
    }

    /// The URL of database `name` on this cluster.
    public func url(database name: String) -> String {
        "postgres://postgres@127.0.0.1:\(port)/\(name)"
    }

    // MARK: Helpers

    private static func register(_ server: PostgresTestServer) {
        registryLock.lock()
        defer { registryLock.unlock() }
        running.append(server)
        if !exitHandlerInstalled {
            exitHandlerInstalled = true
            atexit { PostgresTestServer.stopAll() }
        }
    }

    /// Starts the cluster on a free port, trying another one when the chosen port was taken
    /// between probing and binding.
    private static func startOnFreePort(binaries: String, directory: String) throws -> Int {
        var lastError: (any Error)?
        for _ in 0..<5 {
            let candidate = try FreePort.next()
            try writeSettings(dataDirectory: "\(directory)/data", socketDirectory: directory, port: candidate)
            do {
                try runAsPostgres("\(binaries)/pg_ctl", [
                    "-D", "\(directory)/data", "-l", "\(directory)/server.log", "-w", "-t", "60", "start",
                ], log: "\(directory)/pg_ctl.log")
                return candidate
            } catch {
                lastError = error
            }
        }
        throw lastError ?? TestSupportError("PostgreSQL did not start")
    }

    /// A shell that waits for this process to end and then stops the cluster and deletes its
    /// directory, in case the process dies without running its `atexit` handlers.
    private static func startWatchdog(binaries: String, directory: String) throws {
        let pgCtl = asPostgres("\(binaries)/pg_ctl", ["-D", "\(directory)/data", "-m", "immediate", "stop"])
            .map(Command.shellQuoted).joined(separator: " ")
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            \(pgCtl) >/dev/null 2>&1
            rm -rf \(Command.shellQuoted(directory))
            """
        try Command.spawnDetached("/bin/sh", ["-c", script])
    }

    private static func writeSettings(dataDirectory: String, socketDirectory: String, port: Int) throws {
        let settings = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(socketDirectory)'
            max_connections = 200
            shared_buffers = 32MB
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            deadlock_timeout = '100ms'
            log_min_messages = warning

            """
        // postgresql.auto.conf is read last, so rewriting it replaces earlier choices.
        let path = "\(dataDirectory)/postgresql.auto.conf"
        try settings.write(toFile: path, atomically: false, encoding: .utf8)
        try giveToPostgresUser(path)
    }

    private static var isRoot: Bool { geteuid() == 0 }

    private static func asPostgres(_ executable: String, _ arguments: [String]) -> [String] {
        isRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable] + arguments : [executable] + arguments
    }

    private static func runAsPostgres(_ executable: String, _ arguments: [String], log: String) throws {
        let command = asPostgres(executable, arguments)
        try Command.run(command[0], Array(command.dropFirst()), log: log)
    }

    private static func giveToPostgresUser(_ path: String) throws {
        guard isRoot else { return }
        guard let user = getpwnam("postgres") else {
            throw TestSupportError("running as root but there is no 'postgres' user to run the cluster")
        }
        guard chown(path, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else {
            throw TestSupportError("chown \(path) to postgres failed: errno \(errno)")
        }
    }
}
