import Foundation

/// Runs external programs for the test infrastructure with `posix_spawn` (usable from an
/// `atexit` handler, unlike `Foundation.Process`), output appended to a log file.
public enum Command {
    /// Runs `executable` with `arguments` to completion, stdout and stderr appended to `log`.
    /// - Throws: ``TestSupportError`` with the end of the log when it does not exit with 0.
    static func run(_ executable: String, _ arguments: [String], log: String) throws {
        let pid = try spawn(executable, arguments, output: log)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw TestSupportError("waitpid failed: errno \(errno)") }
        }
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw TestSupportError("\(([executable] + arguments).joined(separator: " ")) failed (wait status \(status)):\n\(tail)")
        }
    }

    /// Starts `executable` in a new session (so a Ctrl-C or the end of this process does not
    /// reach it), with no standard streams, and does not wait for it.
    static func spawnDetached(_ executable: String, _ arguments: [String]) throws {
        _ = try spawn("/usr/bin/setsid", [executable] + arguments, output: "/dev/null")
    }

    /// Runs `executable` to completion with `input` as its standard input and exactly
    /// `environment`; its standard output is returned, its standard error dropped. The exit
    /// status is the program's exit code, or the signal that ended it.
    ///
    /// Use this instead of `Foundation.Process` where a test runs a program often: on Linux,
    /// `Process.run()` in Swift 6.3 can crash the whole test process (a 256-byte over-read of
    /// `/proc/self/fd` entries, swiftlang/swift-corelibs-foundation#5472), which CI saw.
    public static func capture(_ executable: String, _ arguments: [String], environment: [String: String],
                               input: [UInt8]) throws -> (status: Int32, output: [UInt8]) {
        let directory = try TemporaryDirectory(prefix: "command")
        let inputPath = directory.path + "/stdin", outputPath = directory.path + "/stdout"
        guard FileManager.default.createFile(atPath: inputPath, contents: Data(input)) else {
            throw TestSupportError("cannot write \(inputPath)")
        }
        closeOnExecEverything()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, inputPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { arguments in
            envp.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, nil, arguments.baseAddress!, $0.baseAddress!) }
        }
        guard rc == 0 else { throw TestSupportError("cannot start \(executable): error \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw TestSupportError("waitpid failed: errno \(errno)") }
        }
        let output = FileManager.default.contents(atPath: outputPath).map { [UInt8]($0) } ?? []
        let exited = (status & 0x7f) == 0
        return (exited ? (status >> 8) & 0xff : status & 0x7f, output)
    }

    private static func spawn(_ executable: String, _ arguments: [String], output: String) throws -> pid_t {
        closeOnExecEverything()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { posix_spawn(&pid, executable, &actions, nil, $0.baseAddress!, environ) }
        guard rc == 0 else { throw TestSupportError("cannot start \(executable): error \(rc)") }
        return pid
    }

    /// Marks every descriptor of this process above stderr close-on-exec, so a program started
    /// here does not keep another test's pipes open. (The PostgreSQL watchdog shell, started
    /// while a test was writing a request body to curl's standard input, held that pipe's write
    /// end for as long as the test process lived: curl never saw the end of its input and the
    /// test waited forever.) The parent's own use of the descriptors is unaffected.
    private static func closeOnExecEverything() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return }
        for name in names {
            guard let fd = Int32(name), fd > 2 else { continue }
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
        }
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound with port 0, then closed).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Int32 in
                guard bind(fd, raw, length) == 0 else { return -1 }
                return getsockname(fd, raw, &length)
            }
        }
        guard bound == 0 else { throw TestSupportError("bind/getsockname failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
