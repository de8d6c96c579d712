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
        // Each program reads its own /proc entry (a shell's would show the mask it sets itself while waiting).
        let descriptors = try ChildProcess.run("/bin/ls", ["/proc/self/fd"]).outputText.split(separator: "\n")
        #expect(descriptors == ["0", "1", "2", "3"], "ls's own directory is 3")
        let mask = try ChildProcess.run("/bin/grep", ["SigBlk", "/proc/self/status"]).outputText
        #expect(mask == "SigBlk:\t0000000000000000\n")
        let reader = try ChildProcess("/bin/cut", ["-d", " ", "-f", "5", "/proc/self/stat"], output: .capture)
        reader.waitUntilExit()
        reader.waitForEndOfCapture()
        #expect(reader.capturedText(.standardOutput) == "\(reader.processIdentifier)\n", "its process group is its own id")
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

    @Test("no Swift source starts a program with Foundation.Process (its run() can crash the test process)")
    func noFoundationProcess() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let pattern = try NSRegularExpression(pattern: #"(?<![\w.])Process\(\)|Foundation\.Process\("#)
        var offenders: [String] = []
        for folder in ["Services", "Shared", "Tests"] {
            let base = root.appendingPathComponent(folder).path
            for case let path as String in FileManager.default.enumerator(atPath: base) ?? NSEnumerator() where path.hasSuffix(".swift") {
                let text = try String(contentsOfFile: "\(base)/\(path)", encoding: .utf8)
                for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                    let line = String(line)
                    if pattern.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil { offenders.append("\(folder)/\(path): \(line)") }
                }
            }
        }
        #expect(offenders == [], "use TestSupport's ChildProcess")
    }
}
