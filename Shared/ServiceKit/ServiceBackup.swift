import Foundation
import Storage

/// `<service> backup --to DIR [flags]`: an online copy of the service's data, taken while the
/// service runs, for operators of the default SQLite deployment.
///
/// The database is copied consistently (``SQLiteSnapshot``: one committed state, checked, written
/// under a temporary name and renamed) to `DIR/<service>.sqlite`; a service with data outside its
/// database adds it through ``Files`` (intake: the attachment files the copy names). The layout of
/// `DIR` is that of a data directory, so restoring is copying it back with the service stopped
/// (docs/DEPLOYMENT.md, "Backups"). On PostgreSQL the database is not copied (pg_dump or
/// pg_basebackup do that) but ``Files`` still runs, against the live database.
///
/// Exit status: 0 copied; 1 the copy failed (nothing half-written is left under a final name);
/// 2 usage or configuration error.
public enum ServiceBackup {
    /// What a service copies besides its database, given the database the copy must match (the
    /// snapshot on SQLite, the live database on PostgreSQL) and the destination directory; it
    /// returns a line for the operator.
    public typealias Files = @Sendable (_ database: any Database, _ destination: String,
                                        _ configuration: ServiceConfiguration) throws -> String

    static func run(name: String, arguments: [String], migrations: [Migration], files: Files?) -> Int32 {
        var rest = [arguments[0]]
        var destination: String?
        var index = 1
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--to", index + 1 < arguments.count {
                destination = arguments[index + 1]
                index += 2
            } else if argument.hasPrefix("--to=") {
                destination = String(argument.dropFirst(5))
                index += 1
            } else {
                rest.append(argument)
                index += 1
            }
        }
        guard let destination, !destination.isEmpty else {
            FileHandle.standardError.write(Data("uso / usage: \(name) backup --to DIRETÓRIO [--data-dir D]\n".utf8))
            return 2
        }
        let configuration: ServiceConfiguration
        do { configuration = try ServiceConfiguration(serviceName: name, arguments: rest) } catch {
            FileHandle.standardError.write(Data("\(name) backup: \(error)\n".utf8))
            return 2
        }
        do {
            for line in try backUp(name: name, configuration: configuration, to: destination, migrations: migrations, files: files) {
                print(line)
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data("\(name) backup: falhou / failed: \(error)\n".utf8))
            return 1
        }
    }

    /// Copies the service's data to `destination` (created when missing).
    /// - Returns: One line per part copied, for the operator.
    public static func backUp(name: String, configuration: ServiceConfiguration, to destination: String,
                              migrations: [Migration], files: Files?) throws -> [String] {
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: true)
        let databaseConfiguration = DatabaseConfiguration.fromEnvironment(
            service: name, dataDirectory: configuration.dataDirectory, environment: configuration.environment)
        var lines: [String] = []
        // What the files must match: the copy on SQLite, the live database on PostgreSQL.
        var filesMatch = databaseConfiguration
        switch databaseConfiguration.engine {
        case .sqlite:
            let copyPath = (destination as NSString).appendingPathComponent("\(name).sqlite")
            let copy = try SQLiteSnapshot.write(databaseAt: databaseConfiguration.sqlitePath, to: copyPath)
            lines.append("\(name): banco copiado / database copied: \(copyPath) (\(copy.pages) páginas / pages, \(copy.bytes) bytes)")
            filesMatch = DatabaseConfiguration(sqlitePath: copyPath, poolSize: 1)
        case .postgres:
            lines.append("\(name): PostgreSQL — banco não copiado, use pg_dump ou pg_basebackup / database not copied, use pg_dump or pg_basebackup")
        }
        guard let files else { return lines }
        let database = try openDatabase(filesMatch, migrations: migrations)
        defer { database.close() }
        lines.append(try files(database, destination, configuration))
        return lines
    }
}
