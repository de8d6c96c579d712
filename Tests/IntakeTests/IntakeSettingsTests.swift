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
            #expect(throws: ConfigurationError.self, "\(name)=\(value)") { try IntakeSettings(environment: [name: value], dataDirectory: "/d") }
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
}
