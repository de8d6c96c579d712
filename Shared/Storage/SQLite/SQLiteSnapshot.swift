import CSQLite
import Foundation

/// A consistent copy of a live SQLite database, taken while its service keeps writing.
///
/// SQLite's online backup API copies every page in one read transaction (`sqlite3_backup_step`
/// with `-1`): in WAL mode that transaction sees one committed state and blocks no writer, so the
/// copy is the database as of one commit, never a mix. The copy is written beside the destination,
/// checked with `PRAGMA quick_check`, flushed to disk and only then renamed into place (and its
/// directory synced): a backup cut off half-way leaves no file under the destination's name. The
/// copy is readable by its owner only (mode 0600).
///
/// ```swift
/// let copy = try SQLiteSnapshot.write(databaseAt: "/var/lib/ocorrencias/intake.sqlite",
///                                     to: "/backup/2026-11-30/intake.sqlite")
/// ```
public enum SQLiteSnapshot {
    /// What a snapshot wrote.
    public struct Copy: Sendable, Equatable {
        /// Database pages copied.
        public var pages: Int
        /// Size of the written file in bytes.
        public var bytes: Int64
    }

    /// Copies the database at `source` to `destination` (replaced if it exists).
    /// - Parameter busyTimeout: How long to wait while the source is locked (e.g. a checkpoint
    ///   that truncates the WAL, or a service creating the database).
    /// - Throws: ``StorageError`` when the source does not exist or cannot be read, the copy fails
    ///   its check, or `destination` has a `-wal` or `-shm` file beside it (a database in use, such
    ///   as the source itself); nothing is then left at `destination` (an older file there stays).
    @discardableResult
    public static func write(databaseAt source: String, to destination: String,
                             busyTimeout: Duration = .seconds(30)) throws -> Copy {
        guard FileManager.default.fileExists(atPath: source) else {
            throw StorageError(.connection, "banco de dados inexistente / no database at '\(source)'")
        }
        // A database file replaced under its `-wal`/`-shm` (a process has it open, or one that
        // died left them) would read as corrupt: never write there.
        if let companion = ["-wal", "-shm"].map({ destination + $0 }).first(where: { FileManager.default.fileExists(atPath: $0) }) {
            throw StorageError(.misuse, "o destino está em uso ou foi deixado por um processo / the destination is in use or was left by a process: '\(companion)' exists; choose another directory")
        }
        // Read-write without create: a WAL database's reader may need to recover the shared-memory
        // index, which a read-only handle cannot always do.
        let from = try open(source, flags: SQLITE_OPEN_READWRITE, busyTimeout: busyTimeout)
        defer { sqlite3_close_v2(from) }
        let partial = destination + ".partial"
        unlink(partial)
        var renamed = false
        defer { if !renamed { unlink(partial) } }
        let to = try open(partial, flags: SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busyTimeout: busyTimeout)
        var toClosed = false
        defer { if !toClosed { sqlite3_close_v2(to) } }

        guard let backup = sqlite3_backup_init(to, "main", from, "main") else {
            throw failure("cannot start the copy of '\(source)'", to)
        }
        let giveUp = ContinuousClock.now + busyTimeout
        var step: Int32
        repeat {
            step = sqlite3_backup_step(backup, -1)
            if step == SQLITE_BUSY || step == SQLITE_LOCKED {
                guard ContinuousClock.now < giveUp else { break }
                usleep(20_000)
            }
        } while step == SQLITE_OK || step == SQLITE_BUSY || step == SQLITE_LOCKED
        let pages = Int(sqlite3_backup_pagecount(backup))
        let finish = sqlite3_backup_finish(backup)
        guard step == SQLITE_DONE, finish == SQLITE_OK else {
            throw StorageError(SQLiteErrors.kind(code: step == SQLITE_DONE ? finish : step, duringPrepare: false),
                               "cópia de '\(source)' interrompida / copy of '\(source)' failed: \(String(cString: sqlite3_errstr(step == SQLITE_DONE ? finish : step)))")
        }
        let check = try quickCheck(to)
        guard check == "ok" else {
            throw StorageError(.other, "a cópia de '\(source)' não passou na verificação / the copy of '\(source)' failed its check: \(check)")
        }
        sqlite3_close_v2(to)
        toClosed = true
        // Readable by the owner only: a backup holds customers' data and credential hashes.
        guard chmod(partial, 0o600) == 0 else {
            throw StorageError(.other, "cannot restrict the permissions of '\(partial)': errno \(errno)")
        }
        try FileSync.flush(partial)
        guard rename(partial, destination) == 0 else {
            throw StorageError(.other, "cannot rename '\(partial)' to '\(destination)': errno \(errno)")
        }
        renamed = true
        let directory = (destination as NSString).deletingLastPathComponent
        try FileSync.flush(directory.isEmpty ? "." : directory)
        let bytes = ((try? FileManager.default.attributesOfItem(atPath: destination)[.size]) as? NSNumber)?.int64Value ?? 0
        return Copy(pages: pages, bytes: bytes)
    }

    private static func open(_ path: String, flags: Int32, busyTimeout: Duration) throws -> OpaquePointer {
        var db: OpaquePointer?
        let rc = sqlite3_open_v2(path, &db, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let db { sqlite3_close_v2(db) }
            throw StorageError(.connection, "cannot open SQLite database at '\(path)': \(message)", code: String(rc))
        }
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(clamping: busyTimeout.wholeMilliseconds))
        return db
    }

    /// `PRAGMA quick_check`'s answer: `ok`, or the problems it lists joined by "; ".
    private static func quickCheck(_ db: OpaquePointer) throws -> String {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure("cannot check the copy", db)
        }
        defer { sqlite3_finalize(statement) }
        var lines: [String] = []
        while sqlite3_step(statement) == SQLITE_ROW {
            if let text = sqlite3_column_text(statement, 0) { lines.append(String(cString: text)) }
        }
        return lines.isEmpty ? "no answer" : lines.joined(separator: "; ")
    }

    private static func failure(_ what: String, _ db: OpaquePointer) -> StorageError {
        let code = sqlite3_extended_errcode(db)
        return StorageError(SQLiteErrors.kind(code: code, duringPrepare: false), "\(what): \(String(cString: sqlite3_errmsg(db)))", code: String(code))
    }
}
