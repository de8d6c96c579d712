import Messages

/// Which of a ticket's customers decide for it: cancel it (intake's `CancelTicket`) and accept or
/// reject its proposed solution (workflow's `AnswerSolution`, which in the `totvs` flow finishes
/// the ticket). One rule for both services, and the portal offers both actions by it.
///
/// The ticket's own contact, a company administrator (`organization_admin`) of its organization,
/// and the people of the ticket's representative (the one who opened it, or whom an agent named
/// since). Another contact of the company reads and answers the ticket but does not decide for a
/// colleague's; a representative who is not the ticket's does not either. The caller is one who
/// already sees the ticket (its organization's customer, or a representative acting for it):
/// the rule does not check the organization again.
///
/// Who is a company administrator is the contact's `admin` flag in intake's directory: the gateway
/// signs `organization_admin` only while the caller's contact has it (checked per request, cached
/// as organizations' states are), and intake passes `organizationAdmin` as its own directory says
/// (its `CompanyAdministrator`); workflow, which owns no directory, takes the signed one.
///
/// ```swift
/// guard TicketDecisionRule.mayDecide(principal, contactID: ticket.contact.id,
///                                    representativeID: ticket.representative.id) else { throw denied }
/// ```
public enum TicketDecisionRule {
    /// Whether a customer may decide for the ticket whose contact is `contactID` and representative
    /// `representativeID` ("" when none).
    /// - Parameters:
    ///   - callerRepresentativeID: the representative the caller is one of the people of ("" for a
    ///     company's own contact).
    ///   - organizationAdmin: the caller is a company administrator (contacts only).
    public static func mayDecide(callerID: String, callerRepresentativeID: String, organizationAdmin: Bool,
                                 contactID: String, representativeID: String) -> Bool {
        if !callerRepresentativeID.isEmpty { return !representativeID.isEmpty && representativeID == callerRepresentativeID }
        return (!contactID.isEmpty && contactID == callerID) || organizationAdmin
    }

    /// ``mayDecide(callerID:callerRepresentativeID:organizationAdmin:contactID:representativeID:)``
    /// for a customer's signed principal.
    public static func mayDecide(_ principal: AuthV1.Principal, contactID: String, representativeID: String) -> Bool {
        mayDecide(callerID: principal.id, callerRepresentativeID: principal.representativeID,
                  organizationAdmin: principal.organizationAdmin, contactID: contactID, representativeID: representativeID)
    }
}
