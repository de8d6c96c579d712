/// How each `POST` route answers a retry with the same `Idempotency-Key` (docs/GATEWAY.md,
/// "Idempotency-Key"): those in ``enforced`` store their first answer with their effect, in
/// the owning service (``ServiceKit/Idempotent``) or in the gateway's own database
/// (``RequestContext/once(_:_:)``), and a retry gets that answer with no second effect; those
/// in ``exclusions`` do not, for the reason given.
///
/// A test (`IdempotencyCoverageTests`) fails when a `POST` route is in neither list (or in
/// both), so a new route cannot silently ignore the key.
enum IdempotencyCoverage {
    /// `POST <template>` → who stores its answers by key: `service.Method` (the route's RPC,
    /// checked against the binding by the test), or the gateway for its own writes.
    static let enforced: [String: String] = [
        "POST /v1/invitations": "gateway (users, password tokens)",
        "POST /v1/users": "gateway (users)",
        "POST /v1/users/{id}": "gateway (users)",
        "POST /v1/users/{id}/disable": "gateway (users)",
        "POST /v1/users/{id}/enable": "gateway (users)",
        "POST /v1/users/{id}/resend-invitation": "gateway (password tokens)",
        "POST /v1/api-keys": "gateway (API keys)",
        "POST /v1/calendars": "workflow.PutCalendar",
        "POST /v1/sla-policies": "workflow.PutSLAPolicy",
        "POST /v1/sla-policies/delete": "workflow.DeleteSLAPolicy",
        "POST /v1/inactivity-policies": "workflow.PutInactivityPolicy",
        "POST /v1/inactivity-policies/presets": "workflow.InstallInactivityPreset",
        "POST /v1/surveys/answer": "workflow.AnswerSurvey",
        "POST /v1/versions": "workflow.PutVersion",
        "POST /v1/tickets/{id}/plan": "workflow.PlanTicket",
        "POST /v1/tickets/{id}/development-plan": "workflow.SetDevelopmentPlan",
        "POST /v1/versions/{id}/deliver": "workflow.DeliverVersion",
        "POST /v1/step-sequences": "workflow.PutStepSequence",
        "POST /v1/tickets/{id}/fields": "workflow.SetTicketFields",
        "POST /v1/tickets/{id}/steps": "workflow.StartSteps",
        "POST /v1/tickets/{id}/steps/advance": "workflow.AdvanceStep",
        "POST /v1/tickets": "intake.OpenTicket",
        "POST /v1/tickets/bulk": "workflow.BulkAction",
        "POST /v1/tickets/{id}/replies": "intake.Reply",
        "POST /v1/tickets/{id}/cancel": "intake.CancelTicket",
        "POST /v1/tickets/{id}/contact": "intake.ChangeTicketContact",
        "POST /v1/tickets/{id}/move": "workflow.MoveTicket",
        "POST /v1/tickets/{id}/status": "workflow.SetStageStatus",
        "POST /v1/tickets/{id}/reclassify": "workflow.Reclassify",
        "POST /v1/tickets/{id}/access-level": "workflow.SetAccessLevel",
        "POST /v1/tickets/{id}/take": "workflow.TakeTicket",
        "POST /v1/tickets/{id}/transfer": "workflow.TransferTicket",
        "POST /v1/tickets/{id}/send-back": "workflow.SendBack",
        "POST /v1/tickets/{id}/read": "workflow.MarkMessagesRead",
        "POST /v1/tickets/{id}/customer-messages": "workflow.LogCustomerMessage",
        "POST /v1/tickets/{id}/schedule": "workflow.ScheduleTicket",
        "POST /v1/tickets/{id}/discussion": "intake.AddFiles, workflow.AddDiscussion",
        "POST /v1/tickets/{id}/discussion/{entry}/publishable": "workflow.MarkPublishable",
        "POST /v1/tickets/{id}/solution": "workflow.SetSolution",
        "POST /v1/tickets/{id}/solution/answer": "workflow.AnswerSolution",
        "POST /v1/tickets/{id}/request": "workflow.AmendRequest",
        "POST /v1/tickets/{id}/links": "workflow.LinkTickets",
        "POST /v1/tickets/{id}/time-entries": "workflow.AddTimeEntry",
        "POST /v1/tickets/{id}/articles": "knowledge.LinkArticleToTicket",
        "POST /v1/tickets/{id}/email": "notification.SendTicketEmail",
        "POST /v1/tickets/{id}/faq-request": "knowledge.RequestFaq",
        "POST /v1/knowledge/articles": "knowledge.CreateArticle",
        "POST /v1/knowledge/articles/{id}": "knowledge.UpdateArticle",
        "POST /v1/knowledge/articles/{id}/votes": "knowledge.Vote",
        "POST /v1/knowledge/drafts/{draft}/opened": "knowledge.RecordArticleOpened",
        "POST /v1/knowledge/drafts/{draft}/submitted": "knowledge.RecordTicketSubmitted",
        "POST /v1/knowledge/queue/{id}/approve": "knowledge.ApproveQueueItem",
        "POST /v1/knowledge/queue/{id}/reject": "knowledge.RejectQueueItem",
        "POST /v1/knowledge/synonyms": "knowledge.PutSynonymGroup",
        "POST /v1/deliveries/retry": "notification.RetryDeadLetters",
        "POST /v1/deliveries/{id}/replay": "notification.ReplayDelivery",
        "POST /v1/subscriptions": "notification.SetSubscription",
        "POST /v1/notification-rules/{kind}": "notification.PutAudienceRule",
        "POST /v1/notification-rules/{kind}/entries": "notification.AddRuleEntry",
        "POST /v1/notification-rules/{kind}/entries/{id}": "notification.UpdateRuleEntry",
        "POST /v1/group-mailboxes/{id}": "notification.PutGroupMailbox",
        "POST /v1/webhooks": "notification.RegisterWebhook",
        "POST /v1/webhooks/{id}": "notification.UpdateWebhook",
        "POST /v1/webhooks/{id}/secret": "notification.RotateWebhookSecret",
        "POST /v1/templates": "notification.SetTemplate",
        "POST /v1/email-suppressions": "notification.AddSuppression",
        "POST /v1/organizations": "intake.CreateOrganization",
        "POST /v1/organizations/{id}": "intake.UpdateOrganization",
        "POST /v1/organizations/{id}/contacts": "intake.AddContact",
        "POST /v1/contacts/{id}": "intake.UpdateContact",
        "POST /v1/contacts/{id}/active": "intake.SetContactActive",
        "POST /v1/representatives": "intake.CreateRepresentative",
        "POST /v1/representatives/{id}": "intake.UpdateRepresentative",
        "POST /v1/representatives/{id}/contacts": "intake.AddRepresentativeContact",
        "POST /v1/representative-contacts/{id}": "intake.UpdateRepresentativeContact",
        "POST /v1/channels": "intake.PutChannel",
        "POST /v1/origins": "intake.PutOrigin",
        "POST /v1/custom-fields": "intake.PutCustomField",
        "POST /v1/support-policy": "intake.PutSupportPolicy",
        "POST /v1/agents": "workflow.PutAgent",
        "POST /v1/agents/{id}/transfer-destinations": "workflow.SetTransferDestinations",
        "POST /v1/groups": "workflow.PutGroup",
        "POST /v1/groups/{id}/members": "workflow.SetMembership",
        "POST /v1/roles": "workflow.PutRole",
        "POST /v1/routing-rules": "workflow.PutRoutingRule",
        "POST /v1/category-access-levels": "workflow.SetCategoryAccessLevel",
        "POST /v1/mail-quarantine/{id}/reprocess": "intake.ReprocessQuarantinedMail",
        "POST /v1/mail-quarantine/{id}/discard": "intake.DiscardQuarantinedMail",
    ]

    /// `POST <template>` → why a stored answer is not what a retry should get (each reason is
    /// also in docs/GATEWAY.md). None of these makes a second *lasting* change on a retry.
    static let exclusions: [String: String] = [
        "POST /v1/auth/login":
            "a sign-in is not a creation to replay: each one is a new session (its cookie is the answer, which must never be stored); a retried sign-in makes another session, and both expire",
        "POST /v1/auth/tokens":
            "as for /v1/auth/login: each sign-in is a new bearer token, never stored, and a retry gets a token of its own",
        "POST /v1/auth/logout":
            "ends the caller's own session: a retry has no session left (401) and changes nothing",
        "POST /v1/me/password":
            "a retry is refused (403 WRONG_PASSWORD: the current password is the new one) and changes nothing; no fingerprint of a body holding passwords is kept",
        "POST /v1/auth/password-reset":
            "anonymous (no verified caller to scope a key by) and answered 202 the same way whether or not the address exists; a retry mails another one-hour link, within the rate limits",
        "POST /v1/auth/password-reset/confirm":
            "the link's token is single-use: a retry changes nothing and answers 400 invalid_or_expired; no fingerprint of a body holding the password is kept",
        "POST /v1/invitations/accept":
            "as for /v1/auth/password-reset/confirm: the invitation's token is single-use",
        "POST /v1/attachments":
            "a staging upload: a retry stores a second pending upload that only its uploader sees and nothing names; the open, reply or entry naming the id is the idempotent step, and intake's collector deletes pending uploads never named",
    ]
}
