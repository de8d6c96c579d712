import Messages
import RPC

/// Who may be a ticket's contact: one active contact of the ticket's organization, authorized to
/// open tickets. Opening a ticket and changing a ticket's contact (`ChangeTicketContact`) apply
/// this one rule; before 2026-12-02 a change accepted a contact not authorized to open tickets.
enum TicketContactRule {
    /// The violation naming `field` when `contact` may not be a ticket's contact in
    /// `organizationID`; `nil` when it may.
    static func violation(_ contact: IntakeV1.Contact, organizationID: String, field: String = "contact_id") -> FieldViolation? {
        if contact.organizationID != organizationID {
            return FieldViolation(field: field, reason: "other_organization", pt: "O contato não é desta organização.",
                                  en: "The contact does not belong to this organization.")
        }
        if !contact.active {
            return FieldViolation(field: field, reason: "inactive", pt: "Contato desativado.", en: "Inactive contact.")
        }
        if !contact.authorized {
            return FieldViolation(field: field, reason: "not_authorized", pt: "Contato não autorizado a abrir ocorrências.",
                                  en: "Contact not authorized to open tickets.")
        }
        return nil
    }
}
