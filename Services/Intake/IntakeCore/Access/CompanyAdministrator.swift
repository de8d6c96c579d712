import Messages

/// Whether a customer acts as their company's administrator: the signed principal says so
/// (`organization_admin`, the gateway's `customer_admin` sign-in) **and** intake's directory
/// agrees now: the caller's own contact (`me`, read by the caller's id) is an active contact of
/// `organizationID` with the `admin` flag. Before 2026-12-02 the flag was not checked, so a
/// contact support had taken the flag from kept managing the company's contacts for as long as
/// their sign-in said `customer_admin`. The gateway marks a contact `admin` when it links a
/// `customer_admin` sign-in to it (``InvitedContact`` there), and only staff change the flag.
/// An API key with the `customer_admin` role names no contact, so it is no administrator here.
///
/// Every right intake gives a company's administrator asks it: the directory's writes and reads
/// of contacts, the listing of the company's contacts (``IntakeContext/listContacts(_:caller:)``),
/// opening for a colleague and cancelling a colleague's ticket (the ``TicketDecisionRule``). The
/// gateway also signs `organization_admin` only while the flag is there (docs/GATEWAY.md,
/// "Company administrators follow the contact's flag"), which workflow's `AnswerSolution` trusts.
enum CompanyAdministrator {
    static func acts(_ caller: Caller, me: IntakeV1.Contact?, organizationID: String) -> Bool {
        guard caller.isCustomer, !caller.isRepresentative, caller.principal.organizationAdmin,
              caller.canSee(organizationID: organizationID), let me else { return false }
        return me.id == caller.id && me.active && me.admin && me.organizationID == organizationID
    }
}
