import Foundation
import Storage
import WorkflowCore

/// Times the upgrade of a loaded database to the current schema (`--load-below-migration N`):
/// each pending migration's time (from ``MigrationProgress``), the total and, since what a
/// migration sorts may be held in memory (workflow's SQLite writer keeps temporary files in
/// memory), the process's peak resident memory during the upgrade (`VmHWM`, reset first through
/// `/proc/self/clear_refs`). On PostgreSQL that memory is the server's, bounded by `work_mem`.
enum UpgradeTiming {
    static func run(configuration: DatabaseConfiguration, engine: DatabaseEngine, tickets: Int, from limit: Int) throws {
        let before = residentKiB()
        resetPeak()
        var current: (name: String, started: Date)?
        var times: [(String, TimeInterval)] = []
        let started = Date()
        let upgraded = try openDatabase(configuration, migrations: WorkflowService.migrations) { progress in
            let now = Date()
            if let running = current, case .applying = progress { times.append((running.name, now.timeIntervalSince(running.started))) }
            if let running = current, case .finished = progress { times.append((running.name, now.timeIntervalSince(running.started))) }
            if case .applying(_, _, let migration) = progress { current = (migration, now) }
        }
        let total = Date().timeIntervalSince(started)
        upgraded.close()
        var load = [Double](repeating: 0, count: 3)
        _ = getloadavg(&load, 3)
        for (name, seconds) in times { print("  \(name): \(String(format: "%.2f", seconds)) s") }
        let applied = WorkflowService.migrations.filter { $0.version >= limit }.map { String($0.version) }.joined(separator: ", ")
        print("migrations \(applied) applied to \(tickets) tickets on \(engine.rawValue) in \(String(format: "%.1f", total)) s"
              + "; resident memory \(before / 1024) MiB before, peak \(peakKiB() / 1024) MiB during the upgrade"
              + String(format: "; load average %.1f %.1f %.1f", load[0], load[1], load[2]))
    }

    static func status(_ key: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }) else { return 0 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }

    static func residentKiB() -> Int { status("VmRSS") }
    static func peakKiB() -> Int { status("VmHWM") }

    /// Resets `VmHWM` to the current resident size (Linux ≥ 4.0).
    static func resetPeak() {
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
    }
}
