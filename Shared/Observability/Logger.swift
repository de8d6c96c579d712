#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation

/// A structured logger writing one JSON object per line to standard error.
///
/// Shaped like swift-log: libraries receive a logger instead of building one, and metadata uses
/// dotted keys (`rpc.method`, `ticket.id`, `connection.id`).
///
/// ```swift
/// var logger = Logger(service: "intake", level: .info)
/// logger[metadataKey: "connection.id"] = "17"
/// logger.info("call finished", ["rpc.method": "/ocorrencias.intake.v1.Intake/OpenTicket"])
/// ```
public struct Logger: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical

        public init?(name: String) {
            guard let level = Level.allCases.first(where: { "\($0)" == name.lowercased() }) else { return nil }
            self = level
        }

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// Name of the emitting service, on every line.
    public var service: String
    /// Lines below this level are dropped.
    public var level: Level
    /// Metadata added to every line of this logger.
    public var metadata: [String: String] = [:]
    private let sink: LogSink

    public init(service: String, level: Level = .info, sink: LogSink = .standardError) {
        self.service = service
        self.level = level
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> String? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    @inlinable
    public func isEnabled(_ level: Level) -> Bool { level >= self.level }

    public func log(_ level: Level, _ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) {
        guard isEnabled(level) else { return }
        var fields = metadata
        for (k, v) in extra() { fields[k] = v }
        sink.write(Self.render(service: service, level: level, message: message(), fields: fields))
    }

    public func trace(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.trace, message(), extra()) }
    public func debug(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.debug, message(), extra()) }
    public func info(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.info, message(), extra()) }
    public func notice(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.notice, message(), extra()) }
    public func warning(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.warning, message(), extra()) }
    public func error(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.error, message(), extra()) }
    public func critical(_ message: @autoclosure () -> String, _ extra: @autoclosure () -> [String: String] = [:]) { log(.critical, message(), extra()) }

    /// The keys every line starts with; a field of the same name is written as `field.<name>`,
    /// so a line never holds one key twice (a JSON reader would keep only one of them: a
    /// gateway line about intake's feed read as intake's own).
    static let lineKeys: Set<String> = ["ts", "level", "service", "msg"]

    /// One log line: `ts`, `level`, `service`, `msg`, then the fields in key order.
    public static func render(service: String, level: Level, message: String, fields: [String: String]) -> String {
        var line = "{\"ts\":\"\(timestamp())\",\"level\":\"\(level)\",\"service\":\(JSONText.quote(service)),\"msg\":\(JSONText.quote(message))"
        for key in fields.keys.sorted() {
            let name = lineKeys.contains(key) ? "field.\(key)" : key
            line += ",\(JSONText.quote(name)):\(JSONText.quote(fields[key]!))"
        }
        return line + "}\n"
    }

    private static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var tm = tm()
        var seconds = ts.tv_sec
        gmtime_r(&seconds, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                      tm.tm_hour, tm.tm_min, tm.tm_sec, Int(ts.tv_nsec / 1_000_000))
    }
}

/// Where log lines go: standard error by default, or a closure (tests capture lines this way).
public struct LogSink: Sendable {
    let write: @Sendable (String) -> Void

    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
    }

    /// Writes each line with one `write(2)` so lines from several threads never interleave.
    public static let standardError = LogSink { line in
        var line = line
        line.withUTF8 { bytes in _ = Glibc.write(2, bytes.baseAddress, bytes.count) }
    }

    func write(_ line: String) { write(line) }
}

/// JSON string quoting shared by the logger and hand-built JSON lines.
public enum JSONText {
    public static func quote(_ text: String) -> String {
        // Most texts (ids, names, keys) need no escape: one copy between the quotes, without
        // appending them scalar by scalar.
        if !needsEscape(text) { return "\"" + text + "\"" }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let s where s.value < 0x20:
                out += String(format: "\\u%04x", s.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `strings` as a JSON array of strings (a list passed to SQL as one parameter, read back
    /// with `json_each` / `json_array_elements_text`).
    public static func array(_ strings: [String]) -> String {
        var out = "["
        out.reserveCapacity(strings.reduce(2) { $0 + $1.utf8.count + 3 })
        for (position, string) in strings.enumerated() {
            if position > 0 { out += "," }
            if needsEscape(string) {
                out += quote(string)
            } else {
                out += "\""
                out += string
                out += "\""
            }
        }
        return out + "]"
    }

    /// Whether `text` has a character JSON must escape (a quote, a backslash or a control character).
    private static func needsEscape(_ text: String) -> Bool {
        text.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }
}
