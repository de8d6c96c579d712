import Foundation
import Messages

/// A person an event may notify.
struct Person: Sendable, Equatable {
    var id: String
    var name: String
    var email: String
}

/// What notification needs from any event: kind, ticket, who could be told, and the values the
/// templates and webhook bodies show. Built from the event alone (and, for intake's events, the
/// last ticket summary seen), so no other service is asked.
struct EventFacts: Sendable {
    /// Short message name, e.g. "TicketOpened".
    var kind: String
    var eventID: String
    var occurredAtMs: Int64
    var ticketID: String = ""
    var code: String = ""
    /// Confidentiality level of the content.
    var accessLevel: Int32 = 0
    /// An internal discussion entry: never to customers or webhooks without `internal_entries`.
    var isInternal: Bool = false
    var locale: String = "pt-BR"
    var contact: Person?
    var organizationEmail: String = ""
    var holderAgent: Person?
    var holderGroupID: String = ""
    var holderGroupName: String = ""
    var chefe: Person?
    var copies: [String] = []
    /// What administrators' rules and webhooks filter on (``TicketCriteria``).
    var traits = TicketTraits()
    /// The ``copies`` workflow vouched for as its agents cleared for the ticket's level
    /// (`Transferred.agent_copy_to`): they read the transfer's note, like the holder.
    var agentCopies: [String] = []
    /// Values for templates and webhook bodies.
    var variables: [String: String] = [:]
    /// Keys of ``variables`` hidden from recipients below ``accessLevel``.
    var sensitiveKeys: Set<String> = []
    /// Keys of ``variables`` that are internal content whatever the level (a transfer's note,
    /// which workflow keeps as an internal entry): hidden from the customer and from webhooks
    /// not registered with `internal_entries`, as internal discussion entries are.
    var internalKeys: Set<String> = []
    /// The instants (epoch ms) of ``variables`` that are dates (`due_at`): webhooks get the UTC
    /// text, an e-mail the deployment's time zone in its reader's language (``EventInterpreter/localDate``).
    var instants: [String: Int64] = [:]

    /// The values a recipient at `level` may see; `readsInternal`: whether it may read internal
    /// content (``internalKeys``): agents and entitled webhooks, never the customer.
    func variables(forLevel level: Int32, readsInternal: Bool = true) -> [String: String] {
        let hideSensitive = level < accessLevel, hideInternal = !readsInternal && !internalKeys.isEmpty
        guard hideSensitive || hideInternal else { return variables }
        var visible = variables
        for key in hideSensitive ? sensitiveKeys : [] where visible[key] != nil { visible[key] = Self.hiddenText }
        for key in hideInternal ? internalKeys : [] where visible[key] != nil { visible[key] = Self.hiddenText }
        return visible
    }

    static let hiddenText = "(conteúdo confidencial / confidential content)"

    /// A value that is internal content (``internalKeys``), and sensitive too.
    mutating func setInternal(_ key: String, _ value: String) {
        setSensitive(key, value)
        internalKeys.insert(key)
    }

    init(kind: String, envelope: EventsV1.EventEnvelope) {
        self.kind = kind
        eventID = envelope.id
        occurredAtMs = envelope.occurredAtMs
        accessLevel = envelope.accessLevel
    }

    /// Fills ticket, people and variables from a workflow ticket summary.
    mutating func apply(_ summary: WorkflowV1.TicketSummary?) {
        guard let summary else { return }
        ticketID = summary.ticketID
        code = summary.code
        accessLevel = max(accessLevel, summary.accessLevel)
        if !summary.locale.isEmpty { locale = summary.locale }
        if let contact = summary.contact { self.contact = Person(id: contact.id, name: contact.name, email: contact.email) }
        organizationEmail = summary.organizationEmail
        traits = TicketTraits(category: summary.category, priority: summary.priority, product: summary.product, module: summary.module,
                              organizationID: summary.organizationID)
        if let holder = summary.holder {
            if !holder.agentID.isEmpty || !holder.agentEmail.isEmpty {
                holderAgent = Person(id: holder.agentID, name: holder.agentName, email: holder.agentEmail)
            }
            holderGroupID = holder.groupID
            holderGroupName = holder.groupName
            if !holder.chefeAgentID.isEmpty || !holder.chefeEmail.isEmpty {
                chefe = Person(id: holder.chefeAgentID, name: "", email: holder.chefeEmail)
            }
        }
        variables["code"] = summary.code
        variables["subject"] = summary.subject
        variables["organization_name"] = summary.organizationName
        variables["contact_name"] = summary.contact?.name ?? ""
        variables["stage_name"] = Self.stageName(summary, DisplayLanguage(code: locale))
        variables["holder_name"] = summary.holder.map { $0.agentName.isEmpty ? $0.groupName : $0.agentName } ?? ""
        sensitiveKeys.insert("subject")
    }

    /// The stage as the customer reads it (their name of it; the team's when it has none) in
    /// `language`: workflow's English name (`customer_stage_name_en`, `stage_name_en`: the flow's
    /// own, an administrator's stage as they named it). An event published before workflow carried
    /// them (2026-12-02, still in an outbox) has none: a shipped stage is then named by
    /// ``ShippedStageNames``, any other as it reads in Portuguese.
    static func stageName(_ summary: WorkflowV1.TicketSummary, _ language: DisplayLanguage) -> String {
        let customers = !summary.customerStageName.isEmpty
        let portuguese = customers ? summary.customerStageName : summary.stageName
        guard language == .english else { return portuguese }
        let english = customers ? summary.customerStageNameEn : summary.stageNameEn
        return english.isEmpty ? ShippedStageNames.name(portuguese, .english) : english
    }

    /// A date variable: the UTC text, and the instant for e-mails.
    mutating func setDate(_ key: String, _ ms: Int64) {
        variables[key] = EventInterpreter.date(ms)
        instants[key] = ms
    }

    mutating func setSensitive(_ key: String, _ value: String) {
        variables[key] = value
        sensitiveKeys.insert(key)
    }

    /// The names and sizes of a message's files, for the templates: `files_pt` and `files_en`
    /// are a paragraph ("Arquivos: nota.xml (12 KiB), tela.png (3 KiB)"), empty without files;
    /// sensitive like the message's text. The files themselves stay in the ticket (the portal).
    mutating func setFiles(_ files: [CommonV1.AttachmentRef]) {
        let list = files.map { "\($0.fileName) (\(Self.size($0.sizeBytes)))" }.joined(separator: ", ")
        setSensitive("files_pt", list.isEmpty ? "" : "\n\nArquivos: \(list)")
        setSensitive("files_en", list.isEmpty ? "" : "\n\nFiles: \(list)")
    }

    static func size(_ bytes: Int64) -> String {
        if bytes >= 1 << 20 { return "\((bytes + (1 << 19)) >> 20) MiB" }
        if bytes >= 1 << 10 { return "\((bytes + (1 << 9)) >> 10) KiB" }
        return "\(bytes) B"
    }
}

/// Turns delivered envelopes into ``EventFacts``; `nil` for kinds notification ignores.
enum EventInterpreter {
    /// The short kind of a fully qualified message name.
    static func kind(of type: String) -> String { String(type.split(separator: ".").last ?? Substring(type)) }

    static func date(_ ms: Int64) -> String {
        guard ms > 0 else { return "" }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
    }

    /// An instant as an e-mail's reader reads it: in `zone` (`NOTIFICATION_TIME_ZONE`), named,
    /// "08/12/2026 08:55 (Horário Padrão de Brasília)" for Portuguese, "2026-12-08 08:55 (Brasilia
    /// Standard Time)" for English. (A helpdesk in São Paulo read SLA deadlines three hours off in UTC.)
    static func localDate(_ ms: Int64, zone: TimeZone, locale: String) -> String {
        guard ms > 0 else { return "" }
        let english = DisplayLanguage(code: locale) == .english
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = english ? "yyyy-MM-dd HH:mm" : "dd/MM/yyyy HH:mm"
        let date = Date(timeIntervalSince1970: Double(ms) / 1000)
        let name = zone.localizedName(for: zone.isDaylightSavingTime(for: date) ? .daylightSaving : .standard,
                                      locale: Locale(identifier: english ? "en" : "pt_BR")) ?? zone.identifier
        return "\(formatter.string(from: date)) (\(name))"
    }

    /// An SLA target in the e-mail's language (it was both languages in one, in either e-mail).
    static func slaTarget(_ target: WorkflowV1.SlaTarget, locale: String) -> String {
        let english = DisplayLanguage(code: locale) == .english
        switch target {
        case .firstResponse: return english ? "first response" : "primeira resposta"
        case .nextResponse: return english ? "next response" : "próxima resposta"
        case .resolution: return english ? "resolution" : "solução"
        default: return ""
        }
    }

    // MARK: intake

    static func facts(_ event: IntakeV1.TicketOpened, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "TicketOpened", envelope: envelope)
        facts.ticketID = event.ticketID
        facts.code = event.code
        if let contact = event.contact { facts.contact = Person(id: contact.id, name: contact.name, email: contact.email) }
        facts.organizationEmail = event.organization?.email ?? ""
        facts.traits = TicketTraits(category: event.category, priority: event.priority, product: event.product, module: event.module,
                                    organizationID: event.organization?.id ?? "")
        facts.variables["code"] = event.code
        facts.variables["organization_name"] = event.organization?.name ?? ""
        facts.variables["contact_name"] = event.contact?.name ?? ""
        facts.variables["channel"] = event.channel
        facts.setSensitive("subject", event.subject)
        facts.setSensitive("text", event.request)
        return facts
    }

    static func facts(_ event: IntakeV1.CustomerReplied, _ envelope: EventsV1.EventEnvelope,
                      summary: WorkflowV1.TicketSummary?) -> EventFacts {
        var facts = EventFacts(kind: "CustomerReplied", envelope: envelope)
        facts.apply(summary)
        facts.ticketID = event.ticketID
        facts.code = event.code
        facts.variables["code"] = event.code
        facts.variables["author_name"] = event.author?.name ?? ""
        facts.variables["channel"] = event.channel
        facts.setSensitive("text", event.text)
        facts.setFiles(event.attachments)
        return facts
    }

    static func facts(_ event: IntakeV1.TicketCancelledByCustomer, _ envelope: EventsV1.EventEnvelope,
                      summary: WorkflowV1.TicketSummary?) -> EventFacts {
        var facts = EventFacts(kind: "TicketCancelledByCustomer", envelope: envelope)
        facts.apply(summary)
        facts.ticketID = event.ticketID
        facts.code = event.code
        facts.variables["code"] = event.code
        facts.variables["author_name"] = event.by?.name ?? ""
        facts.setSensitive("text", event.reason)
        return facts
    }

    // MARK: workflow

    static func facts(_ event: WorkflowV1.TicketRouted, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "TicketRouted", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["group_name"] = event.ticket?.holder?.groupName ?? ""
        return facts
    }

    static func facts(_ event: WorkflowV1.StageChanged, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "StageChanged", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["from_stage"] = event.fromStage
        facts.variables["to_stage"] = event.toStage
        facts.variables["actor_name"] = event.actorName
        facts.variables["outcome"] = event.outcome
        facts.variables["text"] = event.publicNote
        return facts
    }

    static func facts(_ event: WorkflowV1.Transferred, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "Transferred", envelope: envelope)
        facts.apply(event.ticket)
        // The new holder is the event's `to`, even if the summary was taken before the move.
        if let to = event.to {
            facts.holderAgent = (to.agentID.isEmpty && to.agentEmail.isEmpty) ? nil
                : Person(id: to.agentID, name: to.agentName, email: to.agentEmail)
            facts.holderGroupID = to.groupID
            facts.holderGroupName = to.groupName
            if !to.chefeEmail.isEmpty { facts.chefe = Person(id: to.chefeAgentID, name: "", email: to.chefeEmail) }
            facts.variables["holder_name"] = to.agentName.isEmpty ? to.groupName : to.agentName
        }
        facts.variables["from_name"] = event.from.map { $0.agentName.isEmpty ? $0.groupName : $0.agentName } ?? ""
        facts.variables["actor_name"] = event.actorName
        facts.variables["sent_back"] = event.sentBack ? "sim / yes" : ""
        // Workflow keeps the note as an internal `transfer` entry: never the customer's.
        facts.setInternal("text", event.note)
        facts.copies = event.copyTo
        facts.agentCopies = event.agentCopyTo
        return facts
    }

    static func facts(_ event: WorkflowV1.DiscussionAdded, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "DiscussionAdded", envelope: envelope)
        facts.apply(event.ticket)
        facts.isInternal = !event.isPublic
        facts.variables["author_name"] = event.authorName
        facts.variables["entry_kind"] = event.kind
        facts.setSensitive("text", event.text)
        facts.setFiles(event.attachments)
        return facts
    }

    static func facts(_ event: WorkflowV1.InformationRequested, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "InformationRequested", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["actor_name"] = event.actorName
        facts.setSensitive("text", event.text)
        return facts
    }

    static func facts(_ event: WorkflowV1.SolutionGiven, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "SolutionGiven", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["actor_name"] = event.actorName
        facts.setSensitive("text", event.text)
        return facts
    }

    /// How an outcome key reads, per locale: the shared wording of ``TicketOutcome`` (the
    /// portal's and the CLI's too); unknown keys as they are.
    static func outcome(_ key: String, locale: String) -> String {
        TicketOutcome.label(key, TemplateCatalog.locale(locale) == "en" ? .english : .portuguese)
    }

    static func facts(_ event: WorkflowV1.TicketFinished, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "TicketFinished", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["outcome"] = outcome(event.outcome, locale: facts.locale)
        facts.variables["outcome_key"] = event.outcome
        facts.variables["survey_url"] = event.surveyURL
        facts.setSensitive("text", event.publicNote)
        return facts
    }

    static func facts(_ event: WorkflowV1.InactivityReminder, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "InactivityReminder", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["policy"] = event.policy
        facts.setDate("due_at", event.actionDueAtMs)
        return facts
    }

    static func facts(_ event: WorkflowV1.SLAWarning, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "SLAWarning", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["target"] = slaTarget(event.target, locale: facts.locale)
        facts.setDate("due_at", event.dueAtMs)
        facts.variables["percent_elapsed"] = String(event.percentElapsed)
        return facts
    }

    static func facts(_ event: WorkflowV1.SLABreached, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "SLABreached", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["target"] = slaTarget(event.target, locale: facts.locale)
        facts.setDate("due_at", event.dueAtMs)
        return facts
    }

    static func facts(_ event: WorkflowV1.SurveyAnswered, _ envelope: EventsV1.EventEnvelope) -> EventFacts {
        var facts = EventFacts(kind: "SurveyAnswered", envelope: envelope)
        facts.apply(event.ticket)
        facts.variables["score"] = String(event.score)
        facts.setSensitive("text", event.comment)
        return facts
    }
}
