import Foundation

/// Runs external programs for the test infrastructure (through ``ChildProcess``, usable from an
/// `atexit` handler), output appended to a log file.
public enum Command {
    /// Runs `executable` with `arguments` to completion, stdout and stderr appended to `log`.
    /// - Throws: ``TestSupportError`` with the end of the log when it does not exit with 0.
    static func run(_ executable: String, _ arguments: [String], log: String) throws {
        let termination = try ChildProcess.run(executable, arguments, output: .file(log, append: true), error: .standardOutput).termination
        guard termination == .exited(0) else {
            let tail = (try? String(contentsOfFile: log, encoding: .utf8)).map { String($0.suffix(2000)) } ?? ""
            throw TestSupportError("\(([executable] + arguments).joined(separator: " ")) failed (\(termination)):\n\(tail)")
        }
    }

    /// Starts `executable` in a new session (so a Ctrl-C or the end of this process does not
    /// reach it), with no standard streams, and does not wait for it: it outlives this process
    /// (whose end makes `init` its parent and reaper).
    static func spawnDetached(_ executable: String, _ arguments: [String]) throws {
        _ = try Spawn.start(executable, arguments, environment: nil, directory: nil, input: .null, output: .null, error: .null,
                            grouping: .ownSession)
    }

    /// Runs `executable` to completion with `input` as its standard input and exactly
    /// `environment`; its standard output is returned, its standard error dropped. The exit
    /// status is the program's exit code, or the signal that ended it.
    public static func capture(_ executable: String, _ arguments: [String], environment: [String: String],
                               input: [UInt8]) throws -> (status: Int32, output: [UInt8]) {
        let completion = try ChildProcess.run(executable, arguments, environment: environment, input: .bytes(input), error: .null)
        return (completion.status, completion.output)
    }

    /// `text` quoted for a POSIX shell.
    static func shellQuoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
