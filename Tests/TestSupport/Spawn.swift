import CSystem
import Foundation

/// `posix_spawn` as the tests use it: one place that turns a program, its arguments,
/// environment, working directory and standard streams into a running child.
///
/// Every child starts with an empty signal mask and default signal handlers (the test process's
/// threads block SIGTERM and SIGINT, and a child would otherwise inherit that and ignore
/// SIGTERM), and with only descriptors 0–2 open: the file actions close everything else in
/// the child itself, so another test's pipe never leaks into it. (A PostgreSQL watchdog shell
/// once held the write end of curl's standard input for as long as the test process lived:
/// curl never saw the end of its input and the test waited forever.)
enum Spawn {
    /// Where a standard stream of the child is connected.
    enum Stream {
        /// `/dev/null`.
        case null
        /// A file opened with `flags` (`O_RDONLY`, or `O_WRONLY | O_CREAT | ...`).
        case file(String, flags: Int32)
        /// A descriptor of this process (a pipe's end), duplicated onto the stream.
        case descriptor(Int32)
        /// Whatever the child's standard output is (standard error only: `2>&1`).
        case standardOutput
    }

    /// How the child relates to the test process's process group and session.
    enum Grouping {
        /// A process group of its own (like `Foundation.Process`), so its whole group can be
        /// killed at once.
        case ownGroup
        /// A session of its own, so nothing aimed at the test process's terminal or group
        /// reaches it (for watchdogs that must outlive the test process).
        case ownSession
    }

    /// Starts `executable` and returns its process id.
    /// - Parameters:
    ///   - environment: the child's exact environment; nil passes this process's.
    ///   - directory: the child's working directory; nil keeps this process's.
    /// - Throws: ``TestSupportError`` when `posix_spawn` fails (e.g. no such executable).
    static func start(_ executable: String, _ arguments: [String], environment: [String: String]?, directory: String?,
                      input: Stream, output: Stream, error: Stream, grouping: Grouping) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (stream, target) in [(input, Int32(0)), (output, 1), (error, 2)] {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .file(let path, let flags):
                posix_spawn_file_actions_addopen(&actions, target, path, flags, 0o644)
            case .descriptor(let fd):
                posix_spawn_file_actions_adddup2(&actions, fd, target)
            case .standardOutput:
                posix_spawn_file_actions_adddup2(&actions, 1, target)
            }
        }
        if let directory { csystem_spawn_add_chdir(&actions, directory) }
        csystem_spawn_add_closefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var handled = sigset_t()
        sigfillset(&handled)
        sigdelset(&handled, SIGKILL)
        sigdelset(&handled, SIGSTOP)
        posix_spawnattr_setsigdefault(&attributes, &handled)
        var flags = Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        switch grouping {
        case .ownGroup:
            flags |= Int16(POSIX_SPAWN_SETPGROUP)
            posix_spawnattr_setpgroup(&attributes, 0)
        case .ownSession:
            flags |= csystem_spawn_setsid
        }
        posix_spawnattr_setflags(&attributes, flags)

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?]? = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { (argv + (envp ?? [])).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { arguments in
            if let envp {
                return envp.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, &attributes, arguments.baseAddress!, $0.baseAddress!) }
            }
            return posix_spawn(&pid, executable, &actions, &attributes, arguments.baseAddress!, environ)
        }
        guard rc == 0 else {
            throw TestSupportError("cannot start \(executable): \(String(cString: strerror(rc))) (error \(rc))")
        }
        return pid
    }

    /// A pipe whose two ends are close-on-exec in this process (the child gets its end through
    /// `dup2`, which clears the flag on the copy).
    static func pipe() throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [-1, -1]
        guard Glibc.pipe(&ends) == 0 else { throw TestSupportError("pipe failed: errno \(errno)") }
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (ends[0], ends[1])
    }
}
