import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// What a survey answer is attributed to, captured when the ticket finishes.
public struct SurveyDimensions: Sendable, Hashable {
    public var agentID = ""
    public var groupID = ""
    public var product = ""
    public var module = ""
    /// `ocorrencias.common.v1.Category` number.
    public var category: Int32 = 0
    public var organizationID = ""

    public init(agentID: String = "", groupID: String = "", product: String = "", module: String = "",
                category: Int32 = 0, organizationID: String = "") {
        self.agentID = agentID
        self.groupID = groupID
        self.product = product
        self.module = module
        self.category = category
        self.organizationID = organizationID
    }
}

/// Dimensions results can be grouped by.
public enum SurveyGrouping: String, Sendable, CaseIterable {
    case agent = "agent_id", group = "group_id", product, module, category, organization = "organization_id"
}

/// One group of survey results.
public struct SurveyResult: Sendable, Hashable {
    public var key: String
    public var answers: Int
    public var averageScore: Double
    /// Answers with score 1...5 (index 0 = score 1).
    public var distribution: [Int]
}

/// The satisfaction survey: a signed link sent when a ticket finishes, one answer per ticket
/// (score 1–5 and a comment), results grouped by agent, group, product, module and category.
///
/// The link's token is `base64url(ticket id).expiry ms.HMAC-SHA256` with the deployment secret
/// (label `ocorrencias-survey-v1`), so it cannot be forged or moved to another ticket, and needs
/// no login.
///
/// ```swift
/// let url = try survey.onFinished(tx, ticketID: id, dimensions: dims, at: now)   // goes in TicketFinished.survey_url
/// try survey.answer(tx, token: token, score: 5, comment: "Ótimo", at: now)      // once; SurveyAnswered event
/// ```
public struct SurveyService: Sendable {
    public var secret: DeploymentSecret
    /// The link prefix; the token is appended (e.g. `https://suporte.example/pesquisa/`).
    public var baseURL: String
    /// How long a link stays valid.
    public var validity: Duration
    public var publisher: EventPublisher
    public var core: any TicketCoreSeam

    static let label = Array("ocorrencias-survey-v1".utf8)

    public init(secret: DeploymentSecret, baseURL: String = "https://suporte.example/pesquisa/",
                validity: Duration = .seconds(30 * 86_400), publisher: EventPublisher = EventPublisher(source: "workflow"),
                core: any TicketCoreSeam = MinimalTicketCore()) {
        self.secret = secret
        self.baseURL = baseURL
        self.validity = validity
        self.publisher = publisher
        self.core = core
    }

    static let migrations: [Migration] = [
        Migration(version: 140, name: "time_survey", sql: """
            CREATE TABLE wf_surveys (
                ticket_id TEXT PRIMARY KEY,
                agent_id TEXT NOT NULL,
                group_id TEXT NOT NULL,
                product TEXT NOT NULL,
                module TEXT NOT NULL,
                category INTEGER NOT NULL,
                organization_id TEXT NOT NULL,
                finished_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL,
                answered_at BIGINT,
                score INTEGER,
                comment TEXT
            );
            CREATE INDEX wf_surveys_answered ON wf_surveys (answered_at);
            """),
    ]

    // MARK: Links

    /// A signed token for `ticketID` valid until `expiresAt`.
    public func token(ticketID: String, expiresAt: Int64) -> String {
        let encoded = Data(ticketID.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        let signed = "\(encoded).\(expiresAt)"
        return signed + "." + Digest.hex(Array(secret.mac(Self.label, Array(signed.utf8)).prefix(16)))
    }

    /// The ticket id a token names, when its signature verifies and it has not expired.
    public func verify(_ token: String, now: Int64) -> String? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiresAt = Int64(parts[1]) else { return nil }
        let signed = "\(parts[0]).\(parts[1])"
        guard Digest.constantTimeEqual(Digest.hex(Array(secret.mac(Self.label, Array(signed.utf8)).prefix(16))), String(parts[2])), now <= expiresAt else { return nil }
        var base64 = parts[0].replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64) else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    /// The link of the survey of a ticket finished at `finishedAt` (the same link
    /// ``onFinished(_:ticketID:dimensions:at:)`` returns; computable without the database).
    public func link(ticketID: String, finishedAt: Int64) -> String {
        baseURL + token(ticketID: ticketID, expiresAt: finishedAt + validity.asMillis)
    }

    // MARK: Lifecycle

    /// The ticket finished: opens (or renews, if not answered yet) its survey.
    /// - Returns: the signed link; empty when the ticket's survey was already answered.
    @discardableResult
    public func onFinished(_ tx: any SQLExecutor, ticketID: String, dimensions d: SurveyDimensions, at now: Int64) throws -> String {
        let expiresAt = now + validity.asMillis
        if let row = try tx.queryOne("SELECT answered_at FROM wf_surveys WHERE ticket_id = ?", [.text(ticketID)]) {
            guard row["answered_at"].isNull else { return "" }
            try tx.execute("""
                UPDATE wf_surveys SET agent_id = ?, group_id = ?, product = ?, module = ?, category = ?, organization_id = ?,
                                      finished_at = ?, expires_at = ? WHERE ticket_id = ?
                """, [.text(d.agentID), .text(d.groupID), .text(d.product), .text(d.module), .integer(Int64(d.category)),
                      .text(d.organizationID), .integer(now), .integer(expiresAt), .text(ticketID)])
        } else {
            try tx.execute("""
                INSERT INTO wf_surveys (ticket_id, agent_id, group_id, product, module, category, organization_id, finished_at, expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, [.text(ticketID), .text(d.agentID), .text(d.groupID), .text(d.product), .text(d.module),
                      .integer(Int64(d.category)), .text(d.organizationID), .integer(now), .integer(expiresAt)])
        }
        return link(ticketID: ticketID, finishedAt: now)
    }

    /// The ticket was cancelled (ended in a cancel stage: by the customer or by the team): there
    /// is nothing to rate, so it has no survey. A survey not answered yet — open since an earlier
    /// finish the ticket left straight for the cancel stage, or closed by a reopening — goes, and
    /// its earlier links then answer as for a ticket without one (`NOT_FOUND`); an answer given
    /// before stays, with its metrics. Before 2026-12 a cancellation opened a survey like any finish.
    public func onCancelled(_ tx: any SQLExecutor, ticketID: String) throws {
        try tx.execute("DELETE FROM wf_surveys WHERE ticket_id = ? AND answered_at IS NULL", [.text(ticketID)])
    }

    /// The link of the survey the finish at `finishedAt` opened, for `TicketFinished.survey_url`
    /// (read after ``onFinished(_:ticketID:dimensions:at:)`` ran): empty when that finish opened
    /// none — the survey was already answered (before 2026-12 a second finish sent the link of an
    /// answered survey again), or the ticket was cancelled (``onCancelled(_:ticketID:)``).
    public func openLink(_ tx: any SQLExecutor, ticketID: String, finishedAt: Int64) throws -> String {
        guard try tx.queryOne("SELECT 1 AS open FROM wf_surveys WHERE ticket_id = ? AND answered_at IS NULL AND finished_at = ?",
                              [.text(ticketID), .integer(finishedAt)]) != nil else { return "" }
        return link(ticketID: ticketID, finishedAt: finishedAt)
    }

    /// The ticket was reopened (a reply written before an inactivity close, a vendor's move out
    /// of a final stage): its survey, if not answered, closes until the ticket finishes again,
    /// when ``onFinished(_:ticketID:dimensions:at:)`` renews it (its earlier links answer it
    /// again then, about the new finish). Before 2026-12 it could be answered while the ticket
    /// was open again, for the first finish's holder, and the second finish got no survey.
    public func onReopened(_ tx: any SQLExecutor, ticketID: String, at now: Int64) throws {
        try tx.execute("UPDATE wf_surveys SET expires_at = ? WHERE ticket_id = ? AND answered_at IS NULL AND expires_at >= ?",
                       [.integer(now - 1), .text(ticketID), .integer(now)])
    }

    /// A link of a survey closed by a reopening (answering it, or the page about it).
    static var reopenedError: RPCError {
        RPCError(.failedPrecondition, "a ocorrência foi reaberta: a pesquisa volta quando ela for encerrada / the ticket was reopened: the survey comes back when it is finished",
                 violations: [FieldViolation(field: "token", reason: "ticket_reopened", pt: "A ocorrência foi reaberta.", en: "The ticket was reopened.")])
    }

    /// Records the answer of the survey `token` names and publishes `SurveyAnswered`.
    /// - Returns: the ticket id.
    /// - Throws: `INVALID_ARGUMENT` (score, comment), `PERMISSION_DENIED` (bad or expired link),
    ///   `NOT_FOUND` (no survey), `ALREADY_EXISTS` (answered before), `FAILED_PRECONDITION`
    ///   (closed: the ticket was reopened and is not finished again).
    @discardableResult
    public func answer(_ tx: any SQLExecutor, token: String, score: Int32, comment: String, at now: Int64) throws -> String {
        guard (1...5).contains(score) else {
            throw RPCError(.invalidArgument, "nota inválida / invalid score", violations: [
                FieldViolation(field: "score", reason: "out_of_range", pt: "A nota vai de 1 a 5.", en: "The score goes from 1 to 5."),
            ])
        }
        if let long = FieldViolation.length(of: comment, "comment", limit: 4000) {
            throw RPCError(.invalidArgument, "comentário longo demais / comment too long", violations: [long])
        }
        guard let ticketID = verify(token, now: now) else {
            throw RPCError(.permissionDenied, "link de pesquisa inválido ou expirado / invalid or expired survey link")
        }
        // A link outlives a reopening (its expiry is signed in it): the row's says whether the
        // survey is open now (``onReopened(_:ticketID:at:)``).
        let updated = try tx.execute("""
            UPDATE wf_surveys SET answered_at = ?, score = ?, comment = ? WHERE ticket_id = ? AND answered_at IS NULL AND expires_at >= ?
            """, [.integer(now), .integer(Int64(score)), .text(comment), .text(ticketID), .integer(now)])
        guard updated == 1 else {
            guard let row = try tx.queryOne("SELECT answered_at FROM wf_surveys WHERE ticket_id = ?", [.text(ticketID)]) else {
                throw RPCError(.notFound, "pesquisa não encontrada / survey not found")
            }
            if row["answered_at"].isNull { throw Self.reopenedError }
            throw RPCError(.alreadyExists, "pesquisa já respondida / survey already answered")
        }
        var event = WorkflowV1.SurveyAnswered()
        var summary = try core.summary(tx, ticketID: ticketID) ?? WorkflowV1.TicketSummary()
        if summary.ticketID.isEmpty { summary.ticketID = ticketID }
        event.ticket = summary
        event.score = score
        event.comment = comment
        event.answeredAtMs = now
        try publisher.publish(tx, event: event, key: ticketID, accessLevel: summary.accessLevel)
        return ticketID
    }

    /// Whether the survey of `ticketID` exists and was answered (score), for display.
    public func answerOf(_ tx: any SQLExecutor, ticketID: String) throws -> (score: Int32, comment: String, answeredAt: Int64)? {
        guard let row = try tx.queryOne("SELECT score, comment, answered_at FROM wf_surveys WHERE ticket_id = ? AND answered_at IS NOT NULL",
                                        [.text(ticketID)]) else { return nil }
        return (Int32(try row.int("score")), row.optionalText("comment") ?? "", try row.int("answered_at"))
    }

    /// What the anonymous survey page shows about the ticket the link names: its code, subject,
    /// when it was finished and whether the survey was answered — nothing else, since whoever
    /// holds the link (a forwarded e-mail) sees it.
    /// - Throws: `PERMISSION_DENIED` (bad or expired link), `NOT_FOUND` (no survey),
    ///   `FAILED_PRECONDITION` (closed: the ticket was reopened and is not finished again).
    public func byToken(_ tx: any SQLExecutor, token: String, at now: Int64) throws -> WorkflowV1.SurveyByToken {
        guard let ticketID = verify(token, now: now) else {
            throw RPCError(.permissionDenied, "link de pesquisa inválido ou expirado / invalid or expired survey link")
        }
        guard let row = try tx.queryOne("SELECT finished_at, expires_at, answered_at FROM wf_surveys WHERE ticket_id = ?",
                                        [.text(ticketID)]) else {
            throw RPCError(.notFound, "pesquisa não encontrada / survey not found")
        }
        // A valid link whose survey closed: the ticket was reopened (``onReopened(_:ticketID:at:)``).
        if row["answered_at"].isNull, try row.int("expires_at") < now { throw Self.reopenedError }
        var about = WorkflowV1.SurveyByToken()
        if let summary = try core.summary(tx, ticketID: ticketID) {
            about.code = summary.code
            about.subject = summary.subject
        }
        about.finishedAtMs = try row.int("finished_at")
        about.expiresAtMs = try row.int("expires_at")
        about.answered = try row.optionalInt("answered_at") != nil
        return about
    }

    /// The survey of `ticketID` for its page. A customer (`organizationIDs` set: their
    /// organization, or a representative's the ones it acts for) must see the ticket's
    /// organization and gets the token while the survey is open; staff (`nil`) see the answer only.
    /// - Throws: `NOT_FOUND` when a customer of another organization asks.
    public func ticketSurvey(_ tx: any SQLExecutor, ticketID: String, organizationIDs: [String]?, at now: Int64) throws -> WorkflowV1.TicketSurvey {
        var survey = WorkflowV1.TicketSurvey()
        survey.ticketID = ticketID
        guard let row = try tx.queryOne("""
            SELECT organization_id, expires_at, answered_at, score, comment FROM wf_surveys WHERE ticket_id = ?
            """, [.text(ticketID)]) else { return survey }
        if let organizationIDs, !organizationIDs.contains(try row.text("organization_id")) {
            throw RPCError(.notFound, "ocorrência não encontrada / ticket not found")
        }
        survey.available = true
        survey.expiresAtMs = try row.int("expires_at")
        if let answeredAt = try row.optionalInt("answered_at") {
            survey.answered = true
            survey.answeredAtMs = answeredAt
            survey.score = Int32(try row.optionalInt("score") ?? 0)
            survey.comment = row.optionalText("comment") ?? ""
        } else if organizationIDs != nil && now <= survey.expiresAtMs {
            survey.token = token(ticketID: ticketID, expiresAt: survey.expiresAtMs)
        }
        return survey
    }

    // MARK: Results

    /// Answers given in `[from, to)`, grouped by `grouping`, most answers first.
    /// - Parameter visibleTo: below administrator, the caller's level and id: only the answers
    ///   of tickets at or below the level or held by them count (``MetricsFilter/visibleTo``,
    ///   from the tickets' metrics facts); nil: every answer.
    public func results(_ tx: any SQLExecutor, by grouping: SurveyGrouping, from: Int64, to: Int64,
                        visibleTo: (level: Int32, agentID: String)? = nil) throws -> [SurveyResult] {
        let column = grouping.rawValue  // from a closed enum, never from input
        var visible = ""
        var params: [SQLValue] = [.integer(from), .integer(to)]
        if let visibleTo {
            // A ticket without its metrics row (recorded at the opening) has no level to hold against them.
            visible = """
                 AND NOT EXISTS (SELECT 1 FROM wf_metric_tickets t WHERE t.ticket_id = wf_surveys.ticket_id
                                 AND t.access_level > ? AND (t.agent_id <> ? OR t.agent_id = ''))
                """
            params += [.integer(Int64(visibleTo.level)), .text(visibleTo.agentID)]
        }
        let rows = try tx.query("""
            SELECT \(column) AS key, COUNT(*) AS answers, AVG(score) AS average,
                   SUM(CASE WHEN score = 1 THEN 1 ELSE 0 END) AS s1, SUM(CASE WHEN score = 2 THEN 1 ELSE 0 END) AS s2,
                   SUM(CASE WHEN score = 3 THEN 1 ELSE 0 END) AS s3, SUM(CASE WHEN score = 4 THEN 1 ELSE 0 END) AS s4,
                   SUM(CASE WHEN score = 5 THEN 1 ELSE 0 END) AS s5
            FROM wf_surveys WHERE answered_at >= ? AND answered_at < ?\(visible)
            GROUP BY \(column) ORDER BY COUNT(*) DESC, \(column)
            """, params)
        return try rows.map { row in
            let key: String
            if case .integer(let number) = row["key"] { key = String(number) } else { key = row.optionalText("key") ?? "" }
            return SurveyResult(key: key, answers: Int(try row.int("answers")), averageScore: try row.double("average"),
                                distribution: try ["s1", "s2", "s3", "s4", "s5"].map { Int(try row.int($0)) })
        }
    }
}
