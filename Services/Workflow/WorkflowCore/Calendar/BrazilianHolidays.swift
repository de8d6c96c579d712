/// Brazilian national holidays, shipped with the code (nothing is fetched at run time).
///
/// Fixed dates come from federal law (Leis 662/1949, 6.802/1980, 10.607/2002, 14.759/2023); each row
/// says from which year it applies. Movable ones are computed from Easter Sunday (Gregorian
/// computus), for any year: Carnaval Monday and Tuesday (Easter − 48 and − 47), Sexta-feira Santa
/// (Easter − 2) and Corpus Christi (Easter + 60). Carnaval and Corpus Christi are *pontos
/// facultativos* in federal law but are days off in practice, so they are included; a calendar
/// that works on them lists them in ``BusinessCalendar/workingDays``.
///
/// ```swift
/// BrazilianHolidays.holidays(in: 2027)[LocalDay(2027, 2, 8)]   // "Carnaval (segunda-feira)"
/// ```
public enum BrazilianHolidays {
    /// A fixed-date national holiday.
    public struct Fixed: Sendable {
        public let month: Int
        public let day: Int
        public let name: String
        /// First year it is a holiday.
        public let since: Int
    }

    /// The fixed national holidays (the data table).
    public static let fixed: [Fixed] = [
        Fixed(month: 1, day: 1, name: "Confraternização Universal", since: 1949),
        Fixed(month: 4, day: 21, name: "Tiradentes", since: 1949),
        Fixed(month: 5, day: 1, name: "Dia do Trabalho", since: 1949),
        Fixed(month: 9, day: 7, name: "Independência do Brasil", since: 1949),
        Fixed(month: 10, day: 12, name: "Nossa Senhora Aparecida", since: 1980),
        Fixed(month: 11, day: 2, name: "Finados", since: 1949),
        Fixed(month: 11, day: 15, name: "Proclamação da República", since: 1949),
        Fixed(month: 11, day: 20, name: "Dia Nacional de Zumbi e da Consciência Negra", since: 2024),
        Fixed(month: 12, day: 25, name: "Natal", since: 1949),
    ]

    /// Easter Sunday of `year` (anonymous Gregorian algorithm).
    public static func easter(_ year: Int) -> LocalDay {
        let a = year % 19
        let b = year / 100
        let c = year % 100
        let d = b / 4
        let e = b % 4
        let f = (b + 8) / 25
        let g = (b - f + 1) / 3
        let h = (19 * a + b - d - g + 15) % 30
        let i = c / 4
        let k = c % 4
        let l = (32 + 2 * e + 2 * i - h - k) % 7
        let m = (a + 11 * h + 22 * l) / 451
        let month = (h + l - 7 * m + 114) / 31
        let day = (h + l - 7 * m + 114) % 31 + 1
        return LocalDay(year, month, day)
    }

    /// Every national holiday of `year`, fixed and movable, with its name.
    public static func holidays(in year: Int) -> [LocalDay: String] {
        var result: [LocalDay: String] = [:]
        for holiday in fixed where year >= holiday.since {
            result[LocalDay(year, holiday.month, holiday.day)] = holiday.name
        }
        let easter = easter(year)
        result[easter.adding(days: -48)] = "Carnaval (segunda-feira)"
        result[easter.adding(days: -47)] = "Carnaval (terça-feira)"
        result[easter.adding(days: -2)] = "Sexta-feira Santa"
        result[easter.adding(days: 60)] = "Corpus Christi"
        return result
    }

    /// The holiday's name when `day` is a national holiday.
    public static func name(of day: LocalDay) -> String? {
        if precomputed.indices.contains(day.year - firstPrecomputedYear) {
            return precomputed[day.year - firstPrecomputedYear][day]
        }
        return holidays(in: day.year)[day]
    }

    static let firstPrecomputedYear = 1990
    /// Holidays of 1990–2200, computed once: calendars ask for every day they walk through.
    static let precomputed: [[LocalDay: String]] = (firstPrecomputedYear...2200).map { holidays(in: $0) }
}
