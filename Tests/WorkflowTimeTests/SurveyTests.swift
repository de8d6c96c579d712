import Foundation
import Synchronization
import Messages
import RPC
import RPCTransport
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

@Suite struct SurveyTests {
    let survey = SurveyService(secret: DeploymentSecret(bytes: Array("a test deployment secret".utf8)), baseURL: "https://s.example/p/")

    func code(_ body: () throws -> Void) -> RPCStatusCode? {
        do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
    }

    @Test func tokensAreSignedAndExpire() {
        let token = survey.token(ticketID: "OC-2027/000123", expiresAt: 5_000)
        #expect(survey.verify(token, now: 4_999) == "OC-2027/000123")
        #expect(survey.verify(token, now: 5_001) == nil)
        // Another secret, a changed expiry or a changed ticket do not verify.
        let other = SurveyService(secret: DeploymentSecret(bytes: Array("another deployment secret".utf8)))
        #expect(other.verify(token, now: 0) == nil)
        let parts = token.split(separator: ".")
        #expect(survey.verify("\(parts[0]).9999999.\(parts[2])", now: 0) == nil)
        let forged = survey.token(ticketID: "OC-2027/000124", expiresAt: 5_000).split(separator: ".")
        #expect(survey.verify("\(forged[0]).\(parts[1]).\(parts[2])", now: 0) == nil)
        #expect(survey.verify("garbage", now: 0) == nil)
    }

    @Test(arguments: TestEngines.all)
    func oneAnswerPerTicketAndResultsPerDimension(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let now: Int64 = 1_800_000_000_000
        var links: [String] = []
        try database.write { tx in
            for (index, agent) in ["ana", "ana", "bruno", "bruno", "bruno"].enumerated() {
                let url = try survey.onFinished(tx, ticketID: "T\(index)", dimensions: SurveyDimensions(
                    agentID: agent, groupID: "n1", product: index < 2 ? "RM" : "Protheus", module: "Folha", category: 1 + Int32(index % 2)), at: now)
                #expect(url.hasPrefix("https://s.example/p/"))
                links.append(String(url.dropFirst("https://s.example/p/".count)))
            }
        }
        let scores: [Int32] = [5, 4, 2, 3, 1]
        for (index, token) in links.enumerated() {
            try database.write { tx in try survey.answer(tx, token: token, score: scores[index], comment: "c\(index)", at: now + 1000) }
        }
        // A second answer is refused; so are bad scores and forged links.
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: links[0], score: 1, comment: "", at: now + 2000) } } == .alreadyExists)
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: links[0], score: 6, comment: "", at: now + 2000) } } == .invalidArgument)
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: links[0] + "0", score: 3, comment: "", at: now + 2000) } } == .permissionDenied)
        let unknown = survey.token(ticketID: "nope", expiresAt: now + 10_000)
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: unknown, score: 3, comment: "", at: now + 2000) } } == .notFound)
        // Finishing again after the answer does not open a new survey.
        #expect(try database.write { tx in try survey.onFinished(tx, ticketID: "T0", dimensions: SurveyDimensions(), at: now + 3000) } == "")
        #expect(try database.read { tx in try survey.answerOf(tx, ticketID: "T0") }?.score == 5)

        let events = try publishedEvents(database, WorkflowV1.SurveyAnswered.self)
        #expect(events.map(\.score) == scores)
        #expect(events.first?.ticket?.ticketID == "T0")

        let byAgent = try database.read { tx in try survey.results(tx, by: .agent, from: now, to: now + 10_000) }
        #expect(byAgent.map(\.key) == ["bruno", "ana"])
        #expect(byAgent[0].answers == 3 && byAgent[0].averageScore == 2.0 && byAgent[0].distribution == [1, 1, 1, 0, 0])
        #expect(byAgent[1].averageScore == 4.5)
        let byProduct = try database.read { tx in try survey.results(tx, by: .product, from: now, to: now + 10_000) }
        #expect(Set(byProduct.map(\.key)) == ["RM", "Protheus"])
        let byCategory = try database.read { tx in try survey.results(tx, by: .category, from: now, to: now + 10_000) }
        #expect(byCategory.map(\.key) == ["1", "2"])
        for grouping in SurveyGrouping.allCases {
            #expect(try database.read { tx in try survey.results(tx, by: grouping, from: now, to: now + 10_000) }.map(\.answers).reduce(0, +) == 5)
        }
        #expect(try database.read { tx in try survey.results(tx, by: .group, from: now + 5000, to: now + 10_000) }.isEmpty)
    }

    /// The survey as a signed-in customer's ticket page asks for it (GetTicketSurvey).
    @Test(arguments: TestEngines.all)
    func ticketSurveyForTheTicketPage(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let now: Int64 = 1_800_000_000_000
        // Not finished: no survey.
        #expect(try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: now) }.available == false)
        let url = try database.write { tx in
            try survey.onFinished(tx, ticketID: "T1", dimensions: SurveyDimensions(agentID: "ana", organizationID: "acme"), at: now)
        }
        // The ticket's customers get the link's token; another company is refused; staff get no token.
        let open = try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: now + 1) }
        #expect(open.available && !open.answered && open.expiresAtMs == now + 30 * 86_400_000)
        #expect(url.hasSuffix(open.token) && survey.verify(open.token, now: now + 1) == "T1")
        #expect(code { _ = try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["other"], at: now + 1) } } == .notFound)
        #expect(try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: nil, at: now + 1) }.token.isEmpty)
        // Expired: no token. Answered: the answer, no token.
        #expect(try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: open.expiresAtMs + 1) }.token.isEmpty)
        try database.write { tx in try survey.answer(tx, token: open.token, score: 4, comment: "Bom", at: now + 10) }
        let answered = try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: now + 20) }
        #expect(answered.answered && answered.score == 4 && answered.comment == "Bom" && answered.answeredAtMs == now + 10 && answered.token.isEmpty)
    }

    /// A reopening closes the unanswered survey: its link (still signed valid) is refused by the
    /// page and the answer alike, until the ticket finishes again; an answered one stays answered.
    @Test(arguments: TestEngines.all)
    func reopeningClosesTheSurveyUntilTheNextFinish(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let now: Int64 = 1_800_000_000_000
        let url = try database.write { tx in
            try survey.onFinished(tx, ticketID: "T1", dimensions: SurveyDimensions(agentID: "ana", organizationID: "acme"), at: now)
        }
        let token = String(url.dropFirst("https://s.example/p/".count))
        try database.write { tx in try survey.onReopened(tx, ticketID: "T1", at: now + 100) }
        let page = code { _ = try database.read { tx in try survey.byToken(tx, token: token, at: now + 200) } }
        #expect(page == .failedPrecondition)
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: token, score: 4, comment: "", at: now + 200) } } == .failedPrecondition)
        #expect(try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: now + 200) }.token.isEmpty)
        // Finished again (by bruno): the first link answers it, for the new finish.
        try database.write { tx in
            _ = try survey.onFinished(tx, ticketID: "T1", dimensions: SurveyDimensions(agentID: "bruno", organizationID: "acme"), at: now + 300)
        }
        #expect(try database.read { tx in try survey.byToken(tx, token: token, at: now + 400) }.answered == false)
        try database.write { tx in _ = try survey.answer(tx, token: token, score: 4, comment: "", at: now + 400) }
        #expect(try database.read { tx in try survey.results(tx, by: .agent, from: now, to: now + 1_000) }.map(\.key) == ["bruno"])
        // A reopening after the answer changes nothing.
        try database.write { tx in try survey.onReopened(tx, ticketID: "T1", at: now + 500) }
        #expect(try database.read { tx in try survey.byToken(tx, token: token, at: now + 600) }.answered)
    }

    /// A cancelled ticket has no survey: one closed by a reopening goes (its earlier link and the
    /// ticket page answer as for a ticket without a survey), an answered one stays with its
    /// results; the link for TicketFinished is the open survey's of that finish only — none once
    /// the survey was answered (before 2026-12 a second finish carried the answered survey's link).
    @Test(arguments: TestEngines.all)
    func cancelledTicketsAndAnsweredSurveysGetNoLink(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let now: Int64 = 1_800_000_000_000
        let dimensions = SurveyDimensions(agentID: "ana", organizationID: "acme")
        // T1: finished, reopened (its survey closed), then cancelled.
        let url = try database.write { tx in try survey.onFinished(tx, ticketID: "T1", dimensions: dimensions, at: now) }
        #expect(try database.read { tx in try survey.openLink(tx, ticketID: "T1", finishedAt: now) } == url)
        let token = String(url.dropFirst("https://s.example/p/".count))
        try database.write { tx in
            try survey.onReopened(tx, ticketID: "T1", at: now + 100)
            try survey.onCancelled(tx, ticketID: "T1")
        }
        #expect(try database.read { tx in try survey.openLink(tx, ticketID: "T1", finishedAt: now + 200) } == "")
        #expect(code { _ = try database.read { tx in try survey.byToken(tx, token: token, at: now + 300) } } == .notFound)
        #expect(code { _ = try database.write { tx in try survey.answer(tx, token: token, score: 2, comment: "", at: now + 300) } } == .notFound)
        #expect(try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T1", organizationIDs: ["acme"], at: now + 300) }.available == false)

        // T2: finished and answered; finished again: no link; cancelled after a reopening: the answer stays.
        let second = try database.write { tx in try survey.onFinished(tx, ticketID: "T2", dimensions: dimensions, at: now) }
        try database.write { tx in _ = try survey.answer(tx, token: String(second.dropFirst("https://s.example/p/".count)), score: 5, comment: "", at: now + 10) }
        try database.write { tx in
            try survey.onReopened(tx, ticketID: "T2", at: now + 20)
            #expect(try survey.onFinished(tx, ticketID: "T2", dimensions: dimensions, at: now + 30) == "")
            #expect(try survey.openLink(tx, ticketID: "T2", finishedAt: now + 30) == "")
            try survey.onReopened(tx, ticketID: "T2", at: now + 40)
            try survey.onCancelled(tx, ticketID: "T2")
        }
        let kept = try database.read { tx in try survey.ticketSurvey(tx, ticketID: "T2", organizationIDs: ["acme"], at: now + 50) }
        #expect(kept.available && kept.answered && kept.score == 5)
        let results = try database.read { tx in try survey.results(tx, by: .agent, from: now, to: now + 1_000) }
        #expect(results.map(\.key) == ["ana"] && results.first?.answers == 1 && results.first?.averageScore == 5)
    }

    /// The same link answered from eight places at once (a double click, two devices): one answer
    /// is stored and published, the others are `ALREADY_EXISTS`; on PostgreSQL the row's
    /// `answered_at IS NULL` condition is evaluated again after the first commit.
    @Test(arguments: TestEngines.all)
    func answeredOnceUnderConcurrency(engine: DatabaseEngine) throws {
        let database = try ScratchDatabase(engine).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let now: Int64 = 1_800_000_000_000
        let url = try database.write { tx in
            try survey.onFinished(tx, ticketID: "T1", dimensions: SurveyDimensions(agentID: "ana", organizationID: "acme"), at: now)
        }
        let token = String(url.dropFirst("https://s.example/p/".count))
        let all = Self.answerAtOnce(database, survey, token: token, at: now + 10, times: 8)
        #expect(all.filter { $0 == nil }.count == 1 && all.filter { $0 == .alreadyExists }.count == 7, "\(all)")
        #expect(try publishedEvents(database, WorkflowV1.SurveyAnswered.self).count == 1)
    }

    /// `token` answered by `times` threads at once: each one's failure code (nil: stored).
    static func answerAtOnce(_ database: any Database, _ survey: SurveyService, token: String, at: Int64, times: Int) -> [RPCStatusCode?] {
        let codes = Mutex<[RPCStatusCode?]>([])
        DispatchQueue.concurrentPerform(iterations: times) { index in
            let code = answerCode(database, survey, token: token, score: Int32(1 + index % 5), at: at)
            codes.withLock { $0.append(code) }
        }
        return codes.withLock { $0 }
    }

    static func answerCode(_ database: any Database, _ survey: SurveyService, token: String, score: Int32, at: Int64) -> RPCStatusCode? {
        do {
            try database.write { tx in _ = try survey.answer(tx, token: token, score: score, comment: "c", at: at) }
            return nil
        } catch let error as RPCError {
            return error.code
        } catch {
            return .unknown
        }
    }
}
