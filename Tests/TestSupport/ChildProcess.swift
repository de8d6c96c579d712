import Foundation

/// A program started by a test, through `posix_spawn`: the one way the tests start programs.
///
/// Not `Foundation.Process`: on Linux, `Process.run()` in Swift 6.3 can crash the whole test
/// process (a 256-byte over-read of `/proc/self/fd` entries,
/// swiftlang/swift-corelibs-foundation#5472), which CI saw.
///
/// Like `Foundation.Process`, the child leads a process group of its own and starts with an
/// empty signal mask and default signal handlers; unlike it, the child inherits no descriptor
/// of the test process but its standard streams (see ``Spawn``). The child is reaped by whoever
/// asks first (``isRunning``, ``waitUntilExit()``, ``terminationStatus``) and at the latest when
/// the object is released, which kills it if it still runs. Children still running when the
/// test process ends are killed with their process groups (``ChildRegistry``).
///
/// A stream set to ``Output/capture`` is read into memory by a thread of its own until end of
/// file (a blocking read: not `FileHandle.readabilityHandler`, whose dispatch source raced its
/// teardown and crashed the test process, swift-corelibs-libdispatch#949), so a chatty child
/// never blocks on a full pipe.
///
/// ```swift
/// let curl = try ChildProcess.run("/usr/bin/curl", ["-s", url], input: .bytes(body))
/// #expect(curl.status == 0, "\(curl.errorText)")
///
/// let sink = try ChildProcess("/usr/bin/python3", [script], output: .capture)
/// guard sink.waitForCaptured(.standardOutput, containing: "ready", timeout: 15) else { ... }
/// sink.terminate()
/// sink.waitUntilExit()
/// ```
public final class ChildProcess: Sendable {
    /// Where the child's standard input comes from.
    public enum Input: Sendable {
        /// `/dev/null`.
        case null
        /// A file, read from the start.
        case file(String)
        /// These bytes, written into a pipe by a thread of its own and then closed.
        case bytes([UInt8])
    }

    /// Where the child's standard output or standard error goes.
    public enum Output: Sendable {
        /// `/dev/null`.
        case null
        /// A file, created if missing, truncated (or appended to when `append` is true).
        case file(String, append: Bool = false)
        /// A pipe read into memory; see ``captured(_:)`` and ``waitForCaptured(_:containing:timeout:)``.
        case capture
        /// Wherever standard output goes (for standard error only: `2>&1`).
        case standardOutput
    }

    /// One of the child's output streams.
    public enum Stream: Sendable {
        case standardOutput, standardError
    }

    /// How the child ended.
    public enum Termination: Equatable, Sendable {
        /// It exited with this code. (-1: it was reaped by someone else, its status unknown.)
        case exited(Int32)
        /// A signal ended it.
        case signaled(Int32)
    }

    /// The child's process id (and process group id).
    public let processIdentifier: pid_t
    private let state: ChildProcessState

    /// Starts `executable` with `arguments`.
    /// - Parameters:
    ///   - executable: an absolute path (no `PATH` search).
    ///   - environment: the child's exact environment; nil passes this process's (see
    ///     ``inheritedEnvironment(adding:)`` to add to it).
    ///   - directory: the child's working directory; nil keeps this process's.
    ///   - input: its standard input (`/dev/null` by default).
    ///   - output: its standard output (`/dev/null` by default).
    ///   - error: its standard error (`/dev/null` by default).
    /// - Throws: ``TestSupportError`` when the program cannot be started.
    public init(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil, directory: String? = nil,
                input: Input = .null, output: Output = .null, error: Output = .null) throws {
        if case .standardOutput = output { throw TestSupportError("standard output cannot go to standard output") }
        var parentEnds: [Int32] = []  // closed in the parent once the child has started
        var readers: [(Int32, Stream)] = []
        var writer: (Int32, [UInt8])?
        func close(all ends: [Int32]) { ends.forEach { _ = Glibc.close($0) } }
        do {
            let stdin: Spawn.Stream
            switch input {
            case .null, .bytes([]): stdin = .null
            case .file(let path): stdin = .file(path, flags: O_RDONLY)
            case .bytes(let bytes):
                let pipe = try Spawn.pipe()
                parentEnds.append(pipe.read)
                writer = (pipe.write, bytes)
                stdin = .descriptor(pipe.read)
            }
            func target(_ output: Output, _ stream: Stream) throws -> Spawn.Stream {
                switch output {
                case .null: return .null
                case .file(let path, let append): return .file(path, flags: O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC))
                case .standardOutput: return .standardOutput
                case .capture:
                    let pipe = try Spawn.pipe()
                    parentEnds.append(pipe.write)
                    readers.append((pipe.read, stream))
                    return .descriptor(pipe.write)
                }
            }
            let stdout = try target(output, .standardOutput)
            let stderr = try target(error, .standardError)
            processIdentifier = try Spawn.start(executable, arguments, environment: environment, directory: directory,
                                                input: stdin, output: stdout, error: stderr, grouping: .ownGroup)
        } catch {
            close(all: parentEnds + readers.map(\.0) + (writer.map { [$0.0] } ?? []))
            throw error
        }
        ChildRegistry.add(processIdentifier)
        close(all: parentEnds)
        state = ChildProcessState(pid: processIdentifier, capturing: readers.map(\.1))
        let name = URL(fileURLWithPath: executable).lastPathComponent
        for (fd, stream) in readers { state.startReading(fd, stream, name: name) }
        if let (fd, bytes) = writer { ChildProcessState.startWriting(bytes, to: fd, name: name) }
    }

    /// Runs `executable` to completion and returns how it ended with what it wrote (both
    /// streams captured unless told otherwise).
    /// - Throws: ``TestSupportError`` when the program cannot be started.
    public static func run(_ executable: String, _ arguments: [String] = [], environment: [String: String]? = nil,
                           directory: String? = nil, input: Input = .null, output: Output = .capture,
                           error: Output = .capture) throws -> Completion {
        let child = try ChildProcess(executable, arguments, environment: environment, directory: directory,
                                     input: input, output: output, error: error)
        let termination = child.waitUntilExit()
        child.waitForEndOfCapture()
        return Completion(termination: termination, output: child.captured(.standardOutput), error: child.captured(.standardError))
    }

    /// What ``run(_:_:environment:directory:input:output:error:)`` returns.
    public struct Completion: Sendable {
        public var termination: Termination
        /// Standard output, when captured.
        public var output: [UInt8]
        /// Standard error, when captured.
        public var error: [UInt8]

        /// The exit code, or the number of the signal that ended the program.
        public var status: Int32 { termination.status }
        public var outputText: String { String(decoding: output, as: UTF8.self) }
        public var errorText: String { String(decoding: error, as: UTF8.self) }
    }

    /// This process's environment with `changes` applied.
    public static func inheritedEnvironment(adding changes: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(changes) { $1 }
    }

    // MARK: Exit

    /// Whether the child has not ended yet (reaps it if it has).
    public var isRunning: Bool { state.termination() == nil }

    /// How the child ended, or nil while it runs.
    public var termination: Termination? { state.termination() }

    /// The exit code, or the number of the signal that ended the child (as
    /// `Foundation.Process.terminationStatus`); nil while it runs.
    public var terminationStatus: Int32? { termination?.status }

    /// Waits until the child has ended and reaps it.
    @discardableResult
    public func waitUntilExit() -> Termination { state.waitUntilExit() }

    /// Waits at most `timeout` seconds for the child to end; nil if it still runs.
    @discardableResult
    public func waitUntilExit(timeout: TimeInterval) -> Termination? {
        let limit = Date().addingTimeInterval(timeout)
        var pause: useconds_t = 1_000
        while true {
            if let ended = state.termination() { return ended }
            if Date() >= limit { return nil }
            usleep(pause)
            pause = min(pause * 2, 20_000)
        }
    }

    // MARK: Signals

    /// Sends `number` to the child unless it has already ended (never to a reused process id).
    /// - Returns: whether the signal was sent.
    @discardableResult
    public func signal(_ number: Int32) -> Bool { state.signal(number) }

    /// Sends SIGTERM.
    public func terminate() { signal(SIGTERM) }

    /// Sends SIGKILL (`kill -9`).
    public func kill() { signal(SIGKILL) }

    // MARK: Captured output

    /// What the child has written to `stream` so far (empty unless the stream is captured).
    public func captured(_ stream: Stream) -> [UInt8] { state.captured(stream) }

    /// ``captured(_:)`` as UTF-8 text.
    public func capturedText(_ stream: Stream) -> String { String(decoding: captured(stream), as: UTF8.self) }

    /// Waits until `stream` contains `text`.
    /// - Returns: false after `timeout` seconds, or as soon as the stream has ended without it.
    public func waitForCaptured(_ stream: Stream, containing text: String, timeout: TimeInterval) -> Bool {
        state.waitForCaptured(stream, containing: Array(text.utf8), until: Date().addingTimeInterval(timeout))
    }

    /// Waits until every captured stream has reached end of file (the child, and whatever it
    /// started that shares the streams, has closed them), at most `timeout` seconds if given.
    /// - Returns: whether they all ended.
    @discardableResult
    public func waitForEndOfCapture(timeout: TimeInterval? = nil) -> Bool {
        state.waitForEndOfCapture(until: timeout.map { Date().addingTimeInterval($0) })
    }

    deinit {
        if state.signal(SIGKILL) { _ = state.waitUntilExit() } else { _ = state.termination() }
    }
}

extension ChildProcess.Termination {
    /// The exit code, or the signal number.
    public var status: Int32 {
        switch self {
        case .exited(let code): code
        case .signaled(let number): number
        }
    }
}
