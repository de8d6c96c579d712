import Foundation
import ServiceKit
import Storage

/// The attachment files of `intake backup --to DIR`: every content that the copied database keeps
/// as a file (not inline in its `contents` row) is copied to `DIR/attachments/ab/cd/<sha256>`,
/// the layout of intake's own store, so the backup directory is a data directory.
///
/// Contents are immutable and named by their SHA-256, so a file already in the destination with
/// the right size is not copied again: backing up into the same directory every night copies only
/// the new files. Each copy goes through ``ContentStore/Upload`` like an upload: hashed and checked
/// against its name, written under a temporary name, flushed and renamed.
/// A content the copied database still references whose file is gone (removed by garbage
/// collection after the database was copied) fails the backup: run it again.
public enum ContentBackup {
    /// What one run copied.
    public struct Outcome: Sendable, Equatable {
        public var copied = 0
        public var alreadyThere = 0
        public var bytesCopied: Int64 = 0
        /// Unreferenced contents (`ref_count` ≤ 0) whose file was already removed: nothing needs them.
        public var unreferencedGone = 0
    }

    /// ``ServiceBackup/Files`` for intake.
    public static let files: ServiceBackup.Files = { database, destination, configuration in
        let settings = try IntakeSettings(environment: configuration.environment, dataDirectory: configuration.dataDirectory)
        let outcome = try copy(database, from: settings.attachmentsDirectory,
                               to: (destination as NSString).appendingPathComponent("attachments"))
        return "intake: anexos / attachments: \(outcome.copied) copiados / copied (\(outcome.bytesCopied) bytes), "
            + "\(outcome.alreadyThere) já presentes / already there"
    }

    /// Copies the files of the contents `database` keeps outside its rows from the store at
    /// `source` to the store at `destination`, each checked against its SHA-256 on the way.
    /// - Throws: ``ContentStoreError`` naming the referenced contents whose file is missing, or
    ///   the first file that could not be read or written, or whose bytes no longer hash to its name.
    public static func copy(_ database: any Database, from source: String, to destination: String) throws -> Outcome {
        let live = ContentStore(reading: source)
        let copies = try ContentStore(root: destination)
        var outcome = Outcome()
        var missing: [String] = []
        // In pages of 10,000 (a store of millions of files is not held in memory at once).
        var after = ""
        while true {
            let rows = try database.read { tx in
                try tx.query("SELECT sha256, size_bytes, ref_count FROM contents WHERE data IS NULL AND sha256 > ? ORDER BY sha256 LIMIT 10000",
                             [.text(after)])
            }
            guard let last = rows.last else { break }
            after = try last.text("sha256")
            try copyPage(rows, from: live, to: copies, outcome: &outcome, missing: &missing)
        }
        guard missing.isEmpty else {
            throw ContentStoreError("\(missing.count) conteúdo(s) referenciado(s) sem arquivo, execute de novo / referenced content(s) without a file, run the backup again: "
                                    + missing.prefix(5).joined(separator: ", "))
        }
        return outcome
    }

    private static func copyPage(_ rows: [Row], from live: ContentStore, to copies: ContentStore,
                                 outcome: inout Outcome, missing: inout [String]) throws {
        for row in rows {
            let sha = try row.text("sha256")
            if let existing = fileSize(copies.path(of: sha)), existing == (try row.int("size_bytes")) {
                outcome.alreadyThere += 1
                continue
            }
            let input = open(live.path(of: sha), O_RDONLY | O_CLOEXEC)
            guard input >= 0 else {
                guard errno == ENOENT else { throw ContentStoreError("cannot read \(live.path(of: sha)): errno \(errno)") }
                if try row.int("ref_count") > 0 { missing.append(sha) } else { outcome.unreferencedGone += 1 }
                continue
            }
            defer { close(input) }
            let upload = try copies.beginUpload()
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count >= 0 else { throw ContentStoreError("cannot read \(live.path(of: sha)): errno \(errno)") }
                if count == 0 { break }
                try upload.append(count == buffer.count ? buffer : Array(buffer[..<count]))
            }
            do { _ = try upload.commit(expected: sha) } catch let damaged as ContentMismatch {
                throw ContentStoreError("arquivo danificado no armazenamento / stored file damaged: \(live.path(of: sha)) hashes to \(damaged.actual)")
            }
            outcome.bytesCopied += upload.size
            outcome.copied += 1
        }
    }

    private static func fileSize(_ path: String) -> Int64? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        return Int64(info.st_size)
    }
}
