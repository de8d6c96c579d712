import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage

/// What a run left behind, checked against what the services acknowledged.
public struct VerificationReport: Codable, Sendable {
    public var tickets = 0
    public var finished = 0
    public var missingInIntake: [String] = []
    public var wrongStage: [String] = []
    public var outboxPending: [String: Int] = [:]
    public var notificationQueued: Int64 = 0
    public var drainSeconds = 0.0
    public var mailsReceived = 0
    public var uniqueMessageIDs = 0
    /// Messages received more than once with the same Message-ID (the SMTP crash window).
    public var resends = 0
    public var expectedMails = 0
    /// Expected e-mails not received.
    public var lost = 0
    /// Effects received twice under different Message-IDs.
    public var duplicated = 0
    public var badReplyTokens = 0
    /// Open acknowledged → TicketOpened e-mail stored by the sink (intake outbox → notification → SMTP).
    public var mailLagP50Ms = 0.0
    public var mailLagP95Ms = 0.0
    /// Open acknowledged → workflow served the ticket (intake outbox → workflow), from the driver.
    public var workflowLagP50Ms = 0.0
    public var workflowLagP95Ms = 0.0
    public var problems: [String] = []

    public var ok: Bool {
        missingInIntake.isEmpty && wrongStage.isEmpty && outboxPending.values.allSatisfy { $0 == 0 } && notificationQueued == 0
            && lost == 0 && duplicated == 0 && badReplyTokens == 0
    }
}

/// Checks a finished run: every acknowledged ticket exists in intake with the right stage in
/// workflow, outboxes and notification's queue drained, every expected e-mail at the sink once
/// after de-duplicating by Message-ID.
public struct Verifier: Sendable {
    public var callers: Callers
    public var cast: Cast
    /// Service name → database (a `postgres://` URL or a SQLite file path), for the outbox count.
    public var databases: [String: String]
    public var mailDirectory: String
    public var drainTimeout: TimeInterval = 90

    public init(callers: Callers, cast: Cast, databases: [String: String], mailDirectory: String) {
        self.callers = callers
        self.cast = cast
        self.databases = databases
        self.mailDirectory = mailDirectory
    }

    public func verify(_ records: [TicketRecord]) -> VerificationReport {
        var report = VerificationReport()
        report.tickets = records.count
        report.finished = records.filter { $0.step == .finished }.count
        let started = Date()
        drain(&report)
        report.drainSeconds = Date().timeIntervalSince(started)
        checkTickets(records, &report)
        checkMail(records, &report)
        return report
    }

    /// Polls outboxes and notification's queue until all are empty twice in a row, or the timeout.
    private func drain(_ report: inout VerificationReport) {
        let deadline = Date().addingTimeInterval(drainTimeout)
        var opened: [String: any Database] = [:]
        var quietRounds = 0
        let stats = callers.options(Cast.administrator, timeout: 3_000)
        while Date() < deadline {
            var pending: [String: Int] = [:]
            for (service, location) in databases.sorted(by: { $0.key < $1.key }) {
                do {
                    if opened[service] == nil {
                        let configuration = location.hasPrefix("postgres")
                            ? DatabaseConfiguration(url: location, sqlitePath: "", poolSize: 1)
                            : DatabaseConfiguration(sqlitePath: location, poolSize: 1)
                        opened[service] = try openDatabase(configuration, migrations: [])
                    }
                    pending[service] = try opened[service]!.read { try Outbox.pendingCount($0) }
                } catch {
                    opened[service] = nil
                    pending[service] = -1
                }
            }
            var queued: Int64 = -1
            if let answer = try? callers.notification.call(NotificationV1.Notification.getStats, NotificationV1.GetStatsRequest(), options: stats) {
                queued = answer.queued + answer.sending
            }
            report.outboxPending = pending
            report.notificationQueued = queued
            if pending.values.allSatisfy({ $0 == 0 }) && queued == 0 {
                quietRounds += 1
                if quietRounds >= 3 { break }
            } else {
                quietRounds = 0
            }
            usleep(300_000)
        }
        for database in opened.values { database.close() }
    }

    private func checkTickets(_ records: [TicketRecord], _ report: inout VerificationReport) {
        let customer = callers.options(cast.customer, timeout: 5_000)
        let agent = callers.options(cast.agent, timeout: 5_000)
        for record in records {
            var get = IntakeV1.GetTicketRequest()
            get.ticket = record.code
            do {
                let ticket = try retrying(until: Date().addingTimeInterval(20)) {
                    try callers.intake.call(IntakeV1.Intake.getTicket, get, options: customer)
                }
                if ticket.id != record.id { report.missingInIntake.append("\(record.code): id \(ticket.id) != \(record.id)") }
            } catch {
                report.missingInIntake.append("\(record.code): \(error)")
            }
            var view = WorkflowV1.GetTicketRequest()
            view.ticketID = record.id
            do {
                let stage = try retrying(until: Date().addingTimeInterval(20)) {
                    try callers.workflow.call(WorkflowV1.Workflow.getTicket, view, options: agent)
                }.row?.stage ?? ""
                var acceptable = [record.step.expectedStage]
                if record.uncertain, let next = JourneyStep(rawValue: record.step.rawValue + 1) { acceptable.append(next.expectedStage) }
                if !acceptable.contains(stage) {
                    report.wrongStage.append("\(record.code): \(stage), expected \(acceptable.joined(separator: " or "))")
                }
            } catch {
                report.wrongStage.append("\(record.code): \(error)")
            }
        }
    }

    private func checkMail(_ records: [TicketRecord], _ report: inout VerificationReport) {
        let mails = SinkMail.all(in: mailDirectory)
        report.mailsReceived = mails.count
        var byMessageID: [String: SinkMail] = [:]
        for mail in mails { byMessageID[mail.messageID] = byMessageID[mail.messageID] ?? mail }
        report.uniqueMessageIDs = byMessageID.count
        report.resends = mails.count - byMessageID.count
        // Effect = (ticket code, event kind, recipient) → distinct Message-IDs.
        var effects: [String: Set<String>] = [:]
        let token = ReplyToken(secret: callers.deployment.secret)
        let idsByCode = Dictionary(records.map { ($0.code, $0.id) }, uniquingKeysWith: { a, _ in a })
        for mail in byMessageID.values {
            effects["\(mail.ticketCode)|\(mail.eventKind)|\(mail.toAddress)", default: []].insert(mail.messageID)
            if let id = idsByCode[mail.ticketCode], token.ticketID(in: mail.messageID) != id {
                report.badReplyTokens += 1
                if report.problems.count < 20 { report.problems.append("reply token of \(mail.file) does not name \(id)") }
            }
        }
        let openedAt = Dictionary(records.map { ($0.code, $0.openedAtMs) }, uniquingKeysWith: { a, _ in a })
        let mailLags = byMessageID.values.filter { $0.eventKind == "TicketOpened" }.compactMap { mail in
            openedAt[mail.ticketCode].map { Double(mail.receivedAtMs - $0) }
        }
        report.mailLagP50Ms = percentile(mailLags, 0.5)
        report.mailLagP95Ms = percentile(mailLags, 0.95)
        let workflowLags = records.filter { $0.workflowLagMs >= 0 }.map { Double($0.workflowLagMs) }
        report.workflowLagP50Ms = percentile(workflowLags, 0.5)
        report.workflowLagP95Ms = percentile(workflowLags, 0.95)
        for (effect, ids) in effects where ids.count > 1 {
            report.duplicated += ids.count - 1
            if report.problems.count < 20 { report.problems.append("duplicated \(effect): \(ids.sorted())") }
        }
        for record in records {
            // A step not acknowledged may or may not have happened: only acknowledged steps' mails are required.
            let expected = record.step.expectedMails
            for mail in expected {
                report.expectedMails += 1
                let address = (mail.toCustomer ? cast.contactEmail : cast.agentEmail).lowercased()
                if effects["\(record.code)|\(mail.kind)|\(address)"] == nil {
                    report.lost += 1
                    if report.problems.count < 20 { report.problems.append("lost \(mail.kind) of \(record.code) to \(address)") }
                }
            }
        }
    }
}
