import Foundation
import ServiceKit

/// The time zone whose calendar year prefixes ticket codes (`2026-000123`) and starts their
/// numbering again: a ticket opened at 22:00 on 31 December in Brasília is a ticket of that
/// year, not of the next one, as it would be by the UTC year.
///
/// `INTAKE_TICKET_CODE_TIME_ZONE` takes a fixed offset (`-03:00`, the default: Brasília, which
/// has kept no daylight-saving time since 2019) or an IANA name (`America/Manaus`), resolved
/// from the system's time-zone database when the service starts.
public struct TicketCodeTimeZone: Sendable {
    private enum Rule: Sendable {
        case fixed(seconds: Int)
        case named(TimeZone)
    }

    private let rule: Rule
    /// As configured (`-03:00`, `America/Manaus`).
    public let name: String

    /// Brasília time, UTC−3.
    public static let brasilia = TicketCodeTimeZone(rule: .fixed(seconds: -3 * 3600), name: "-03:00")

    private init(rule: Rule, name: String) {
        self.rule = rule
        self.name = name
    }

    /// Parses `±HH:MM` (`Z` and `UTC` for UTC) or an IANA time-zone name.
    /// - Throws: ``ConfigurationError`` when it is neither.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed == "Z" || trimmed == "UTC" {
            self.init(rule: .fixed(seconds: 0), name: trimmed)
            return
        }
        if let sign = trimmed.first, sign == "+" || sign == "-" {
            let parts = trimmed.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].count == 2, parts[1].count == 2,
                  let hours = Int(parts[0]), let minutes = Int(parts[1]), hours <= 14, minutes < 60 else {
                throw ConfigurationError("INTAKE_TICKET_CODE_TIME_ZONE inválido / invalid: '\(text)' (±HH:MM ou um nome IANA como / or an IANA name such as America/Sao_Paulo)")
            }
            let seconds = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
            self.init(rule: .fixed(seconds: seconds), name: trimmed)
            return
        }
        guard !trimmed.isEmpty, let zone = TimeZone(identifier: trimmed) else {
            throw ConfigurationError("INTAKE_TICKET_CODE_TIME_ZONE inválido / invalid: '\(text)' (±HH:MM ou um nome IANA como / or an IANA name such as America/Sao_Paulo)")
        }
        self.init(rule: .named(zone), name: trimmed)
    }

    /// The calendar year, in this time zone, of an epoch-milliseconds instant.
    public func year(ofMilliseconds milliseconds: Int64) -> Int {
        let offset: Int
        switch rule {
        case .fixed(let seconds): offset = seconds
        case .named(let zone): offset = zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
        }
        var seconds = time_t(milliseconds / 1000 + Int64(offset))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return Int(parts.tm_year) + 1900
    }
}
