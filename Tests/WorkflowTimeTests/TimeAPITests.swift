import Foundation
import Messages
import Observability
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// The WorkflowTime RPC service over real TCP, on both engines, driving the facade with a
/// simulated clock.
@Suite struct TimeAPITests {
    let secret = DeploymentSecret(bytes: Array("workflow-time-api-test-secret".utf8))

    func principal(_ kind: AuthV1.Principal.Kind, admin: Bool = false, level: Int32 = 1, id: String = "ana") -> CallOptions {
        var p = AuthV1.Principal()
        p.kind = kind
        p.id = id
        p.administrator = admin
        p.accessLevel = level
        return CallOptions(timeoutMilliseconds: 10_000, metadata: PrincipalSigner(secret: secret).metadata(for: p))
    }

    func code(_ body: () throws -> Void) -> RPCStatusCode? {
        do { try body(); return nil } catch let error as RPCError { return error.code } catch { return .unknown }
    }

    func rpcErrorOf(_ body: () throws -> Void) -> RPCError? {
        do { try body(); return nil } catch { return error as? RPCError }
    }

    @Test(arguments: TestEngines.all)
    func journeyThroughTheAPI(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-02-05 16:00")
        defer { withExtendedLifetime(fixture) {} }
        let database = fixture.database, clock = fixture.clock, time = fixture.time, client = fixture.client
        let admin = principal(.agent, admin: true, level: 9)
        let agent = principal(.agent, level: 1)
        let method = WorkflowV1.WorkflowTime.self

        // Policies: only administrators configure.
        var spec = WorkflowV1.SLAPolicySpec()
        spec.plan = "basico"
        spec.firstResponseMinutes = 120
        spec.nextResponseMinutes = 240
        spec.resolutionMinutes = 960
        var put = WorkflowV1.PutSLAPolicyRequest()
        put.policy = spec
        #expect(code { _ = try client.call(method.putSLAPolicy, put, options: agent) } == .permissionDenied)
        #expect(code { _ = try client.call(method.putSLAPolicy, put, options: CallOptions(timeoutMilliseconds: 5000)) } == .unauthenticated)
        let saved = try client.call(method.putSLAPolicy, put, options: admin)
        #expect(saved.policy?.warningPercent == 80)
        #expect(saved.policy?.pauseStages == ["aguardando_cliente", "pendente", "validacao_cliente"])
        spec.warningPercent = 120
        put.policy = spec
        #expect(code { _ = try client.call(method.putSLAPolicy, put, options: admin) } == .invalidArgument)
        #expect(try client.call(method.listSLAPolicies, WorkflowV1.ListSLAPoliciesRequest(), options: agent).policies.count == 1)

        // Calendars.
        var calendar = WorkflowV1.CalendarSpec()
        calendar.id = "sp-capital"
        calendar.timeZone = "America/Sao_Paulo"
        calendar.nationalHolidays = true
        var hours = WorkflowV1.WeekdayHours()
        hours.weekday = 1
        var interval = WorkflowV1.MinuteInterval()
        interval.startMinute = 600
        interval.endMinute = 480
        hours.intervals = [interval]
        calendar.weekly = [hours]
        var putCalendar = WorkflowV1.PutCalendarRequest()
        putCalendar.calendar = calendar
        #expect(code { _ = try client.call(method.putCalendar, putCalendar, options: admin) } == .invalidArgument)
        interval.startMinute = 480
        interval.endMinute = 1080
        hours.intervals = [interval]
        calendar.weekly = (1...5).map { var h = hours; h.weekday = Int32($0); return h }
        calendar.extraHolidays = [CalendarMapping.date(LocalDay(2027, 1, 25), "Aniversário de São Paulo")]
        putCalendar.calendar = calendar
        _ = try client.call(method.putCalendar, putCalendar, options: admin)
        var getCalendar = WorkflowV1.GetCalendarRequest()
        getCalendar.id = "sp-capital"
        getCalendar.holidaysYear = 2027
        let fetched = try client.call(method.getCalendar, getCalendar, options: agent)
        #expect(fetched.calendar?.weekly.count == 5)
        #expect(fetched.holidays.map(\.day).contains("2027-02-08"))
        #expect(fetched.holidays.map(\.day).contains("2027-01-25"))
        #expect(try client.call(method.listCalendars, WorkflowV1.ListCalendarsRequest(), options: agent).calendars.map(\.id) == ["padrao", "sp-capital"])

        // A ticket's life, reported by the core through the facade.
        let dims = TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico",
                                    groupID: "n1", agentID: "ana", accessLevel: 1)
        let secretDims = TicketDimensions(organizationID: "acme", category: 1, product: "RM", module: "Folha", priority: 2, plan: "basico",
                                          groupID: "n1", agentID: "bia", accessLevel: 5)
        try database.write { tx in
            try time.ticketOpened(tx, ticketID: "T1", dimensions: dims, stage: "aguardando_atendimento", at: clock.now)
            try time.ticketOpened(tx, ticketID: "T2", dimensions: secretDims, stage: "aguardando_atendimento", at: clock.now)
        }
        clock.set(sp("2027-02-10 08:30"))  // after Carnaval: 2 h 30 business
        try database.write { tx in
            try time.stageChanged(tx, ticketID: "T1", to: "em_atendimento", at: clock.now)
            try time.agentResponded(tx, ticketID: "T1", at: clock.now)
        }
        var getSLA = WorkflowV1.GetTicketSLARequest()
        getSLA.ticketID = "T1"
        let sla = try client.call(method.getTicketSLA, getSLA, options: agent)
        let first = try #require(sla.targets.first { $0.target == .firstResponse })
        #expect(first.status == "breached")
        #expect(first.elapsedMs == 150 * 60_000)
        #expect(local(first.dueAtMs) == "2027-02-05 18:00")
        getSLA.ticketID = "T2"
        #expect(code { _ = try client.call(method.getTicketSLA, getSLA, options: agent) } == .notFound)  // above the agent's level
        #expect(try client.call(method.getTicketSLA, getSLA, options: admin).targets.count == 3)

        clock.set(sp("2027-02-10 11:00"))
        let link = try database.write { tx in try time.stageChanged(tx, ticketID: "T1", to: "finalizado", at: clock.now) }
        #expect(link == time.surveyLink(ticketID: "T1", finishedAt: clock.now))
        var answer = WorkflowV1.AnswerSurveyRequest()
        answer.token = TimeAPIFixture.surveyToken(link)
        answer.score = 5
        answer.comment = "Resolvido, obrigado"
        #expect(try client.call(method.answerSurvey, answer, options: CallOptions(timeoutMilliseconds: 5000)).ticketID == "T1")
        #expect(code { _ = try client.call(method.answerSurvey, answer) } == .alreadyExists)
        var results = WorkflowV1.SurveyResultsRequest()
        results.groupBy = "agent"
        #expect(try client.call(method.getSurveyResults, results, options: agent).rows.map(\.key) == ["ana"])
        // An unknown grouping names the field, with an English text that is English.
        results.groupBy = "agente"
        let grouping = try #require(rpcErrorOf { _ = try client.call(method.getSurveyResults, results, options: agent) })
        #expect(grouping.violations.map(\.field) == ["group_by"] && grouping.violations.first?.descriptionEN.hasSuffix("category or organization") == true,
                "\(grouping.violations)")

        var metrics = WorkflowV1.GetMetricsRequest()
        metrics.fromDay = "2027-02-01"
        metrics.toDay = "2027-03-01"
        // The agent (level 1) counts T1 only: T2 (level 5, held by bia) is neither counted nor in
        // the backlog (it used to be, from the rollups: the leak MetricsLevelTests pins); the
        // administrator counts both.
        let report = try client.call(method.getMetrics, metrics, options: agent)
        #expect(report.totals?.opened == 1)
        #expect(report.totals?.finished == 1)
        #expect(report.totals?.firstResponses == 1)
        #expect(report.totals?.avgFirstResponseBusinessMs == Int64(150 * 60_000))
        #expect(report.totals?.slaMetPercent == 50)  // first response late, resolution (16 h) in time
        #expect(report.totals?.avgSurveyScore == 5)
        #expect(report.backlog.isEmpty)
        let adminReport = try client.call(method.getMetrics, metrics, options: admin)
        #expect(adminReport.totals?.opened == 2 && adminReport.totals?.finished == 1 && adminReport.totals?.slaMetPercent == 50)
        #expect(adminReport.backlog.map(\.stage) == ["aguardando_atendimento"])

        // CSV export, streamed: the agent sees T1 only; the administrator both.
        var export = WorkflowV1.ExportMetricsRequest()
        export.fromMs = 0
        export.pageSize = 1
        func csv(_ options: CallOptions) throws -> String {
            let stream = try client.serverStream(method.exportMetrics, export, options: options)
            var text = ""
            while let chunk = try stream.receive() { text += chunk.text }
            return text
        }
        let agentCSV = try csv(agent).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(agentCSV.count == 2 && agentCSV[0].hasPrefix("ticket_id,") && agentCSV[1].hasPrefix("T1,"))
        #expect(try csv(admin).components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 3)
        let reportStream = try client.serverStream(method.exportMetricsReport, metrics, options: agent)
        var reportCSV = ""
        while let chunk = try reportStream.receive() { reportCSV += chunk.text }
        #expect(reportCSV.hasPrefix("section,key,opened,"))
        #expect(reportCSV.contains("\r\ntotal,,1,1,0,1,"))
        #expect(reportCSV.contains("\r\nproduct,RM,1,"))
        #expect(!reportCSV.contains("\r\nbacklog,"))

        // Inactivity presets.
        var preset = WorkflowV1.InstallInactivityPresetRequest()
        preset.preset = "totvs"
        #expect(try client.call(method.installInactivityPreset, preset, options: admin).policies.count == 3)
        preset.preset = "nope"
        #expect(code { _ = try client.call(method.installInactivityPreset, preset, options: admin) } == .invalidArgument)
        var policy = WorkflowV1.InactivityPolicySpec()
        policy.id = "dup"
        policy.stage = "pendente"
        policy.days = 3
        policy.toStage = "fechado"
        policy.active = true
        var putPolicy = WorkflowV1.PutInactivityPolicyRequest()
        putPolicy.policy = policy
        _ = try client.call(method.putInactivityPolicy, putPolicy, options: admin)  // replaces pendente-7d
        let policies = try client.call(method.listInactivityPolicies, WorkflowV1.ListInactivityPoliciesRequest(), options: agent).policies
        #expect(policies.filter { $0.stage == "pendente" }.map { "\($0.id):\($0.active)" }.sorted() == ["dup:true", "pendente-7d:false"])
    }

    /// A policy naming a calendar that does not exist (a typo through the API or the CLI) would
    /// have its deadlines silently counted on the default calendar: refused on
    /// `policy.calendar_id`, nothing stored; the default ("" or padrao) and saved calendars pass.
    @Test("SLA and inactivity policies naming an unknown calendar are INVALID_ARGUMENT on policy.calendar_id, nothing stored",
          arguments: TestEngines.all)
    func policiesNameExistingCalendars(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-02-05 16:00")
        defer { withExtendedLifetime(fixture) {} }
        let client = fixture.client, admin = principal(.agent, admin: true, level: 9)
        let method = WorkflowV1.WorkflowTime.self
        func sla(_ calendar: String) throws {
            var request = WorkflowV1.PutSLAPolicyRequest()
            request.policy = WorkflowV1.SLAPolicySpec()
            request.policy?.plan = "basico"
            request.policy?.firstResponseMinutes = 60
            request.policy?.calendarID = calendar
            _ = try client.call(method.putSLAPolicy, request, options: admin)
        }
        func inactivity(_ calendar: String) throws {
            var request = WorkflowV1.PutInactivityPolicyRequest()
            request.policy = WorkflowV1.InactivityPolicySpec()
            request.policy?.id = "espera"
            request.policy?.stage = "aguardando_cliente"
            request.policy?.days = 5
            request.policy?.businessDays = true
            request.policy?.toStage = "finalizado"
            request.policy?.calendarID = calendar
            request.policy?.active = true
            _ = try client.call(method.putInactivityPolicy, request, options: admin)
        }
        for put in [sla, inactivity] {
            let error = try #require(rpcErrorOf { try put("porto-alegre") })
            #expect(error.code == .invalidArgument && error.violations.map(\.field) == ["policy.calendar_id"], "\(error)")
            #expect(error.violations.first?.descriptionPT == "calendário desconhecido: porto-alegre")
        }
        #expect(try client.call(method.listSLAPolicies, WorkflowV1.ListSLAPoliciesRequest(), options: admin).policies.isEmpty)
        #expect(try client.call(method.listInactivityPolicies, WorkflowV1.ListInactivityPoliciesRequest(), options: admin).policies.isEmpty)
        var calendar = WorkflowV1.PutCalendarRequest()
        calendar.calendar = CalendarMapping.spec(BusinessCalendar(id: "porto-alegre", name: "Porto Alegre",
                                                                  timeZone: TimeZone(identifier: "America/Sao_Paulo")!))
        _ = try client.call(method.putCalendar, calendar, options: admin)
        for id in ["", "padrao", "porto-alegre"] {
            try sla(id)
            try inactivity(id)
        }
        #expect(try client.call(method.listSLAPolicies, WorkflowV1.ListSLAPoliciesRequest(), options: admin).policies.map(\.calendarID) == ["porto-alegre"])
    }

    @Test("a signed principal past its expiry (or undated) is refused with UNAUTHENTICATED by the service, over real TCP; a fresh one answers")
    func expiredPrincipal() throws {
        let database = try ScratchDatabase(.sqlite).open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let time = WorkflowTime(database: database, secret: secret)
        let api = try TimeAPIServer(time, secret: secret)
        defer { withExtendedLifetime(api) {} }
        let client = api.client
        var p = AuthV1.Principal()
        p.kind = .agent
        p.id = "ana"
        p.administrator = true
        func options(signedAgo ago: Int64?) -> CallOptions {
            var signer = PrincipalSigner(secret: secret)
            guard let ago else { return CallOptions(timeoutMilliseconds: 10_000, metadata: signer.metadata(forEncoded: p.serializedBytes())) }
            let then = Int64(Date().timeIntervalSince1970 * 1000) - ago
            signer.clock = { then }
            return CallOptions(timeoutMilliseconds: 10_000, metadata: signer.metadata(for: p))
        }
        let list = WorkflowV1.ListCalendarsRequest()
        #expect(try client.call(WorkflowV1.WorkflowTime.listCalendars, list, options: options(signedAgo: 0)).calendars.isEmpty == false)
        #expect(try client.call(WorkflowV1.WorkflowTime.listCalendars, list, options: options(signedAgo: 10 * 60_000)).calendars.isEmpty == false)
        // Captured 17 minutes ago: 15 of lifetime and 1 of skew are over.
        let expired = rpcErrorOf { _ = try client.call(WorkflowV1.WorkflowTime.listCalendars, list, options: options(signedAgo: 17 * 60_000)) }
        #expect(expired?.code == .unauthenticated && expired?.message.contains("expired") == true, "\(String(describing: expired))")
        #expect(code { _ = try client.call(WorkflowV1.WorkflowTime.listCalendars, list, options: options(signedAgo: nil)) } == .unauthenticated)
    }
}
