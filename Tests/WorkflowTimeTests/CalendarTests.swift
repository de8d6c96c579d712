import Foundation
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// Local São Paulo time "yyyy-MM-dd HH:mm" as epoch milliseconds.
func sp(_ text: String, _ calendar: BusinessCalendar = .default) -> Int64 {
    let parts = text.split(separator: " ")
    let day = LocalDay(iso: String(parts[0]))!
    let hm = parts[1].split(separator: ":").map { Int($0)! }
    return calendar.instant(of: day, minute: hm[0] * 60 + hm[1])
}

/// The local "yyyy-MM-dd HH:mm" of an instant.
func local(_ instant: Int64, _ calendar: BusinessCalendar = .default) -> String {
    let day = calendar.localDay(of: instant)
    let minutes = (instant - calendar.instant(of: day, minute: 0)) / 60_000
    return "\(day) " + String(format: "%02d:%02d", minutes / 60, minutes % 60)
}

@Suite struct CalendarTests {
    let calendar = BusinessCalendar.default

    @Test("A day's working intervals are remembered per calendar value; a changed copy computes its own")
    func intervalsFollowChanges() {
        var copy = calendar
        let day = LocalDay(2026, 12, 1)  // a Tuesday
        let original = calendar.workingIntervals(on: day)
        #expect(!original.isEmpty)
        #expect(copy.workingIntervals(on: day).map(\.start) == original.map(\.start))
        copy.extraHolidays[day] = "Feriado da empresa"
        #expect(copy.workingIntervals(on: day).isEmpty)
        #expect(calendar.workingIntervals(on: day).map(\.end) == original.map(\.end))
        copy.extraHolidays = [:]
        copy.weekly.days[day.weekday - 1] = [DayInterval(start: 9 * 60, end: 10 * 60)]
        #expect(copy.workingIntervals(on: day).map { $0.end - $0.start } == [3_600_000])
        copy.timeZone = TimeZone(identifier: "UTC")!
        #expect(copy.workingIntervals(on: day).map(\.start) == [Int64(day.dayNumber) * 86_400_000 + 9 * 3_600_000])
    }

    @Test func easterAndMovableHolidays() {
        #expect(BrazilianHolidays.easter(2024) == LocalDay(2024, 3, 31))
        #expect(BrazilianHolidays.easter(2025) == LocalDay(2025, 4, 20))
        #expect(BrazilianHolidays.easter(2026) == LocalDay(2026, 4, 5))
        #expect(BrazilianHolidays.easter(2027) == LocalDay(2027, 3, 28))
        #expect(BrazilianHolidays.easter(2038) == LocalDay(2038, 4, 25))
        let h2027 = BrazilianHolidays.holidays(in: 2027)
        #expect(h2027[LocalDay(2027, 2, 8)] == "Carnaval (segunda-feira)")
        #expect(h2027[LocalDay(2027, 2, 9)] == "Carnaval (terça-feira)")
        #expect(h2027[LocalDay(2027, 3, 26)] == "Sexta-feira Santa")
        #expect(h2027[LocalDay(2027, 5, 27)] == "Corpus Christi")
        #expect(h2027[LocalDay(2027, 11, 20)] != nil)
        #expect(BrazilianHolidays.holidays(in: 2023)[LocalDay(2023, 11, 20)] == nil)  // national since 2024
        // Far years work too (computed, not a list).
        #expect(BrazilianHolidays.name(of: BrazilianHolidays.easter(2391).adding(days: -2)) == "Sexta-feira Santa")
    }

    @Test func localDayArithmetic() {
        #expect(LocalDay(1970, 1, 1).dayNumber == 0)
        #expect(LocalDay(1970, 1, 1).weekday == 5)
        #expect(LocalDay(2027, 2, 8).weekday == 2)
        #expect(LocalDay(2024, 2, 28).adding(days: 1) == LocalDay(2024, 2, 29))
        #expect(LocalDay(2026, 12, 31).adding(days: 1) == LocalDay(2027, 1, 1))
        #expect(LocalDay(iso: "2027-02-30") == nil)
        #expect(LocalDay(dayNumber: LocalDay(1899, 12, 31).dayNumber) == LocalDay(1899, 12, 31))
    }

    @Test func nightsAndWeekends() {
        // Inside the day.
        #expect(local(calendar.adding(minutes: 60, to: sp("2027-03-03 09:00"))) == "2027-03-03 10:00")
        // Crosses the night.
        #expect(local(calendar.adding(minutes: 120, to: sp("2027-03-03 17:00"))) == "2027-03-04 09:00")
        // Starts at night: counts from 08:00.
        #expect(local(calendar.adding(minutes: 30, to: sp("2027-03-03 22:00"))) == "2027-03-04 08:30")
        // Friday evening → Monday.
        #expect(local(calendar.adding(minutes: 120, to: sp("2027-03-05 17:00"))) == "2027-03-08 09:00")
        // Saturday → Monday.
        #expect(local(calendar.adding(minutes: 10, to: sp("2027-03-06 11:00"))) == "2027-03-08 08:10")
        // Exactly the day's remaining time ends at 18:00, not the next morning.
        #expect(local(calendar.adding(minutes: 60, to: sp("2027-03-03 17:00"))) == "2027-03-03 18:00")
        #expect(calendar.businessMinutes(from: sp("2027-03-05 17:00"), to: sp("2027-03-08 09:00")) == 120)
        #expect(calendar.businessMinutes(from: sp("2027-03-06 00:00"), to: sp("2027-03-07 23:59")) == 0)
        // A whole week is 50 hours.
        #expect(calendar.businessMinutes(from: sp("2027-03-01 00:00"), to: sp("2027-03-08 00:00")) == 50 * 60)
        #expect(calendar.businessMinutes(from: sp("2027-03-08 00:00"), to: sp("2027-03-01 00:00")) == 0)
    }

    @Test func carnaval2027AndOtherHolidays() {
        // Friday before Carnaval, 17:00 + 2 h → Ash Wednesday 09:00 (Mon 8 and Tue 9 are off).
        #expect(local(calendar.adding(minutes: 120, to: sp("2027-02-05 17:00"))) == "2027-02-10 09:00")
        #expect(calendar.businessMinutes(from: sp("2027-02-05 00:00"), to: sp("2027-02-11 00:00")) == 20 * 60)
        // Sexta-feira Santa 2027 (Mar 26): Thursday 17:00 + 2 h → Monday 09:00.
        #expect(local(calendar.adding(minutes: 120, to: sp("2027-03-25 17:00"))) == "2027-03-29 09:00")
        // Corpus Christi 2027 (Thu May 27).
        #expect(local(calendar.adding(minutes: 600, to: sp("2027-05-26 18:00"))) == "2027-05-28 18:00")
        // Tiradentes 2027 is a Wednesday.
        #expect(!calendar.isBusinessDay(LocalDay(2027, 4, 21)))
        #expect(calendar.isBusinessDay(LocalDay(2027, 4, 22)))
    }

    @Test func yearEnd() {
        // Thu Dec 31 2026 17:00 + 2 h: Jan 1 (Fri) is a holiday, then the weekend → Mon Jan 4 09:00.
        #expect(local(calendar.adding(minutes: 120, to: sp("2026-12-31 17:00"))) == "2027-01-04 09:00")
        #expect(calendar.businessMinutes(from: sp("2026-12-31 17:30"), to: sp("2027-01-04 08:30")) == 60)
    }

    @Test func severalIntervalsAndExtraHolidays() {
        var lunch = BusinessCalendar.default
        lunch.weekly = .weekdays([DayInterval(8, to: 12), DayInterval(13, to: 18)])
        lunch.extraHolidays[LocalDay(2027, 1, 25)] = "Aniversário de São Paulo"
        #expect(local(lunch.adding(minutes: 120, to: sp("2027-03-03 11:00"))) == "2027-03-03 14:00")
        #expect(lunch.businessMinutes(from: sp("2027-03-03 11:30"), to: sp("2027-03-03 13:30")) == 60)
        // Friday Jan 22 17:00 + 2 h: Monday Jan 25 is the city's holiday → Tuesday 09:00.
        #expect(local(lunch.adding(minutes: 120, to: sp("2027-01-22 17:00"))) == "2027-01-26 09:00")
        // A national holiday worked anyway.
        lunch.workingDays.insert(LocalDay(2027, 2, 9))
        #expect(lunch.isBusinessDay(LocalDay(2027, 2, 9)))
        #expect(!lunch.isBusinessDay(LocalDay(2027, 2, 8)))
    }

    @Test func intervalsCrossingMidnight() {
        // A night shift: 22:00–24:00 and 00:00–06:00 every day is one continuous span.
        var night = BusinessCalendar.default
        night.nationalHolidays = false
        night.weekly = WeeklyHours(days: Array(repeating: [DayInterval(0, to: 6), DayInterval(22, to: 24)], count: 7))
        #expect(local(night.adding(minutes: 120, to: sp("2027-03-03 23:00"))) == "2027-03-04 01:00")
        #expect(night.businessMinutes(from: sp("2027-03-03 23:00"), to: sp("2027-03-04 01:00")) == 120)
        // New Year's night.
        #expect(local(night.adding(minutes: 180, to: sp("2026-12-31 23:00"))) == "2027-01-01 02:00")
        #expect(night.businessMinutes(from: sp("2026-12-31 12:00"), to: sp("2027-01-01 12:00")) == 8 * 60)
    }

    @Test func daylightSavingFreeAndDaylightSavingZones() {
        // São Paulo has had no DST since 2019: the offset is -03:00 all year.
        let zone = calendar.timeZone
        for month in 1...12 {
            let instant = sp(String(format: "2027-%02d-15 12:00", month))
            #expect(zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant) / 1000)) == -3 * 3600)
        }
        // The same code is right where DST exists: New York springs forward on Sun 2027-03-14.
        let ny = BusinessCalendar(id: "ny", name: "NY", timeZone: TimeZone(identifier: "America/New_York")!, nationalHolidays: false)
        #expect(local(ny.adding(minutes: 120, to: sp("2027-03-12 17:00", ny), ), ny) == "2027-03-15 09:00")
        #expect(ny.businessMinutes(from: sp("2027-03-15 00:00", ny), to: sp("2027-03-16 00:00", ny)) == 600)
        #expect(sp("2027-03-15 08:00", ny) - sp("2027-03-12 08:00", ny) == (3 * 24 - 1) * 3_600_000)
    }

    /// Other zones, read with Foundation rather than the calendar's own arithmetic: Manaus
    /// (UTC−4, no DST) counts its own hours for a ticket opened in São Paulo time; New York's
    /// 23- and 25-hour days count their real length; a business-days countdown that starts on a
    /// DST day keeps the wall time of day.
    @Test func otherZonesAndDaylightSavingDays() throws {
        func wall(_ instant: Int64, _ zone: String) -> String {
            let formatter = DateFormatter()
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            formatter.timeZone = TimeZone(identifier: zone)
            formatter.locale = Locale(identifier: "en_US_POSIX")
            return formatter.string(from: Date(timeIntervalSince1970: Double(instant) / 1000))
        }
        let manaus = BusinessCalendar(id: "am", name: "Manaus", timeZone: TimeZone(identifier: "America/Manaus")!)
        // 18:30 in São Paulo is 17:30 in Manaus: 30 min that day, 30 min the next morning.
        let due = manaus.adding(minutes: 60, to: sp("2027-03-03 18:30"))
        #expect(wall(due, "America/Manaus") == "2027-03-04 08:30" && wall(due, "America/Sao_Paulo") == "2027-03-04 09:30")
        #expect(manaus.businessMinutes(from: sp("2027-03-03 18:30"), to: due) == 60)
        var ny = BusinessCalendar(id: "ny", name: "NY", timeZone: TimeZone(identifier: "America/New_York")!, weekly: .always, nationalHolidays: false)
        #expect(ny.businessMinutes(from: ny.instant(of: LocalDay(2027, 3, 14), minute: 0), to: ny.instant(of: LocalDay(2027, 3, 15), minute: 0)) == 23 * 60)
        #expect(ny.businessMinutes(from: ny.instant(of: LocalDay(2027, 11, 7), minute: 0), to: ny.instant(of: LocalDay(2027, 11, 8), minute: 0)) == 25 * 60)
        // A night shift 22:00–06:00 across the fall-back night is 9 real hours.
        ny.weekly = WeeklyHours(days: Array(repeating: [DayInterval(0, to: 6), DayInterval(22, to: 24)], count: 7))
        #expect(ny.businessMinutes(from: ny.instant(of: LocalDay(2027, 11, 6), minute: 22 * 60), to: ny.instant(of: LocalDay(2027, 11, 7), minute: 6 * 60)) == 9 * 60)
        // Business days from a DST day keep the wall time (10:00 → 10:00), both ways.
        ny.weekly = .always
        let spring = try #require(DateFormatter.wallInstant("2027-03-14 10:00", zone: "America/New_York"))
        #expect(wall(ny.adding(businessDays: 1, to: spring), "America/New_York") == "2027-03-15 10:00")
        let fall = try #require(DateFormatter.wallInstant("2027-11-07 10:00", zone: "America/New_York"))
        #expect(wall(ny.adding(businessDays: 2, to: fall), "America/New_York") == "2027-11-09 10:00")
        // And into a DST day.
        let before = try #require(DateFormatter.wallInstant("2027-03-13 10:00", zone: "America/New_York"))
        #expect(wall(ny.adding(businessDays: 1, to: before), "America/New_York") == "2027-03-14 10:00")
    }

    @Test func addingAndCountingAgree() {
        var generator = SplitMix64(state: 42)
        for _ in 0..<300 {
            let start = sp("2026-12-01 00:00") + Int64(generator.next() % (400 * 86_400)) * 1000
            let minutes = Int64(generator.next() % 20_000)
            let end = calendar.adding(minutes: minutes, to: start)
            #expect(calendar.businessMinutes(from: start, to: end) == minutes)
        }
    }

    @Test func businessDays() {
        // Friday before Carnaval + 2 business days → Thursday (Mon, Tue off; Wed counts).
        #expect(local(calendar.adding(businessDays: 2, to: sp("2027-02-05 10:00"))) == "2027-02-11 10:00")
    }

    @Test(arguments: TestEngines.all)
    func calendarsPersist(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        var porto = BusinessCalendar(id: "rs", name: "Porto Alegre", timeZone: TimeZone(identifier: "America/Sao_Paulo")!,
                                     weekly: .weekdays([DayInterval(8, 30, to: 12), DayInterval(13, 30, to: 18)]))
        porto.extraHolidays[LocalDay(2027, 9, 20)] = "Revolução Farroupilha"
        porto.workingDays.insert(LocalDay(2027, 5, 27))
        try database.write { tx in try CalendarStore.save(tx, porto) }
        let loaded = try database.read { tx in try CalendarStore.load(tx, id: "rs") }
        #expect(loaded == porto)
        #expect(try database.read { tx in try CalendarStore.load(tx, id: "") } == .default)
        #expect(try database.read { tx in try CalendarStore.load(tx, id: "nope") } == nil)
        porto.name = "POA"
        try database.write { tx in try CalendarStore.save(tx, porto) }
        #expect(try database.read { tx in try CalendarStore.load(tx, id: "rs")?.name } == "POA")
    }

    /// What an administrator reads when workflow refuses hours (the portal's *Prazos* page shows
    /// it beside the form): the weekday by name and the interval as typed, in both languages,
    /// split into each violation's two halves.
    @Test func refusedHoursAreNamedAsTyped() {
        var days = WeeklyHours.commercial.days
        days[1] = [DayInterval(8, to: 12), DayInterval(13, to: 12, 30)]
        days[3] = [DayInterval(8, to: 12), DayInterval(11, to: 13)]
        days[6] = [DayInterval(start: 1380, end: 1500)]
        #expect(WeeklyHours(days: days).problems() == [
            "segunda-feira: o intervalo 13:00–12:30 termina antes de começar / Monday: the interval 13:00–12:30 ends before it starts",
            "quarta-feira: os intervalos 08:00–12:00 e 11:00–13:00 se sobrepõem / Wednesday: the intervals 08:00–12:00 and 11:00–13:00 overlap",
            "sábado: o intervalo 23:00–25:00 sai do dia (00:00 a 24:00) / Saturday: the interval 23:00–25:00 is outside the day (00:00 to 24:00)",
        ])
        #expect(WeeklyHours.always.problems().isEmpty && WeeklyHours.clock(1440) == "24:00")
        let error = TimeAPI.invalid("calendar", WeeklyHours(days: days).problems())
        #expect(error.violations.map(\.descriptionPT).first == "segunda-feira: o intervalo 13:00–12:30 termina antes de começar")
        #expect(error.violations.map(\.descriptionEN).last == "Saturday: the interval 23:00–25:00 is outside the day (00:00 to 24:00)")
        #expect(error.message.hasPrefix("segunda-feira: o intervalo 13:00–12:30 termina antes de começar; quarta-feira:"))
        #expect(error.message.contains(" / Monday: the interval 13:00–12:30 ends before it starts; Wednesday:"))
    }
}

extension DateFormatter {
    /// The instant of wall time "yyyy-MM-dd HH:mm" in `zone`, by Foundation.
    static func wallInstant(_ text: String, zone: String) -> Int64? {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        formatter.timeZone = TimeZone(identifier: zone)
        formatter.locale = Locale(identifier: "en_US_POSIX")
        return formatter.date(from: text).map { Int64($0.timeIntervalSince1970 * 1000) }
    }
}
