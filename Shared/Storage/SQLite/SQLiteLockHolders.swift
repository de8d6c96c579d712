import Foundation

/// Who holds a SQLite database's write lock, as far as Linux tells: SQLite takes it with POSIX
/// record locks, which `/proc/locks` lists with the holder's pid. In WAL mode (how services open
/// their files) the write lock is the exclusive lock on byte 120 of the `-shm` file; a
/// rollback-journal writer locks the database file's RESERVED byte. Only processes visible from
/// here are named (the same PID namespace); elsewhere, or without `/proc`, nothing is known.
enum SQLiteLockHolders {
    /// WAL mode's write lock: `WALINDEX_LOCK_OFFSET` (120) + `WAL_WRITE_LOCK` (0) of the `-shm` file.
    static let walWriteLockByte: UInt64 = 120
    /// A rollback-journal writer's lock: `RESERVED_BYTE` (`PENDING_BYTE` 0x40000000 + 1) of the database file.
    static let reservedByte: UInt64 = 0x4000_0001

    /// A file as `/proc/locks` names it: device major and minor, inode.
    struct FileID: Equatable {
        var major: UInt64, minor: UInt64, inode: UInt64
    }

    /// "pid 4242 (sqlite3)", one per holder joined by "; "; nil when none is found.
    /// - Parameter locks: the text of `/proc/locks` (read when not given).
    static func describe(databasePath: String, locks: String? = nil) -> String? {
        var targets: [(file: FileID, byte: UInt64)] = []
        if let shm = fileID(databasePath + "-shm") { targets.append((shm, walWriteLockByte)) }
        if let database = fileID(databasePath) { targets.append((database, reservedByte)) }
        var pids: [Int] = []
        if let locks {
            pids = holders(in: locks, of: targets)
        } else {
            // `/proc/locks` is a listing the kernel pages out per read: locks taken or freed between
            // two reads can shift it so that a line is skipped. Each snapshot is read whole, and
            // a few are taken before concluding nobody is found.
            for attempt in 0..<3 where pids.isEmpty {
                if attempt > 0 { usleep(20_000) }
                guard let text = procLocks() else { return nil }
                pids = holders(in: text, of: targets)
            }
        }
        guard !pids.isEmpty else { return nil }
        return pids.map { pid in
            let name = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            return name.map { "pid \(pid) (\($0))" } ?? "pid \(pid)"
        }.joined(separator: "; ")
    }

    /// The pids holding a write lock over one of `targets`' bytes, in `/proc/locks`'s text
    /// (`1: POSIX  ADVISORY  WRITE 4242 fd:01:1234567 120 120`; waiters, `1: -> POSIX …`, are not holders).
    static func holders(in text: String, of targets: [(file: FileID, byte: UInt64)]) -> [Int] {
        var pids: [Int] = []
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ")
            // flock(2) locks do not meet SQLite's record locks: only POSIX and OFD ones count.
            guard fields.count >= 8, fields[1] == "POSIX" || fields[1] == "OFDLCK", fields[3] == "WRITE",
                  let pid = Int(fields[4]), pid > 0 else { continue }
            let device = fields[5].split(separator: ":")
            guard device.count == 3, let major = UInt64(device[0], radix: 16), let minor = UInt64(device[1], radix: 16),
                  let inode = UInt64(device[2]), let start = UInt64(fields[6]) else { continue }
            let end = fields[7] == "EOF" ? UInt64.max : (UInt64(fields[7]) ?? 0)
            let file = FileID(major: major, minor: minor, inode: inode)
            if targets.contains(where: { $0.file == file && (start...max(start, end)).contains($0.byte) }), !pids.contains(pid) {
                pids.append(pid)
            }
        }
        return pids
    }

    /// The text of `/proc/locks`, read in reads of 1 MiB (each a consistent page of the kernel's
    /// list, the whole list on any machine this runs on); nil without `/proc`.
    static func procLocks() -> String? {
        let descriptor = open("/proc/locks", O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The device and inode of the file at `path`; nil when it does not exist.
    static func fileID(_ path: String) -> FileID? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let device = UInt64(info.st_dev)
        // glibc's gnu_dev_major / gnu_dev_minor.
        let major = ((device >> 8) & 0xfff) | ((device >> 32) & ~UInt64(0xfff))
        let minor = (device & 0xff) | ((device >> 12) & ~UInt64(0xff))
        return FileID(major: major, minor: minor, inode: UInt64(info.st_ino))
    }
}
