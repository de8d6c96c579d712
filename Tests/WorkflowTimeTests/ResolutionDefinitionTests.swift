import Foundation
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// What a resolution and a reopening are, computed by hand through `WorkflowTime` (the real SLA
/// clock on the built-in `padrao` calendar: São Paulo, Monday–Friday 08–18; priority 2, 40
/// business hours to resolve):
///
/// - a ticket counts **one** resolution, its last: from the opening to where the resolution
///   clock last stopped (wall time), its running business time (stopped stretches excluded),
///   counted on the day of the finish that recorded it; a reopening withdraws it (rollups, facts,
///   cohort counters) until the ticket finishes again;
/// - **each** reopening counts, on its day: leaving a final stage, or leaving TOTVS Resolvido
///   back to work (the customer rejected the solution).
///
/// The administrator's report (rollups) and the group-filtered one (cohort counters, facts) agree.
@Suite("Workflow time: one resolution per ticket (its last), every reopening counted — TOTVS rejections included")
struct ResolutionDefinitionTests {
    let secret = DeploymentSecret(bytes: Array("workflow-resolution-definition-secret".utf8))
    static let dims = TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico", groupID: "n1")
    static let hour: Int64 = 3_600_000

    func reports(_ database: any Database, _ from: LocalDay, _ to: LocalDay) throws -> [(String, MetricTotals)] {
        try database.read { tx in
            [("rollups", try MetricsQuery.report(tx, from: from, to: to, now: sp("2027-03-10 09:00")).totals),
             ("group n1", try MetricsQuery.report(tx, from: from, to: to, now: sp("2027-03-10 09:00"), filter: MetricsFilter(groupID: "n1")).totals)]
        }
    }

    /// padrão: opened Monday 09:00, finished 10:00 (1 h), reopened Tuesday 09:00, finished again
    /// 11:00. Before 2026-12-02 the rollups counted two overlapping resolutions (1 h and 26 h, the
    /// second counting the first hour again: 13.5 h on average) and the filtered report one
    /// (26 h). Now both: one resolution on Tuesday, 26 h of wall time (Mon 09:00 → Tue 11:00),
    /// 3 business hours (Mon 09–10, Tue 09–11), one reopening, two finishings; Monday keeps
    /// its finishing and no resolution.
    @Test("a ticket finished, reopened and finished again counts one resolution (its last, from the opening) and one reopening",
          arguments: TestEngines.all)
    func finishedReopenedFinishedAgain(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-03-01 09:00")
        defer { withExtendedLifetime(fixture) {} }
        let (clock, time, at) = (fixture.clock, fixture.time, fixture.at)
        try at("2027-03-01 09:00") { tx in
            try time.ticketOpened(tx, ticketID: "R", dimensions: Self.dims, stage: "em_atendimento", at: clock.now)
        }
        try at("2027-03-01 10:00") { tx in _ = try time.stageChanged(tx, ticketID: "R", to: "finalizado", outcome: "resolvida", at: clock.now) }
        let monday = try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 3, 2))
        for (name, t) in monday {
            #expect(t.resolutions == 1 && t.resolutionWallMs == Self.hour && t.resolutionBusinessMs == Self.hour, "\(name): \(t)")
        }
        try at("2027-03-02 09:00") { tx in _ = try time.stageChanged(tx, ticketID: "R", to: "em_atendimento", at: clock.now) }
        for (name, t) in try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)) {
            #expect(t.resolutions == 0 && t.resolutionWallMs == 0 && t.resolutionBusinessMs == 0 && t.resolutionMet == 0,
                    "reopened: not resolved: \(name): \(t)")
            #expect(t.reopened == 1, "\(name): \(t)")
        }
        try at("2027-03-02 11:00") { tx in _ = try time.stageChanged(tx, ticketID: "R", to: "finalizado", outcome: "resolvida", at: clock.now) }

        let fact = try #require(try fixture.database.read { tx in try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = 'R'") })
        #expect(try fact.optionalInt("resolution_wall_ms") == 26 * Self.hour && fact.optionalInt("resolution_business_ms") == 3 * Self.hour)
        #expect(try fact.int("reopens") == 1 && fact.optionalInt("resolved_at") == sp("2027-03-02 11:00"))
        for (name, t) in try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)) {
            #expect(t.resolutions == 1 && t.resolutionMet == 1, "\(name): \(t)")
            #expect(t.averageResolutionWallMs == 26 * Self.hour && t.averageResolutionBusinessMs == 3 * Self.hour, "\(name): \(t)")
            #expect(t.reopened == 1, "\(name): \(t)")
        }
        let rollups = try #require(try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)).first?.1)
        #expect(rollups.finished == 2 && rollups.reopenPercent == 50, "each finishing counts on its day: \(rollups)")
        let (mondayAgain, tuesday) = (try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 3, 2)).first!.1,
                                      try reports(fixture.database, LocalDay(2027, 3, 2), LocalDay(2027, 3, 3)).first!.1)
        #expect(mondayAgain.finished == 1 && mondayAgain.resolutions == 0 && mondayAgain.reopened == 0, "\(mondayAgain)")
        #expect(tuesday.finished == 1 && tuesday.resolutions == 1 && tuesday.reopened == 1, "\(tuesday)")
    }

    /// A finished ticket may be reclassified (to correct the reports). Its resolution stays in the
    /// rollups where it was counted (the category, module and group of its finish: a resolution
    /// is never moved), and a later reopening withdraws it from there. Until 2026-12-02 the
    /// reopening took it from the ticket's new classification: the old category, module and group
    /// kept a resolution for good and the new ones went to −1.
    @Test("a finished ticket reclassified, then reopened, has its resolution withdrawn from where it was counted",
          arguments: TestEngines.all)
    func reclassifiedWhileFinished(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-03-01 09:00")
        defer { withExtendedLifetime(fixture) {} }
        let (clock, time, at) = (fixture.clock, fixture.time, fixture.at)
        try at("2027-03-01 09:00") { tx in
            try time.ticketOpened(tx, ticketID: "C", dimensions: Self.dims, stage: "em_atendimento", at: clock.now)
        }
        try at("2027-03-01 10:00") { tx in _ = try time.stageChanged(tx, ticketID: "C", to: "finalizado", outcome: "resolvida", at: clock.now) }
        var moved = Self.dims
        (moved.category, moved.module, moved.groupID) = (3, "Contabil", "n2")
        try at("2027-03-02 09:00") { tx in try time.reclassified(tx, ticketID: "C", dimensions: moved, at: clock.now) }
        func resolutions(_ by: [(key: String, totals: MetricTotals)]) -> [String: Int64] {
            Dictionary(uniqueKeysWithValues: by.map { ($0.key, $0.totals.resolutions) }.filter { $0.1 != 0 })
        }
        func month() throws -> MetricsReport {
            try fixture.database.read { tx in
                try MetricsQuery.report(tx, from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), now: sp("2027-03-10 09:00"))
            }
        }
        let finished = try month()
        #expect(resolutions(finished.byCategory) == ["1": 1] && resolutions(finished.byModule) == ["Folha": 1]
                && resolutions(finished.byGroup) == ["n1": 1] && finished.totals.resolutions == 1,
                "counted where it finished: \(finished.byCategory) \(finished.byGroup)")
        try at("2027-03-03 09:00") { tx in _ = try time.stageChanged(tx, ticketID: "C", to: "em_atendimento", at: clock.now) }
        let reopened = try month()
        for (name, by) in [("category", reopened.byCategory), ("module", reopened.byModule), ("group", reopened.byGroup)] {
            #expect(resolutions(by).isEmpty && by.allSatisfy { $0.totals.resolutionWallMs == 0 && $0.totals.resolutionMet == 0 },
                    "withdrawn where it was counted, nothing below zero: \(name) \(by)")
        }
        #expect(reopened.totals.resolutions == 0 && reopened.totals.resolutionWallMs == 0 && reopened.totals.reopened == 1)
        let n2 = try fixture.database.read { tx in
            try MetricsQuery.report(tx, from: LocalDay(2027, 3, 1), to: LocalDay(2027, 4, 1), now: sp("2027-03-10 09:00"),
                                    filter: MetricsFilter(groupID: "n2")).totals
        }
        #expect(n2.resolutions == 0 && n2.reopened == 1, "the group-filtered report (current dimensions) agrees: \(n2)")
        // Finished again under the new classification: counted there now.
        try at("2027-03-03 11:00") { tx in _ = try time.stageChanged(tx, ticketID: "C", to: "finalizado", outcome: "resolvida", at: clock.now) }
        let again = try month()
        #expect(resolutions(again.byCategory) == ["3": 1] && resolutions(again.byGroup) == ["n2": 1] && again.totals.resolutions == 1,
                "\(again.byCategory) \(again.byGroup)")
    }

    /// totvs: opened Monday 09:00, solved (Resolvido) 10:00, the customer rejects the solution at
    /// 11:00 (back to Em atendimento), solved again 12:00, accepted Thursday 16:00 (Fechado).
    /// The rejection is a reopening, as leaving Finalizado is in padrão (before 2026-12-02 it
    /// counted none); the one resolution runs from the opening to the last solution: 3 h of wall
    /// time, 2 business hours (09–10, 11–12), counted on Thursday. Moving from Resolvido to a
    /// final stage, or into Resolvido, reopens nothing.
    @Test("totvs: a rejected solution in Resolvido is a reopening; the resolution runs to the last solution", arguments: TestEngines.all)
    func rejectedSolutionIsAReopening(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-03-01 09:00")
        defer { withExtendedLifetime(fixture) {} }
        let (clock, time, at) = (fixture.clock, fixture.time, fixture.at)
        try at("2027-03-01 09:00") { tx in
            try time.ticketOpened(tx, ticketID: "T", dimensions: Self.dims, stage: "em_atendimento", at: clock.now)
        }
        for (when, stage) in [("2027-03-01 10:00", "resolvido"), ("2027-03-01 11:00", "em_atendimento"), ("2027-03-01 12:00", "resolvido")] {
            try at(when) { tx in _ = try time.stageChanged(tx, ticketID: "T", to: stage, at: clock.now) }
        }
        for (name, t) in try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 3, 2)) {
            #expect(t.reopened == 1 && t.finished == 0 && t.resolutions == 0, "\(name): \(t)")
        }
        try at("2027-03-04 16:00") { tx in _ = try time.stageChanged(tx, ticketID: "T", to: "fechado", outcome: "resolvida", at: clock.now) }
        let fact = try #require(try fixture.database.read { tx in try tx.queryOne("SELECT * FROM wf_metric_tickets WHERE ticket_id = 'T'") })
        #expect(try fact.int("reopens") == 1)
        for (name, t) in try reports(fixture.database, LocalDay(2027, 3, 1), LocalDay(2027, 4, 1)) {
            #expect(t.reopened == 1 && t.finished == 1 && t.reopenPercent == 100, "\(name): \(t)")
            #expect(t.resolutions == 1 && t.averageResolutionWallMs == 3 * Self.hour && t.averageResolutionBusinessMs == 2 * Self.hour,
                    "\(name): \(t)")
        }
        let thursday = try #require(try reports(fixture.database, LocalDay(2027, 3, 4), LocalDay(2027, 3, 5)).first?.1)
        #expect(thursday.resolutions == 1 && thursday.finished == 1 && thursday.reopened == 0, "\(thursday)")
    }
}
