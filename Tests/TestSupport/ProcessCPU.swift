import Foundation

/// CPU seconds (user + system) used so far by a process, for benchmarks that report CPU per
/// operation (much less sensitive to a loaded machine than rates are).
///
/// ```swift
/// let before = ProcessCPU.own(), server0 = ProcessCPU.of(serverPID)
/// // ... the measured work ...
/// print((ProcessCPU.own() - before) / Double(count) * 1e6, "µs CPU per operation")
/// ```
public enum ProcessCPU {
    /// This process, all threads (`getrusage`).
    public static func own() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// Another process on this machine (from `/proc/<pid>/stat`); 0 when it cannot be read.
    public static func of(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based over the whole line).
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
