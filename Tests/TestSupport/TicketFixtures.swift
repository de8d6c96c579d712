import Messages

/// The intake events the workflow tests and benchmarks feed workflow, built in one place.
///
/// ```swift
/// let event = TicketFixtures.opened("t1", code: "2026-t1",
///                                   organization: TicketFixtures.organization("org-1", name: "Empresa"),
///                                   contact: TicketFixtures.person("c1", name: "Maria", email: "maria@example.com"),
///                                   subject: "Nota fiscal", request: "Erro 539", openedAt: now)
/// ```
public enum TicketFixtures {
    /// A customer organization as events carry it.
    public static func organization(_ id: String, name: String, plan: String = "standard", email: String = "") -> CommonV1.OrganizationRef {
        var organization = CommonV1.OrganizationRef()
        organization.id = id
        organization.name = name
        organization.plan = plan
        organization.email = email
        return organization
    }

    /// A person (contact, agent) as events carry them.
    public static func person(_ id: String, name: String, email: String) -> CommonV1.PersonRef {
        var person = CommonV1.PersonRef()
        person.id = id
        person.name = name
        person.email = email
        return person
    }

    /// Intake's `TicketOpened` for a customer's ticket opened on the portal.
    public static func opened(_ id: String, code: String, organization: CommonV1.OrganizationRef, contact: CommonV1.PersonRef,
                              category: CommonV1.Category = .problema, priority: CommonV1.Priority = .normal, product: String = "ERP",
                              module: String = "Fiscal", subject: String, request: String, openedAt: Int64) -> IntakeV1.TicketOpened {
        var event = IntakeV1.TicketOpened()
        event.ticketID = id
        event.code = code
        event.organization = organization
        event.contact = contact
        event.channel = "portal"
        event.origin = .customer
        event.category = category
        event.priority = priority
        event.product = product
        event.module = module
        event.subject = subject
        event.request = request
        event.openedAtMs = openedAt
        return event
    }
}
