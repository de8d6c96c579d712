import Foundation
import Synchronization

/// The process groups of the ``ChildProcess``es still running, so that none outlives the test
/// process: an `atexit` handler kills them (SIGKILL to each group), and a detached watchdog
/// shell kills the groups listed in a file if the test process dies without running its
/// `atexit` handlers (a crash, SIGKILL).
///
/// A group is listed from the moment its leader starts until it has been reaped; while the
/// leader is unreaped its id cannot be reused, so killing a listed group never hits a stranger.
enum ChildRegistry {
    private struct State {
        var groups: Set<pid_t> = []
        /// The file the watchdog reads: one group id per line. Nil until the first child.
        var file: String?
    }

    private static let state = Mutex(State())

    /// Lists `group` (a child that leads a process group of its own).
    static func add(_ group: pid_t) {
        state.withLock { state in
            if state.file == nil { state.file = install() }
            state.groups.insert(group)
            write(state)
        }
    }

    /// Forgets `group` once its leader has been reaped.
    static func remove(_ group: pid_t) {
        state.withLock { state in
            guard state.groups.remove(group) != nil else { return }
            write(state)
        }
    }

    /// Kills every listed group (installed as an `atexit` handler).
    private static func killAll() {
        state.withLock { state in
            for group in state.groups { kill(-group, SIGKILL) }
            state.groups.removeAll()
            write(state)
        }
    }

    private static func write(_ state: State) {
        guard let file = state.file, !file.isEmpty else { return }
        let text = state.groups.map { "\($0)\n" }.joined()
        try? Data(text.utf8).write(to: URL(fileURLWithPath: file), options: .atomic)
    }

    /// Installs the `atexit` handler and starts the watchdog; returns the watchdog's file (empty
    /// when the watchdog could not start: the `atexit` handler still works).
    private static func install() -> String {
        atexit { ChildRegistry.killAll() }
        guard let directory = try? TemporaryDirectory.create(prefix: "children") else { return "" }
        let file = directory + "/groups"
        let script = """
            while kill -0 \(getpid()) 2>/dev/null; do sleep 0.5; done
            if [ -f \(Command.shellQuoted(file)) ]; then for group in $(cat \(Command.shellQuoted(file))); do kill -9 -$group 2>/dev/null; done; fi
            rm -rf \(Command.shellQuoted(directory))
            """
        guard (try? Command.spawnDetached("/bin/sh", ["-c", script])) != nil else { return "" }
        return file
    }
}
