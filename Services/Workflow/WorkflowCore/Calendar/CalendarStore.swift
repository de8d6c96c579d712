import Foundation
import Messages
import Storage

/// Business calendars kept in the workflow database (`wf_calendars`, `wf_calendar_holidays`).
///
/// The built-in ``BusinessCalendar/default`` (id `"padrao"`) is returned until a calendar with that
/// id is saved; saving it replaces it.
///
/// ```swift
/// try database.write { tx in try CalendarStore.save(tx, calendar) }
/// let calendar = try database.read { tx in try CalendarStore.load(tx, id: "rs") } ?? .default
/// ```
public enum CalendarStore {
    static let migrations: [Migration] = [
        Migration(version: 100, name: "time_calendars", sql: """
            CREATE TABLE wf_calendars (
                id TEXT PRIMARY KEY,
                name TEXT NOT NULL,
                time_zone TEXT NOT NULL,
                weekly_hours TEXT NOT NULL,
                national_holidays INTEGER NOT NULL,
                updated_at BIGINT NOT NULL
            );
            CREATE TABLE wf_calendar_days (
                calendar_id TEXT NOT NULL,
                day TEXT NOT NULL,
                -- 'holiday' (extra day off) or 'working' (a national holiday worked anyway)
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                PRIMARY KEY (calendar_id, day)
            );
            """),
    ]

    /// Problems that make `calendar` unusable (pt-BR / English); empty when valid.
    public static func problems(_ calendar: BusinessCalendar) -> [String] {
        var problems = calendar.weekly.problems()
        if calendar.id.isEmpty || calendar.id.count > 64 {
            problems.append("identificador inválido / invalid id")
        }
        return problems
    }

    /// Inserts or replaces `calendar`.
    public static func save(_ tx: any SQLExecutor, _ calendar: BusinessCalendar, at now: Int64 = currentMillis()) throws {
        let weekly = String(decoding: try JSONEncoder().encode(calendar.weekly), as: UTF8.self)
        try tx.execute("DELETE FROM wf_calendars WHERE id = ?", [.text(calendar.id)])
        try tx.execute("DELETE FROM wf_calendar_days WHERE calendar_id = ?", [.text(calendar.id)])
        try tx.execute("""
            INSERT INTO wf_calendars (id, name, time_zone, weekly_hours, national_holidays, updated_at)
            VALUES (?, ?, ?, ?, ?, ?)
            """, [.text(calendar.id), .text(calendar.name), .text(calendar.timeZone.identifier), .text(weekly),
                  .integer(calendar.nationalHolidays ? 1 : 0), .integer(now)])
        for (day, name) in calendar.extraHolidays {
            try tx.execute("INSERT INTO wf_calendar_days (calendar_id, day, kind, name) VALUES (?, ?, 'holiday', ?)",
                           [.text(calendar.id), .text(day.description), .text(name)])
        }
        for day in calendar.workingDays {
            try tx.execute("INSERT INTO wf_calendar_days (calendar_id, day, kind, name) VALUES (?, ?, 'working', '')",
                           [.text(calendar.id), .text(day.description)])
        }
    }

    /// The calendar `id`; the built-in default for `"padrao"` or `""` when none is stored.
    public static func load(_ tx: any SQLExecutor, id: String) throws -> BusinessCalendar? {
        let id = id.isEmpty ? BusinessCalendar.defaultID : id
        guard let row = try tx.queryOne("SELECT * FROM wf_calendars WHERE id = ?", [.text(id)]) else {
            return id == BusinessCalendar.defaultID ? .default : nil
        }
        guard let zone = TimeZone(identifier: try row.text("time_zone")) else {
            throw StorageError(.other, "calendar \(id): unknown time zone")
        }
        let weekly = try JSONDecoder().decode(WeeklyHours.self, from: Data(try row.text("weekly_hours").utf8))
        var calendar = BusinessCalendar(id: id, name: try row.text("name"), timeZone: zone, weekly: weekly,
                                        nationalHolidays: try row.bool("national_holidays"))
        for day in try tx.query("SELECT day, kind, name FROM wf_calendar_days WHERE calendar_id = ?", [.text(id)]) {
            guard let date = LocalDay(iso: try day.text("day")) else { continue }
            if try day.text("kind") == "working" {
                calendar.workingDays.insert(date)
            } else {
                calendar.extraHolidays[date] = try day.text("name")
            }
        }
        return calendar
    }

    /// Deletes the stored calendar `id` and its days; false when there was none. Tickets never
    /// name a calendar themselves (their SLA policy does), so a calendar no policy uses changes
    /// no deadline and needs no recomputation; ``users(_:id:)`` says which policies use one.
    public static func delete(_ tx: any SQLExecutor, id: String) throws -> Bool {
        try tx.execute("DELETE FROM wf_calendar_days WHERE calendar_id = ?", [.text(id)])
        return try tx.execute("DELETE FROM wf_calendars WHERE id = ?", [.text(id)]) > 0
    }

    /// The SLA and inactivity policies that use calendar `id`, described in pt-BR and English
    /// ("política de SLA premium · Urgente", "política de inatividade aguardando-cliente-10d").
    public static func users(_ tx: any SQLExecutor, id: String) throws -> [(pt: String, en: String)] {
        var users: [(pt: String, en: String)] = []
        for row in try tx.query("SELECT plan, priority FROM wf_sla_policies WHERE calendar_id = ? ORDER BY plan, priority", [.text(id)]) {
            let plan = try row.text("plan")
            let priority = CommonV1.Priority(_protoRawValue: Int32(try row.int("priority")))
            let (pt, en) = priority == .unspecified ? ("qualquer prioridade", "any priority") : priority.labels
            users.append(("política de SLA \(plan) · \(pt)", "SLA policy \(plan) · \(en)"))
        }
        for row in try tx.query("SELECT id FROM wf_inactivity_policies WHERE calendar_id = ? ORDER BY id", [.text(id)]) {
            let policy = try row.text("id")
            users.append(("política de inatividade \(policy)", "inactivity policy \(policy)"))
        }
        return users
    }

    /// Every stored calendar id, sorted.
    public static func ids(_ tx: any SQLExecutor) throws -> [String] {
        try tx.query("SELECT id FROM wf_calendars ORDER BY id").map { try $0.text("id") }
    }
}

/// The current wall-clock time in epoch milliseconds.
public func currentMillis() -> Int64 {
    Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
}
