import Messages

/// The intake contact a customer's login is: a customer signs in as one of its organization's
/// contacts (the principal's id), and intake answers only its own active contacts. An invitation
/// (`POST /v1/invitations`) for a customer role therefore links the new login to a contact of the
/// invited organization:
/// - `contact_id` given: it must be an active contact of that organization, authorized to open
///   tickets (400 naming `contact_id` otherwise);
/// - none given: the organization's active contact with the invited e-mail is used, made
///   authorized if it was not; without one, a contact is added (name, e-mail, phone; authorized,
///   and the company's administrator for a `customer_admin`);
/// - either way the contact must not have a sign-in already (409 naming `contact_id`): one
///   person, one login. A contact given for a `customer_admin` is marked the company's
///   administrator in intake.
///
/// Intake is asked as the caller (staff, or the company's administrator for their own
/// organization), so it checks the caller may manage the organization's contacts itself.
///
/// The same rules hold for every way a customer login is made: invitations and an
/// administrator's `POST /v1/users`.
enum InvitedContact {
    /// The contact id the new customer login of `email` is linked to.
    /// - Throws: 409 when the e-mail is taken (before intake is asked to add a contact); 400
    ///   naming `contact_id` (`not_found`, `inactive`, `not_authorized`) or `organization_id`
    ///   (`not_found`); what intake answers otherwise (403 for a caller who may not manage the
    ///   organization's contacts).
    /// - Parameter addressChecked: the caller decided about the address already (a company
    ///   administrator's invitation: ``QuietInvitation/owner(email:organizationID:context:)``).
    static func resolve(contactID: String?, email: String, displayName: String, phone: String?, organizationID: String, role: Role,
                        addressChecked: Bool = false, context: RequestContext) throws -> String {
        if !addressChecked, try context.gateway.store.userWithHash(email: email) != nil { throw CredentialStore.emailTaken }
        var listing = IntakeV1.ListContactsRequest()
        listing.organizationID = organizationID
        listing.includeInactive = true
        let contacts = try context.call("intake", IntakeV1.Intake.listContacts, listing, notFound: "organization_id",
                                        pt: "Organização não encontrada.", en: "No such organization.").contacts
        if let contactID, !contactID.isEmpty {
            guard let contact = contacts.first(where: { $0.id == contactID }) else {
                throw APIError.invalid("contact_id", "not_found", pt: "Contato não encontrado nesta organização.",
                                       en: "No such contact in this organization.")
            }
            guard contact.active else {
                throw APIError.invalid("contact_id", "inactive", pt: "O contato está inativo.", en: "The contact is inactive.")
            }
            guard contact.authorized else {
                throw APIError.invalid("contact_id", "not_authorized", pt: "O contato não está autorizado a abrir ocorrências.",
                                       en: "The contact is not authorized to open tickets.")
            }
            try requireNoSignIn(contact, context: context)
            return try marked(contact, role: role, context: context).id
        }
        let address = SignInAddress.normalized(email)
        if let contact = contacts.first(where: { $0.active && SignInAddress.normalized($0.email) == address }) {
            try requireNoSignIn(contact, context: context)
            return try marked(contact, role: role, context: context).id
        }
        var contact = IntakeV1.Contact()
        contact.organizationID = organizationID
        contact.name = displayName.isEmpty ? email : displayName
        contact.email = email
        contact.phone = phone ?? ""
        contact.active = true
        contact.authorized = true
        contact.admin = role == .customerAdmin
        return try context.call("intake", IntakeV1.Intake.addContact, contact).id
    }

    /// `contact`, made authorized (and the company's administrator for a `customer_admin`
    /// sign-in: intake keeps a company's administrators from being deactivated by another) when
    /// it was not.
    private static func marked(_ contact: IntakeV1.Contact, role: Role, context: RequestContext) throws -> IntakeV1.Contact {
        guard !contact.authorized || (role == .customerAdmin && !contact.admin) else { return contact }
        var contact = contact
        contact.authorized = true
        contact.admin = contact.admin || role == .customerAdmin
        return try context.call("intake", IntakeV1.Intake.updateContact, contact)
    }

    /// One sign-in per contact: a second login linked to a contact that has one would act as
    /// that person (open tickets, reply, in their name) with another e-mail and password, so a
    /// company's administrator could speak for a colleague. 409 naming `contact_id`.
    /// For a company's administrator, a contact one of their quiet invitations names has one too
    /// (as the real invitation it stands for would have linked it).
    private static func requireNoSignIn(_ contact: IntakeV1.Contact, context: RequestContext) throws {
        try requireNoSignIn(LinkedContact(contactID: contact.id, owner: .organization(contact.organizationID)), context: context)
        if try !context.requirePrincipal().administrator,
           try context.gateway.store.hasQuietInvitation(contactID: contact.id, organizationID: contact.organizationID) {
            throw CredentialStore.contactHasSignIn
        }
    }

    /// ``requireNoSignIn(_:context:)`` for any intake person (a representative's too).
    static func requireNoSignIn(_ person: LinkedContact, context: RequestContext) throws {
        guard try context.gateway.store.signIns(of: person).isEmpty else { throw CredentialStore.contactHasSignIn }
    }
}
