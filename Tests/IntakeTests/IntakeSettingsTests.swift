import Foundation
import IntakeCore
import ServiceKit
import Testing

@Suite("Intake settings")
struct IntakeSettingsTests {
    @Test("group commit is on by default on both engines with a 1 ms gather window; the window and the relay's poll interval come from the environment and bad values are refused")
    func groupCommitAndRelaySettings() throws {
        let defaults = try IntakeSettings(environment: [:], dataDirectory: "/d")
        #expect(defaults.groupCommit == nil && defaults.groupCommitGatherMicroseconds == 1_000 && defaults.relayPollMilliseconds == nil)
        let set = try IntakeSettings(environment: ["INTAKE_GROUP_COMMIT": "false", "INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS": "0",
                                                   "INTAKE_RELAY_POLL_MILLISECONDS": "3600000"], dataDirectory: "/d")
        #expect(set.groupCommit == false && set.groupCommitGatherMicroseconds == 0 && set.relayPollMilliseconds == 3_600_000)
        for (name, value) in [("INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS", "100001"), ("INTAKE_GROUP_COMMIT_GATHER_MICROSECONDS", "-1"),
                              ("INTAKE_RELAY_POLL_MILLISECONDS", "0"), ("INTAKE_RELAY_POLL_MILLISECONDS", "soon")] {
            let error = #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try IntakeSettings(environment: [name: value], dataDirectory: "/d") }
            // Named, with its value, in Portuguese and English.
            #expect(error?.description.hasPrefix("\(name) inválido / invalid: '") == true, "\(error?.description ?? "")")
        }
    }

    @Test("files up to 256 KiB are kept in the database by default; INTAKE_INLINE_CONTENT_BYTES sets the limit (0: every file in the store) and bad values are refused")
    func inlineContentLimit() throws {
        #expect(try IntakeSettings(environment: [:], dataDirectory: "/d").inlineContentMaxBytes == 262_144)
        #expect(try IntakeSettings(environment: ["INTAKE_INLINE_CONTENT_BYTES": "0"], dataDirectory: "/d").inlineContentMaxBytes == 0)
        for value in ["-1", "lots", "16777217"] {
            #expect(throws: ConfigurationError.self, "INTAKE_INLINE_CONTENT_BYTES=\(value)") {
                try IntakeSettings(environment: ["INTAKE_INLINE_CONTENT_BYTES": value], dataDirectory: "/d")
            }
        }
    }

    @Test("files inside an open: 16 and 3 MiB by default, set from the environment, refused above what an RPC frame carries; the double-submission memory's cap")
    func openFilesAndRecentSubmissionsLimits() throws {
        let defaults = try IntakeSettings(environment: [:], dataDirectory: "/d")
        #expect(defaults.openFilesMaxCount == 16 && defaults.openFilesMaxBytes == 3 << 20 && defaults.recentSubmissionsMax == 500_000)
        let set = try IntakeSettings(environment: ["INTAKE_OPEN_FILES_MAX_COUNT": "0", "INTAKE_OPEN_FILES_MAX_BYTES": "3670016",
                                                   "INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX": "10"], dataDirectory: "/d")
        #expect(set.openFilesMaxCount == 0 && set.openFilesMaxBytes == 3_670_016 && set.recentSubmissionsMax == 10)
        for (name, value) in [("INTAKE_OPEN_FILES_MAX_BYTES", "3670017"), ("INTAKE_OPEN_FILES_MAX_COUNT", "1001"),
                              ("INTAKE_OPEN_FILES_MAX_COUNT", "-1"), ("INTAKE_SQLITE_RECENT_SUBMISSIONS_MAX", "0")] {
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try IntakeSettings(environment: [name: value], dataDirectory: "/d") }
        }
    }

    @Test("ticket codes take the year in Brasília by default (a ticket of 22:00 on 31 December is of that year); INTAKE_TICKET_CODE_TIME_ZONE takes ±HH:MM or an IANA name, bad values are refused")
    func ticketCodeTimeZone() throws {
        // 2027-01-01 01:00 UTC is 2026-12-31 22:00 in Brasília.
        let newYearUTC: Int64 = 1_798_761_600_000 + 3_600_000
        let defaults = try IntakeSettings(environment: [:], dataDirectory: "/d")
        #expect(defaults.ticketCodeTimeZone.name == "-03:00")
        #expect(defaults.ticketCodeTimeZone.year(ofMilliseconds: newYearUTC) == 2026)
        #expect(defaults.ticketCodeTimeZone.year(ofMilliseconds: newYearUTC + 2 * 3_600_000) == 2027, "03:00 UTC is midnight in Brasília")
        func year(_ zone: String, _ milliseconds: Int64) throws -> Int {
            try IntakeSettings(environment: ["INTAKE_TICKET_CODE_TIME_ZONE": zone], dataDirectory: "/d").ticketCodeTimeZone.year(ofMilliseconds: milliseconds)
        }
        #expect(try year("UTC", newYearUTC) == 2027)
        #expect(try year("+00:00", newYearUTC - 1) == 2027)
        #expect(try year("+14:00", newYearUTC - 14 * 3_600_000) == 2027, "Kiribati starts the year 14 hours before UTC")
        #expect(try year("-12:00", newYearUTC + 10 * 3_600_000) == 2026)
        if FileManager.default.fileExists(atPath: "/usr/share/zoneinfo/America/Manaus") {
            #expect(try year("America/Manaus", newYearUTC + 2 * 3_600_000) == 2026, "Manaus is UTC−4: 23:00 on 31 December")
            #expect(try year("America/Sao_Paulo", newYearUTC + 2 * 3_600_000) == 2027)
        }
        for value in ["-3", "03:00", "+15:00", "-03:60", "Marte/Olimpo", " "] {
            #expect(throws: ConfigurationError.self, "INTAKE_TICKET_CODE_TIME_ZONE=\(value)") {
                try IntakeSettings(environment: ["INTAKE_TICKET_CODE_TIME_ZONE": value], dataDirectory: "/d")
            }
        }
    }
}
