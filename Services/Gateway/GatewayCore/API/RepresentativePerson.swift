import Messages

/// The intake person a representative's login is: one of the representative's people
/// (`RepresentativeContact`), who must exist and be active when an administrator makes the
/// login (`POST /v1/users` or `POST /v1/invitations` with role `representative`): 400 naming
/// `representative_id` or `contact_id` (`required`, `not_found`; `inactive` for the person)
/// otherwise, and must not have a login already (409 naming `contact_id`, `has_sign_in`). Intake
/// is asked as the caller (it lets staff list a representative's people).
enum RepresentativePerson {
    static func check(contactID: String?, representativeID: String?, context: RequestContext) throws {
        guard let representativeID, !representativeID.isEmpty, let contactID, !contactID.isEmpty else {
            throw APIError.invalid((representativeID ?? "").isEmpty ? "representative_id" : "contact_id", "required",
                                   pt: "Informe o representante e a pessoa do representante (contact_id).",
                                   en: "Give the representative and the representative's person (contact_id).")
        }
        var request = IntakeV1.RepresentativeRequest()
        request.representativeID = representativeID
        request.includeInactive = true
        let people = try context.call("intake", IntakeV1.Intake.listRepresentativeContacts, request, notFound: "representative_id",
                                      pt: "Representante não encontrado.", en: "No such representative.").contacts
        guard let person = people.first(where: { $0.id == contactID }) else {
            throw APIError.invalid("contact_id", "not_found", pt: "Pessoa não encontrada neste representante.",
                                   en: "No such person of this representative.")
        }
        guard person.active else {
            throw APIError.invalid("contact_id", "inactive", pt: "A pessoa do representante está inativa.", en: "The representative's person is inactive.")
        }
        // One login per person, as for customers' contacts (409 naming contact_id).
        try InvitedContact.requireNoSignIn(LinkedContact(contactID: contactID, owner: .representative(representativeID)), context: context)
    }
}
