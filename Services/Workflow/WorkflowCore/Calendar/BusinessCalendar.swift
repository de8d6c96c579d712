import Foundation
import Synchronization

/// A working interval inside one local day, in minutes from local midnight (`end` up to 1440).
public struct DayInterval: Hashable, Sendable, Codable {
    public var start: Int
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// `DayInterval(hours: 8, 0, to: 18, 0)`.
    public init(_ startHour: Int, _ startMinute: Int = 0, to endHour: Int, _ endMinute: Int = 0) {
        self.init(start: startHour * 60 + startMinute, end: endHour * 60 + endMinute)
    }
}

/// The working hours of each weekday: several intervals per day are allowed.
public struct WeeklyHours: Hashable, Sendable, Codable {
    /// Index 0 = Sunday ... 6 = Saturday; each day's intervals sorted and disjoint.
    public var days: [[DayInterval]]

    public init(days: [[DayInterval]]) {
        precondition(days.count == 7, "seven weekdays")
        self.days = days.map { $0.sorted { $0.start < $1.start } }
    }

    /// Monday to Friday, 08:00–18:00 (the default).
    public static let commercial = WeeklyHours.weekdays([DayInterval(8, to: 18)])

    /// The same intervals Monday to Friday, nothing on weekends.
    public static func weekdays(_ intervals: [DayInterval]) -> WeeklyHours {
        WeeklyHours(days: [[], intervals, intervals, intervals, intervals, intervals, []])
    }

    /// Every day, all day.
    public static let always = WeeklyHours(days: Array(repeating: [DayInterval(start: 0, end: 1440)], count: 7))

    /// Problems with these hours, in pt-BR / English; empty when valid. Each names the weekday
    /// and the interval as it is typed ("segunda-feira: o intervalo 13:00–12:30 termina antes de
    /// começar / Monday: the interval 13:00–12:30 ends before it starts").
    public func problems() -> [String] {
        var problems: [String] = []
        for (index, intervals) in days.enumerated() {
            let (pt, en) = Self.weekdayNames[index]
            var previous: DayInterval?
            for interval in intervals {
                let shown = "\(Self.clock(interval.start))–\(Self.clock(interval.end))"
                if interval.start < 0 || interval.end > 1440 {
                    problems.append("\(pt): o intervalo \(shown) sai do dia (00:00 a 24:00) / \(en): the interval \(shown) is outside the day (00:00 to 24:00)")
                } else if interval.start >= interval.end {
                    problems.append("\(pt): o intervalo \(shown) termina antes de começar / \(en): the interval \(shown) ends before it starts")
                }
                if let previous, interval.start < previous.end {
                    let earlier = "\(Self.clock(previous.start))–\(Self.clock(previous.end))"
                    problems.append("\(pt): os intervalos \(earlier) e \(shown) se sobrepõem / \(en): the intervals \(earlier) and \(shown) overlap")
                }
                previous = interval
            }
        }
        if days.allSatisfy(\.isEmpty) {
            problems.append("nenhum horário de trabalho na semana / no working hours in the week")
        }
        return problems
    }

    /// Weekday names (pt-BR, English), index 0 = Sunday, for messages.
    static let weekdayNames = [("domingo", "Sunday"), ("segunda-feira", "Monday"), ("terça-feira", "Tuesday"), ("quarta-feira", "Wednesday"),
                               ("quinta-feira", "Thursday"), ("sexta-feira", "Friday"), ("sábado", "Saturday")]

    /// Minutes from midnight as "HH:MM" (1440 is "24:00"; out-of-range values as they are).
    static func clock(_ minutes: Int) -> String {
        guard minutes >= 0 else { return String(minutes) }
        return String(format: "%02d:%02d", minutes / 60, minutes % 60)
    }
}

/// Business time in one time zone: weekly hours minus holidays.
///
/// All instants are epoch milliseconds. Days are local days of `timeZone`, so a zone with daylight
/// saving time gets its intervals at the right instants on both sides of a change.
///
/// ```swift
/// let calendar = BusinessCalendar.default          // America/Sao_Paulo, Mon–Fri 08–18, national holidays
/// let due = calendar.adding(minutes: 240, to: openedAt)
/// let spent = calendar.businessMinutes(from: openedAt, to: answeredAt)
/// ```
public struct BusinessCalendar: Hashable, Sendable {
    /// Identifier used by SLA policies (`"padrao"` for the default).
    public var id: String
    public var name: String
    public var timeZone: TimeZone { didSet { intervals = WorkingIntervalCache() } }
    public var weekly: WeeklyHours { didSet { intervals = WorkingIntervalCache() } }
    /// Whether Brazilian national holidays (``BrazilianHolidays``) are days off.
    public var nationalHolidays: Bool { didSet { intervals = WorkingIntervalCache() } }
    /// Extra days off of this calendar (state, city or company holidays).
    public var extraHolidays: [LocalDay: String] { didSet { intervals = WorkingIntervalCache() } }
    /// National holidays this calendar works on anyway.
    public var workingDays: Set<LocalDay> { didSet { intervals = WorkingIntervalCache() } }
    /// The days' working intervals computed so far; a changed calendar starts a cache of its own
    /// (copies before the change keep theirs).
    private var intervals = WorkingIntervalCache()

    public init(id: String, name: String, timeZone: TimeZone, weekly: WeeklyHours = .commercial,
                nationalHolidays: Bool = true, extraHolidays: [LocalDay: String] = [:], workingDays: Set<LocalDay> = []) {
        self.id = id
        self.name = name
        self.timeZone = timeZone
        self.weekly = weekly
        self.nationalHolidays = nationalHolidays
        self.extraHolidays = extraHolidays
        self.workingDays = workingDays
    }

    /// The identifier of the built-in calendar.
    public static let defaultID = "padrao"

    /// America/Sao_Paulo, Monday to Friday 08:00–18:00, Brazilian national holidays.
    public static let `default` = BusinessCalendar(
        id: defaultID, name: "Padrão (São Paulo, seg–sex 08–18)",
        timeZone: TimeZone(identifier: "America/Sao_Paulo")!)

    static let dayMillis: Int64 = 86_400_000

    /// The holiday's name when `day` is a day off of this calendar.
    public func holiday(on day: LocalDay) -> String? {
        if let name = extraHolidays[day] { return name }
        if nationalHolidays, !workingDays.contains(day), let name = BrazilianHolidays.name(of: day) { return name }
        return nil
    }

    /// Whether `day` has working hours.
    public func isBusinessDay(_ day: LocalDay) -> Bool {
        !weekly.days[day.weekday - 1].isEmpty && holiday(on: day) == nil
    }

    /// The local day `instant` falls on.
    public func localDay(of instant: Int64) -> LocalDay {
        let offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000))) * 1000
        let local = instant + offset
        return LocalDay(dayNumber: Int(floorDiv(local, Self.dayMillis)))
    }

    /// The instant of `minute` minutes after local midnight of `day` (1440 = next midnight).
    public func instant(of day: LocalDay, minute: Int) -> Int64 {
        instant(of: day, millisOfDay: Int64(minute) * 60_000)
    }

    /// The instant of wall time `millisOfDay` after local midnight of `day`.
    func instant(of day: LocalDay, millisOfDay: Int64) -> Int64 {
        let wall = Int64(day.dayNumber) * Self.dayMillis + millisOfDay
        let guess = wall - offsetMillis(at: wall)
        return wall - offsetMillis(at: guess)
    }

    private func offsetMillis(at instant: Int64) -> Int64 {
        Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000))) * 1000
    }

    /// The working intervals of `day` as instants; empty on weekends and holidays.
    public func workingIntervals(on day: LocalDay) -> [(start: Int64, end: Int64)] {
        if let known = intervals.intervals(of: day.dayNumber) { return known }
        let computed = computeWorkingIntervals(on: day)
        intervals.store(computed, of: day.dayNumber)
        return computed
    }

    /// ``workingIntervals(on:)`` without the cache: four time-zone lookups per interval, and the
    /// holidays (an SLA's due time walks a week or more of days, on every opening).
    private func computeWorkingIntervals(on day: LocalDay) -> [(start: Int64, end: Int64)] {
        guard holiday(on: day) == nil else { return [] }
        return weekly.days[day.weekday - 1].map { (instant(of: day, minute: $0.start), instant(of: day, minute: $0.end)) }
    }

    /// Business milliseconds in `[from, to)`; 0 when `to <= from`.
    public func businessMillis(from: Int64, to: Int64) -> Int64 {
        guard to > from else { return 0 }
        var total: Int64 = 0
        var day = localDay(of: from).adding(days: -1)  // intervals can start on the previous local day near DST
        let lastDay = localDay(of: to)
        while day <= lastDay {
            for interval in workingIntervals(on: day) {
                let start = max(interval.start, from)
                let end = min(interval.end, to)
                if end > start { total += end - start }
            }
            day = day.adding(days: 1)
        }
        return total
    }

    /// Whole business minutes in `[from, to)`.
    public func businessMinutes(from: Int64, to: Int64) -> Int64 {
        businessMillis(from: from, to: to) / 60_000
    }

    /// The instant when `millis` business milliseconds have passed after `from`.
    ///
    /// Adding 0 returns `from`. The result is the end of a working interval rather than the start
    /// of the next one when the time runs out exactly at a closing time.
    /// - Returns: `Int64.max` when no working time exists in the next 20 years (a calendar without hours).
    public func adding(millis: Int64, to from: Int64) -> Int64 {
        guard millis > 0 else { return from }
        var remaining = millis
        var day = localDay(of: from).adding(days: -1)
        let limit = day.adding(days: 366 * 20)
        while day <= limit {
            for interval in workingIntervals(on: day) {
                let start = max(interval.start, from)
                guard interval.end > start else { continue }
                let available = interval.end - start
                if remaining <= available { return start + remaining }
                remaining -= available
            }
            day = day.adding(days: 1)
        }
        return Int64.max
    }

    /// The instant when `minutes` business minutes have passed after `from`.
    public func adding(minutes: Int64, to from: Int64) -> Int64 {
        adding(millis: minutes * 60_000, to: from)
    }

    /// `days` business days after `from`, at the same local time of day: each step skips days
    /// without working hours (weekends, holidays).
    public func adding(businessDays days: Int, to from: Int64) -> Int64 {
        let start = localDay(of: from)
        // The wall time of day (not the time since midnight: a DST day is 23 or 25 hours long).
        let timeOfDay = from + offsetMillis(at: from) - Int64(start.dayNumber) * Self.dayMillis
        var day = start
        var left = days
        var guardDays = 0
        while left > 0 && guardDays < 366 * 20 {
            day = day.adding(days: 1)
            guardDays += 1
            if isBusinessDay(day) { left -= 1 }
        }
        return instant(of: day, millisOfDay: timeOfDay)
    }

    public static func == (lhs: BusinessCalendar, rhs: BusinessCalendar) -> Bool {
        lhs.id == rhs.id && lhs.name == rhs.name && lhs.timeZone.identifier == rhs.timeZone.identifier && lhs.weekly == rhs.weekly
            && lhs.nationalHolidays == rhs.nationalHolidays && lhs.extraHolidays == rhs.extraHolidays && lhs.workingDays == rhs.workingDays
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(timeZone.identifier)
    }
}

@inline(__always)
func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let q = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
}

/// A ``BusinessCalendar``'s working intervals by local day number, shared by the copies of one
/// calendar value (bounded: emptied when it holds 4,096 days).
final class WorkingIntervalCache: Sendable {
    private let days = Mutex<[Int: [(start: Int64, end: Int64)]]>([:])

    func intervals(of day: Int) -> [(start: Int64, end: Int64)]? {
        days.withLock { $0[day] }
    }

    func store(_ intervals: [(start: Int64, end: Int64)], of day: Int) {
        days.withLock { days in
            if days.count >= 4_096 { days.removeAll(keepingCapacity: true) }
            days[day] = intervals
        }
    }
}
