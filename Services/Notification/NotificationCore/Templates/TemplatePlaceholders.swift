import Foundation

/// The `{{name}}` placeholders each template kind is filled with (the names `EventFacts`, the
/// planner and the on-demand and account e-mails give values to), so an administrator's template
/// can be checked before it is stored: a name the kind never fills, or a `{{` left open, would
/// render as an empty or literal piece of every e-mail of that kind.
enum TemplatePlaceholders {
    /// Every event's ticket: from the ticket summary, the event's text, and the planner's
    /// `recipient_name` / `portal_url`.
    static let ticket = ["code", "subject", "organization_name", "contact_name", "stage_name", "holder_name", "text",
                         "recipient_name", "portal_url"]

    /// The names of each kind beyond ``ticket`` (see `EventInterpreter.facts`).
    static let eventNames: [String: [String]] = [
        "TicketOpened": ["channel"],
        "CustomerReplied": ["author_name", "channel", "files_pt", "files_en"],
        "TicketCancelledByCustomer": ["author_name"],
        "TicketRouted": ["group_name"],
        "StageChanged": ["from_stage", "to_stage", "actor_name", "outcome"],
        "Transferred": ["from_name", "actor_name", "sent_back"],
        "TransferredCopy": ["from_name", "actor_name", "sent_back"],
        "DiscussionAdded": ["author_name", "entry_kind", "files_pt", "files_en"],
        "InformationRequested": ["actor_name"],
        "SolutionGiven": ["actor_name"],
        "TicketFinished": ["outcome", "outcome_key", "survey_url"],
        "InactivityReminder": ["policy", "due_at"],
        "SLAWarning": ["target", "due_at", "percent_elapsed"],
        "SLABreached": ["target", "due_at"],
        "SurveyAnswered": ["score"],
    ]

    /// The placeholders of `kind`, in a stable order (empty for an unknown kind).
    static func names(of kind: String) -> [String] {
        switch kind {
        case "TicketEmail": ["code", "subject", "text", "sender_name"]
        case "Invitation", "PasswordReset": ["name", "organization_name", "link", "expires_at"]
        // No one-time link: `link` is the portal's sign-in page.
        case "InvitationNotice": ["name", "organization_name", "link"]
        // An invitation without a customer company (agents, chefes, administrators; a
        // representative's person has their own wording): `team_name` is the deployment's sender
        // name (NOTIFICATION_MAIL_FROM_NAME).
        case "StaffInvitation", "RepresentativeInvitation": ["name", "team_name", "link", "expires_at"]
        default: eventNames[kind].map { ticket + $0 } ?? []
        }
    }

    /// What is wrong with one part of a template of `kind`: a `{{` without its `}}`, or a name
    /// the kind does not fill; nil when it renders.
    static func problem(in part: String, kind: String) -> (pt: String, en: String)? {
        let known = Set(names(of: kind))
        for segment in TemplateRenderer.segments(part) {
            switch segment {
            case .value(let name) where !known.contains(name):
                return ("Marcador desconhecido para \(kind): {{\(name)}}. Use: \(names(of: kind).joined(separator: ", ")).",
                        "Unknown placeholder for \(kind): {{\(name)}}. Use: \(names(of: kind).joined(separator: ", ")).")
            case .literal(let text) where text.contains("{{"):
                return ("Marcador sem fechamento: falta \"}}\" depois de \"{{\".", "Unclosed placeholder: \"}}\" is missing after \"{{\".")
            default:
                continue
            }
        }
        return nil
    }
}
