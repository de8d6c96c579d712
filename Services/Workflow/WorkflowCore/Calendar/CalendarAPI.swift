import Foundation
import Messages
import RPC
import RPCTransport
import Storage

extension TimeAPI {
    func registerCalendars(_ router: inout RPCRouter) {
        let api = self
        router.register(WorkflowV1.WorkflowTime.putCalendar) { request, context in
            let caller = try api.configurer(context)
            let calendar = try CalendarMapping.calendar(from: request.calendar ?? WorkflowV1.CalendarSpec())
            let problems = CalendarStore.problems(calendar)
            guard problems.isEmpty else { throw TimeAPI.invalid("calendar", problems) }
            return try api.recomputingAfter(context, request, caller: caller) { tx, now in
                try CalendarStore.save(tx, calendar, at: now)
                var response = WorkflowV1.PutCalendarResponse()
                response.calendar = CalendarMapping.spec(calendar)
                return (response, .all)
            }
        }
        router.register(WorkflowV1.WorkflowTime.getCalendar) { request, context in
            _ = try api.staff(context)
            guard let calendar = try api.database.read({ tx in try CalendarStore.load(tx, id: request.id) }) else {
                throw RPCError(.notFound, "calendário não encontrado / calendar not found")
            }
            var response = WorkflowV1.GetCalendarResponse()
            response.calendar = CalendarMapping.spec(calendar)
            if request.holidaysYear > 0 {
                let year = Int(request.holidaysYear)
                var day = LocalDay(year, 1, 1)
                while day.year == year {
                    if let name = calendar.holiday(on: day) {
                        var date = WorkflowV1.CalendarDate()
                        date.day = day.description
                        date.name = name
                        response.holidays.append(date)
                    }
                    day = day.adding(days: 1)
                }
            }
            return response
        }
        router.register(WorkflowV1.WorkflowTime.deleteCalendar) { request, context in
            _ = try api.configurer(context)
            let id = request.id.isEmpty ? BusinessCalendar.defaultID : request.id
            guard id != BusinessCalendar.defaultID else {
                throw RPCError(.failedPrecondition, "o calendário padrão não é excluído; edite-o / the default calendar is not deleted; edit it",
                               violations: [FieldViolation(field: "id", reason: "default_calendar", pt: "o calendário padrão não é excluído; edite-o",
                                                           en: "the default calendar is not deleted; edit it")])
            }
            var response = WorkflowV1.DeletedResponse()
            // Checked and deleted in one transaction: a policy saved meanwhile cannot start using it.
            response.deleted = try api.database.write { tx in
                let users = try CalendarStore.users(tx, id: id)
                guard users.isEmpty else {
                    let pt = users.map(\.pt), en = users.map(\.en)
                    throw RPCError(.failedPrecondition, "calendário em uso: \(pt.joined(separator: "; ")) / calendar in use: \(en.joined(separator: "; "))",
                                   violations: users.map { FieldViolation(field: "id", reason: "in_use", pt: "em uso: \($0.pt)", en: "in use: \($0.en)") })
                }
                return try CalendarStore.delete(tx, id: id)
            }
            return response
        }
        router.register(WorkflowV1.WorkflowTime.listCalendars) { _, context in
            _ = try api.staff(context)
            return try api.database.read { tx in
                var response = WorkflowV1.ListCalendarsResponse()
                var ids = try CalendarStore.ids(tx)
                if !ids.contains(BusinessCalendar.defaultID) { ids.insert(BusinessCalendar.defaultID, at: 0) }
                response.calendars = try ids.compactMap { try CalendarStore.load(tx, id: $0) }.map(CalendarMapping.spec)
                return response
            }
        }
    }
}

extension TimeAPI {
    /// Refuses a policy naming a calendar that does not exist (`INVALID_ARGUMENT` on `field`):
    /// deadlines would silently follow the default calendar (São Paulo, 08–18) instead. Checked
    /// in the policy's write transaction, as ``CalendarStore/users(_:id:)`` is in a deletion, so a
    /// calendar deleted meanwhile cannot be named. `""` and `padrao` always exist.
    static func requireCalendar(_ tx: any SQLExecutor, id: String, field: String) throws {
        guard try CalendarStore.load(tx, id: id) == nil else { return }
        throw RPCError(.invalidArgument, "calendário desconhecido: \(id) / unknown calendar: \(id)", violations: [
            FieldViolation(field: field, reason: "unknown", pt: "calendário desconhecido: \(id)", en: "unknown calendar: \(id)")])
    }
}

/// Converts calendars between their proto and Swift forms.
enum CalendarMapping {
    static func spec(_ calendar: BusinessCalendar) -> WorkflowV1.CalendarSpec {
        var spec = WorkflowV1.CalendarSpec()
        spec.id = calendar.id
        spec.name = calendar.name
        spec.timeZone = calendar.timeZone.identifier
        spec.nationalHolidays = calendar.nationalHolidays
        for (index, intervals) in calendar.weekly.days.enumerated() where !intervals.isEmpty {
            var hours = WorkflowV1.WeekdayHours()
            hours.weekday = Int32(index)
            hours.intervals = intervals.map {
                var interval = WorkflowV1.MinuteInterval()
                interval.startMinute = Int32($0.start)
                interval.endMinute = Int32($0.end)
                return interval
            }
            spec.weekly.append(hours)
        }
        spec.extraHolidays = calendar.extraHolidays.sorted { $0.key < $1.key }.map { date($0.key, $0.value) }
        spec.workingDays = calendar.workingDays.sorted().map { date($0, "") }
        return spec
    }

    static func calendar(from spec: WorkflowV1.CalendarSpec) throws -> BusinessCalendar {
        guard let zone = TimeZone(identifier: spec.timeZone.isEmpty ? "America/Sao_Paulo" : spec.timeZone) else {
            throw TimeAPI.invalid("calendar.time_zone", ["fuso horário desconhecido / unknown time zone"])
        }
        var days = Array(repeating: [DayInterval](), count: 7)
        for hours in spec.weekly {
            guard (0...6).contains(hours.weekday) else { throw TimeAPI.invalid("calendar.weekly", ["dia da semana 0–6 / weekday 0–6"]) }
            days[Int(hours.weekday)] += hours.intervals.map { DayInterval(start: Int($0.startMinute), end: Int($0.endMinute)) }
        }
        var calendar = BusinessCalendar(id: spec.id, name: spec.name.isEmpty ? spec.id : spec.name, timeZone: zone,
                                        weekly: WeeklyHours(days: days), nationalHolidays: spec.nationalHolidays)
        for date in spec.extraHolidays {
            guard let day = LocalDay(iso: date.day) else { throw TimeAPI.invalid("calendar.extra_holidays", ["data inválida / invalid date \(date.day)"]) }
            calendar.extraHolidays[day] = date.name.isEmpty ? "Feriado" : date.name
        }
        for date in spec.workingDays {
            guard let day = LocalDay(iso: date.day) else { throw TimeAPI.invalid("calendar.working_days", ["data inválida / invalid date \(date.day)"]) }
            calendar.workingDays.insert(day)
        }
        return calendar
    }

    static func date(_ day: LocalDay, _ name: String) -> WorkflowV1.CalendarDate {
        var date = WorkflowV1.CalendarDate()
        date.day = day.description
        date.name = name
        return date
    }
}
