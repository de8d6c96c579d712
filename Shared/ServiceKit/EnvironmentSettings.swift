import Foundation

/// Reads a service's own settings from its environment, refusing a malformed value instead of
/// falling back to the default: a port typed `80a`, a timeout `5s` or a switch `ture` stops the
/// process at start-up with a ``ConfigurationError`` naming the variable, rather than running
/// with a value nobody chose. Unset and empty variables mean "the default" (`nil`).
///
/// ```swift
/// let settings = EnvironmentSettings(environment)
/// if let port = try settings.integer("GATEWAY_HTTP_PORT", in: 0...65_535) { http.port = port }
/// if let secure = try settings.flag("GATEWAY_COOKIE_SECURE") { cookieSecure = secure }
/// ```
public struct EnvironmentSettings: Sendable {
    public let environment: [String: String]

    public init(_ environment: [String: String]) {
        self.environment = environment
    }

    /// The variable's text; nil when unset or empty.
    public func text(_ name: String) -> String? {
        environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The whole number in `name`, which must lie in `range`; nil when unset or empty.
    /// - Throws: ``ConfigurationError`` naming the variable, its value and the range.
    public func integer(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = text(name) else { return nil }
        guard let number = Int(value.trimmingCharacters(in: .whitespaces)), range.contains(number) else {
            throw ConfigurationError("\(name) inválido / invalid: '\(value)' (número inteiro de / whole number from \(range.lowerBound) a / to \(range.upperBound))")
        }
        return number
    }

    /// A switch: `1`, `true`, `yes`, `on` or `0`, `false`, `no`, `off` (any case); nil when unset or empty.
    /// - Throws: ``ConfigurationError`` for anything else.
    public func flag(_ name: String) throws -> Bool? {
        guard let value = text(name) else { return nil }
        switch value.trimmingCharacters(in: .whitespaces).lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default:
            throw ConfigurationError("\(name) inválido / invalid: '\(value)' (1/0, true/false, yes/no, on/off)")
        }
    }
}
