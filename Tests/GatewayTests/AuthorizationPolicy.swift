import GatewayCore

/// Who may call each operation of the gateway's HTTP API: the policy the authorization matrix
/// (``AuthorizationMatrixTests``) checks route by route. Every route of ``Gateway/makeRouter()``
/// must have an entry here (a new route fails the matrix until it gets one).
///
/// | policy | anonymous | portal cookie, no CSRF (unsafe) | other company's customer, with A's ids | customer of A | agent (level 0), chefe | integration key (`tickets.read`) |
/// |---|---|---|---|---|---|---|
/// | `everyone` | allowed | — | allowed, none of A's data | allowed | allowed | allowed |
/// | `signedIn` | 401 | 403 | allowed on its own data, none of A's | allowed | allowed | allowed |
/// | `ticketParty` | 401 | 403 | 403 or 404 | (allowed) | (by level) | (by level) |
/// | `companyAdmin` | 401 | 403 | 403 or 404 (B's administrator: its own company's, none of A's) | 403 (a plain contact) | 403 | 403 |
/// | `directory` | 401 | 403 | 403 or 404 | 403 (a plain contact) | (allowed) | (allowed) |
/// | `staff` | 401 | 403 | 403 (404 with A's ids) | 403 | (allowed) | (allowed) |
/// | `work` | 401 | 403 | 403 (404 with A's ids) | 403 | (allowed) | 403 |
/// | `editor` | 401 | 403 | 403 (404 with A's ids) | 403 | 403 | 403 |
/// | `admin` | 401 | 403 | 403 (404 with A's ids) | 403 | 403 | 403 |
///
/// The read-only key is also refused (403, or 404 with A's ids) every unsafe `directory`,
/// `staff` and `ticketParty` route and every unsafe `/v1/tickets…` route: it opens, replies,
/// cancels and edits intake's directory only with `tickets.work`.
///
/// "(allowed)" and "(by level)" are not asserted by the matrix (valid bodies and the
/// caller's reach decide; the feature tests pin them).
enum AccessPolicy: String, Sendable {
    /// No sign-in: sign-in, password reset, invitations, health, the OpenAPI document, the
    /// portal's page and assets, the survey answered with its signed token.
    case everyone
    /// Any signed-in caller, each on their own data (their tickets, their subscriptions, the
    /// public knowledge base).
    case signedIn
    /// The customers of the ticket's (or the object's) organization and staff who may see it.
    case ticketParty
    /// Administrators, and a company's administrator for their own company.
    case companyAdmin
    /// Intake's directory of a company: staff (agents, integrations), and the company's own
    /// administrator; other customers and the company's plain contacts are refused.
    case directory
    /// Support staff reading or working (any agent; integrations with the staff's permissions).
    case staff
    /// Staff changing a ticket or the queue: needs `tickets.work` (a read-only key is refused).
    case work
    /// Writing the knowledge base: `knowledge.write` (knowledge editors and administrators).
    case editor
    /// Configuration: administrators only.
    case admin
}

enum AuthorizationPolicy {
    /// `"METHOD /template"` → policy; every route of the gateway is here.
    static let table: [String: AccessPolicy] = [
        // System and portal.
        "GET /healthz": .everyone, "GET /readyz": .everyone, "GET /openapi.yaml": .everyone, "GET /metrics": .admin,
        "GET /": .everyone, "GET /portal": .everyone, "GET /portal/convite": .everyone, "GET /portal/nova-senha": .everyone,
        "GET /portal/pesquisa": .everyone, "GET /assets/{file}": .everyone,
        // Sign-in and accounts.
        "POST /v1/auth/login": .everyone, "POST /v1/auth/tokens": .everyone, "POST /v1/auth/password-reset": .everyone,
        "POST /v1/auth/password-reset/confirm": .everyone, "POST /v1/invitations/accept": .everyone,
        "POST /v1/auth/logout": .signedIn, "GET /v1/me": .signedIn, "POST /v1/me/password": .signedIn,
        "POST /v1/invitations": .companyAdmin, "GET /v1/users": .companyAdmin, "POST /v1/users": .admin, "POST /v1/users/{id}": .admin,
        "POST /v1/users/{id}/disable": .companyAdmin, "POST /v1/users/{id}/enable": .companyAdmin,
        "POST /v1/users/{id}/resend-invitation": .companyAdmin,
        "GET /v1/api-keys": .admin, "POST /v1/api-keys": .admin, "DELETE /v1/api-keys/{id}": .admin,
        // Workflow's time.
        "GET /v1/calendars": .staff, "POST /v1/calendars": .admin, "GET /v1/calendars/{id}": .staff, "DELETE /v1/calendars/{id}": .admin,
        "GET /v1/sla-policies": .staff, "POST /v1/sla-policies": .admin, "POST /v1/sla-policies/delete": .admin,
        "GET /v1/tickets/{id}/sla": .staff,
        "GET /v1/inactivity-policies": .staff, "POST /v1/inactivity-policies": .admin, "DELETE /v1/inactivity-policies/{id}": .admin,
        "POST /v1/inactivity-policies/presets": .admin,
        "POST /v1/surveys/answer": .everyone, "GET /v1/surveys/about": .everyone, "GET /v1/tickets/{id}/survey": .ticketParty, "GET /v1/surveys/results": .staff,
        "GET /v1/reports/metrics": .staff, "GET /v1/reports/metrics.csv": .staff, "GET /v1/tickets/export.csv": .staff,
        // Development backlog and steps.
        "GET /v1/versions": .staff, "POST /v1/versions": .admin, "POST /v1/tickets/{id}/plan": .work,
        "POST /v1/tickets/{id}/development-plan": .work, "POST /v1/versions/{id}/deliver": .admin, "DELETE /v1/versions/{id}": .admin,
        "GET /v1/backlog": .staff, "GET /v1/step-sequences": .staff, "POST /v1/step-sequences": .admin,
        "POST /v1/tickets/{id}/fields": .work, "POST /v1/tickets/{id}/steps": .work, "POST /v1/tickets/{id}/steps/advance": .work,
        // Tickets.
        "POST /v1/tickets": .signedIn, "GET /v1/tickets": .signedIn, "GET /v1/tickets/search": .staff, "GET /v1/tickets/counts": .staff,
        "POST /v1/tickets/bulk": .work, "GET /v1/tickets/{id}": .ticketParty, "GET /v1/tickets/{id}/conversation": .ticketParty,
        "GET /v1/tickets/{id}/history": .ticketParty,
        "GET /v1/tickets/{id}/moves": .ticketParty, "GET /v1/tickets/{id}/related": .staff, "GET /v1/tickets/{id}/versions": .staff,
        "GET /v1/tickets/{id}/deliveries": .staff,
        "POST /v1/tickets/{id}/replies": .ticketParty, "POST /v1/tickets/{id}/cancel": .ticketParty,
        "POST /v1/tickets/{id}/contact": .work, "POST /v1/tickets/{id}/move": .ticketParty, "POST /v1/tickets/{id}/status": .work,
        "POST /v1/tickets/{id}/reclassify": .work, "POST /v1/tickets/{id}/access-level": .work, "POST /v1/tickets/{id}/take": .work,
        "POST /v1/tickets/{id}/transfer": .work, "POST /v1/tickets/{id}/send-back": .work, "POST /v1/tickets/{id}/read": .work,
        "POST /v1/tickets/{id}/customer-messages": .work, "POST /v1/tickets/{id}/schedule": .work,
        "POST /v1/tickets/{id}/discussion": .work, "POST /v1/tickets/{id}/discussion/{entry}/publishable": .work,
        "POST /v1/tickets/{id}/solution": .work, "POST /v1/tickets/{id}/solution/answer": .ticketParty,
        "POST /v1/tickets/{id}/request": .work, "POST /v1/tickets/{id}/links": .work, "POST /v1/tickets/{id}/time-entries": .work,
        "POST /v1/tickets/{id}/articles": .work, "POST /v1/tickets/{id}/email": .work, "POST /v1/tickets/{id}/faq-request": .work,
        "GET /v1/time-totals": .staff,
        // Attachments.
        "POST /v1/attachments": .signedIn, "GET /v1/attachments/{id}": .ticketParty, "GET /v1/file-limits": .signedIn,
        // Knowledge.
        "GET /v1/knowledge/search": .signedIn, "GET /v1/knowledge/suggest": .signedIn, "GET /v1/knowledge/faq": .signedIn,
        "GET /v1/knowledge/forum": .signedIn, "GET /v1/knowledge/forum/{id}": .signedIn, "GET /v1/knowledge/articles": .signedIn,
        "POST /v1/knowledge/articles": .editor, "GET /v1/knowledge/articles/{id}": .signedIn, "POST /v1/knowledge/articles/{id}": .editor,
        "GET /v1/knowledge/articles/{id}/versions": .staff, "POST /v1/knowledge/articles/{id}/votes": .signedIn,
        "POST /v1/knowledge/drafts/{draft}/opened": .signedIn, "POST /v1/knowledge/drafts/{draft}/submitted": .signedIn,
        "GET /v1/knowledge/deflection": .staff, "GET /v1/knowledge/queue": .editor, "POST /v1/knowledge/queue/{id}/approve": .editor,
        "POST /v1/knowledge/queue/{id}/reject": .editor, "GET /v1/knowledge/synonyms": .staff, "POST /v1/knowledge/synonyms": .editor,
        "DELETE /v1/knowledge/synonyms/{id}": .editor,
        // Notification.
        "GET /v1/deliveries": .staff, "GET /v1/deliveries/stats": .staff, "POST /v1/deliveries/retry": .admin,
        "POST /v1/deliveries/{id}/replay": .admin, "GET /v1/subscriptions": .signedIn, "POST /v1/subscriptions": .signedIn,
        "DELETE /v1/subscriptions": .signedIn, "GET /v1/notification-rules": .admin, "POST /v1/notification-rules/{kind}": .admin,
        "DELETE /v1/notification-rules/{kind}": .admin, "POST /v1/notification-rules/{kind}/entries": .admin,
        "POST /v1/notification-rules/{kind}/entries/{id}": .admin, "DELETE /v1/notification-rules/{kind}/entries/{id}": .admin,
        "POST /v1/group-mailboxes/{id}": .admin, "DELETE /v1/group-mailboxes/{id}": .admin,
        "GET /v1/webhooks": .admin, "POST /v1/webhooks": .admin, "POST /v1/webhooks/{id}": .admin, "DELETE /v1/webhooks/{id}": .admin, "POST /v1/webhooks/{id}/secret": .admin,
        "GET /v1/email-suppressions": .staff, "POST /v1/email-suppressions": .admin, "DELETE /v1/email-suppressions/{address}": .admin,
        "GET /v1/templates/{kind}": .staff, "POST /v1/templates": .admin,
        // Intake's directory and configuration.
        "POST /v1/organizations": .staff, "GET /v1/organizations": .staff, "GET /v1/organizations/{id}": .ticketParty, "POST /v1/organizations/{id}": .staff,
        "POST /v1/organizations/{id}/contacts": .directory, "GET /v1/organizations/{id}/contacts": .directory,
        "GET /v1/contacts/{id}": .directory, "POST /v1/contacts/{id}": .directory, "DELETE /v1/contacts/{id}": .directory, "POST /v1/contacts/{id}/active": .directory,
        "POST /v1/representatives": .staff, "GET /v1/representatives/{id}": .staff, "POST /v1/representatives/{id}": .staff,
        "GET /v1/representatives/{id}/organizations": .staff, "GET /v1/representatives/{id}/contacts": .staff,
        "POST /v1/representatives/{id}/contacts": .staff, "GET /v1/customers": .staff,
        "GET /v1/representative-contacts/{id}": .staff, "POST /v1/representative-contacts/{id}": .staff,
        "GET /v1/organizations/{id}/representatives": .staff,
        "GET /v1/channels": .signedIn, "POST /v1/channels": .admin, "GET /v1/origins": .signedIn, "POST /v1/origins": .admin,
        "GET /v1/custom-fields": .signedIn, "POST /v1/custom-fields": .admin, "GET /v1/support-policy": .signedIn,
        "POST /v1/support-policy": .admin,
        // Workflow's configuration.
        "GET /v1/agents": .staff, "POST /v1/agents": .admin, "GET /v1/agents/{id}": .staff,
        "GET /v1/agents/{id}/transfer-destinations": .staff, "POST /v1/agents/{id}/transfer-destinations": .admin,
        "GET /v1/groups": .staff, "POST /v1/groups": .admin, "POST /v1/groups/{id}/members": .admin,
        "GET /v1/roles": .staff, "POST /v1/roles": .admin, "DELETE /v1/roles/{name}": .admin,
        "GET /v1/routing-rules": .staff, "POST /v1/routing-rules": .admin, "DELETE /v1/routing-rules/{id}": .admin,
        "GET /v1/category-access-levels": .staff, "POST /v1/category-access-levels": .admin,
        // Intake's e-mail quarantine.
        "GET /v1/mail-quarantine": .work, "GET /v1/mail-quarantine/{id}": .work, "GET /v1/mail-quarantine/{id}/raw": .work,
        "POST /v1/mail-quarantine/{id}/reprocess": .work, "POST /v1/mail-quarantine/{id}/discard": .work,
    ]
}
