import Foundation
import Testing
import TestSupport

/// The posix_spawn-based way the tests start programs (TestSupport's `ChildProcess`).
@Suite("Test infrastructure: ChildProcess")
struct ChildProcessTests {
    @Test("standard input in, standard output and error captured, exit code; a megabyte through cat is byte-exact")
    func streamsAndExitCode() throws {
        let shell = try ChildProcess.run("/bin/sh", ["-c", "read line; echo \"out:$line\"; echo err >&2; exit 3"], input: .bytes(Array("olá\n".utf8)))
        #expect(shell.termination == .exited(3))
        #expect(shell.outputText == "out:olá\n")
        #expect(shell.errorText == "err\n")

        let bytes = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let cat = try ChildProcess.run("/bin/cat", input: .bytes(bytes))
        #expect(cat.status == 0)
        #expect(cat.output == bytes)

        let merged = try ChildProcess.run("/bin/sh", ["-c", "echo one; echo two >&2"], error: .standardOutput)
        #expect(merged.outputText == "one\ntwo\n")
    }

    @Test("exact or inherited environment, working directory, files for the streams")
    func environmentDirectoryAndFiles() throws {
        let exact = try ChildProcess.run("/usr/bin/env", environment: ["ONLY": "this"])
        #expect(exact.outputText == "ONLY=this\n")
        let inherited = try ChildProcess.run("/usr/bin/env", environment: ChildProcess.inheritedEnvironment(adding: ["ADDED": "1"]))
        #expect(inherited.outputText.contains("ADDED=1\n") && inherited.outputText.contains("PATH="))

        let directory = try TemporaryDirectory(prefix: "child-process")
        let pwd = try ChildProcess.run("/bin/pwd", directory: directory.path)
        #expect(pwd.outputText == directory.path + "\n")

        let log = directory.file("log")
        _ = try ChildProcess.run("/bin/echo", ["first"], output: .file(log))
        _ = try ChildProcess.run("/bin/sh", ["-c", "echo second; echo third >&2"], output: .file(log, append: true), error: .standardOutput)
        #expect(try String(contentsOfFile: log, encoding: .utf8) == "first\nsecond\nthird\n")
        _ = try ChildProcess.run("/bin/cat", input: .file(log), output: .file(directory.file("copy")))
        #expect(try String(contentsOfFile: directory.file("copy"), encoding: .utf8) == "first\nsecond\nthird\n")
    }

    @Test("the child has only descriptors 0-2, no blocked signal, and a process group of its own")
    func cleanStart() throws {
        let child = try ChildProcess.run("/bin/sh", ["-c", "ls /proc/$$/fd; grep SigBlk /proc/$$/status; cut -d' ' -f5 /proc/$$/stat; echo $$"])
        let lines = child.outputText.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(3)) == ["0", "1", "2"], "\(lines)")
        #expect(lines.dropFirst(3).first == "SigBlk:\t0000000000000000")
        #expect(lines.count == 6 && lines[4] == lines[5], "process group \(lines.dropFirst(4))")
    }

    @Test("terminate and kill end a running child; signals after the end are not sent; waits with a deadline")
    func signals() throws {
        let sleeper = try ChildProcess("/bin/sleep", ["30"])
        #expect(sleeper.isRunning)
        #expect(sleeper.terminationStatus == nil)
        #expect(sleeper.waitUntilExit(timeout: 0.1) == nil)
        sleeper.kill()
        #expect(sleeper.waitUntilExit() == .signaled(SIGKILL))
        #expect(!sleeper.isRunning)
        #expect(sleeper.terminationStatus == SIGKILL)
        #expect(!sleeper.signal(SIGTERM))

        let polite = try ChildProcess("/bin/sleep", ["30"])
        polite.terminate()
        #expect(polite.waitUntilExit(timeout: 10) == .signaled(SIGTERM))
    }

    @Test("waiting for captured text: found, or false as soon as the stream ends without it")
    func waitForText() throws {
        let talker = try ChildProcess("/bin/sh", ["-c", "echo starting; sleep 0.2; echo ready; exec sleep 30"], output: .capture)
        #expect(talker.waitForCaptured(.standardOutput, containing: "ready", timeout: 10))
        talker.kill()
        talker.waitUntilExit()
        #expect(talker.waitForEndOfCapture(timeout: 10))
        #expect(talker.capturedText(.standardOutput) == "starting\nready\n")

        let quitter = try ChildProcess("/bin/sh", ["-c", "echo bye"], output: .capture)
        let start = Date()
        #expect(!quitter.waitForCaptured(.standardOutput, containing: "ready", timeout: 30))
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test("a released child is killed and reaped (no zombie); a missing program is a clear error")
    func releaseAndErrors() throws {
        var pid: pid_t = 0
        do {
            let child = try ChildProcess("/bin/sleep", ["30"])
            pid = child.processIdentifier
        }
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        do {
            let quick = try ChildProcess("/bin/true")
            pid = quick.processIdentifier
            usleep(100_000)
        }
        #expect(!FileManager.default.fileExists(atPath: "/proc/\(pid)"))
        #expect(throws: TestSupportError.self) { try ChildProcess("/nonexistent/program") }
    }
}
