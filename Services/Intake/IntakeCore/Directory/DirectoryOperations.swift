import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// The customer directory's operations, with their validation and permission rules.
extension IntakeContext {
    /// Creates an organization (staff only). The tax id must be a valid CPF or CNPJ; a person's
    /// must be a CPF, a company's a CNPJ. A new organization is active, like a new contact or
    /// representative (`active` cannot be told apart from "not given" on the wire); an update
    /// deactivates it.
    /// An `idempotency-key` makes a retry answer the first call's organization (an integration
    /// syncing its customers may retry after a timeout without a second organization).
    /// - Throws: `INVALID_ARGUMENT` naming each bad field; `ALREADY_EXISTS` for a taken code or tax id.
    public func createOrganization(_ request: IntakeV1.Organization, caller: Caller, idempotencyKey: String? = nil) throws -> IntakeV1.Organization {
        try caller.requireStaff()
        var value = try validatedOrganization(request)
        value.id = Self.newID()
        value.createdAtMs = Self.now()
        value.active = true
        do {
            return try Idempotent.write(database, key: idempotencyKey, scope: "intake.CreateOrganization|\(caller.id)", request) { tx in
                var stored = value
                if stored.code.isEmpty { stored.code = try DirectoryStore.nextOrganizationCode(tx) }
                try DirectoryStore.insert(tx, stored)
                return stored
            }
        } catch let error as StorageError where error.kind == .uniqueViolation {
            throw RPCError(.alreadyExists, "código ou CPF/CNPJ já cadastrado / code or tax id already registered")
        }
    }

    /// Updates an organization's fields (staff only); its code and creation time stay.
    public func updateOrganization(_ request: IntakeV1.Organization, caller: Caller) throws -> IntakeV1.Organization {
        try caller.requireStaff()
        let value = try validatedOrganization(request)
        do {
            return try write("UpdateOrganization", caller, request) { tx in
                guard var stored = try DirectoryStore.organization(tx, id: request.id) else {
                    throw RPCError(.notFound, "organização não encontrada / organization not found")
                }
                let code = stored.code, created = stored.createdAtMs, previousPlan = stored.plan
                stored = value
                stored.code = code
                stored.createdAtMs = created
                _ = try DirectoryStore.update(tx, stored)
                if stored.plan != previousPlan {
                    // Open tickets follow the new plan's SLA (workflow applies it).
                    var changed = IntakeV1.OrganizationPlanChanged()
                    changed.organizationID = stored.id
                    changed.previousPlan = previousPlan
                    changed.plan = stored.plan
                    changed.changedBy = caller.id
                    changed.changedAtMs = Self.now()
                    try publisher.publish(tx, event: changed, key: stored.id)
                }
                try publishDirectoryChange(tx, kind: "organization", id: stored.id, organizationID: stored.id, caller: caller)
                return stored
            }
        } catch let error as StorageError where error.kind == .uniqueViolation {
            throw RPCError(.alreadyExists, "CPF/CNPJ já cadastrado / tax id already registered")
        }
    }

    private func validatedOrganization(_ request: IntakeV1.Organization) throws -> IntakeV1.Organization {
        var value = request
        var violations = Violations()
        value.name = value.name.trimmingCharacters(in: .whitespacesAndNewlines)
        violations.required("name", value.name)
        violations.maxLength("name", value.name, 200)
        value.code = value.code.trimmingCharacters(in: .whitespaces).uppercased()
        violations.maxLength("code", value.code, 40)
        // The plan travels on every ticket and event of the organization.
        violations.maxLength("plan", value.plan, 100)
        violations.maxLength("plan_includes", value.planIncludes, 10_000)
        violations.maxLength("account_owner_agent_id", value.accountOwnerAgentID, 100)
        if value.kind == .unspecified {
            violations.add("kind", "required", pt: "Informe o tipo: cliente, prospect, fornecedor ou pessoa.",
                           en: "Choose the kind: customer, prospect, supplier or person.")
        }
        if !value.taxID.isEmpty {
            switch TaxID.parse(value.taxID) {
            case .cpf(let cpf)?:
                value.taxID = cpf
            case .cnpj(let cnpj)?:
                value.taxID = cnpj
                if value.kind == .organizationPerson {
                    violations.add("tax_id", "cnpj_for_person", pt: "Pessoa física usa CPF.", en: "A person has a CPF.")
                }
            case nil:
                violations.add("tax_id", "invalid_check_digits",
                               pt: "CPF ou CNPJ inválido (dígitos verificadores).", en: "Invalid CPF or CNPJ (check digits).")
            }
        } else if value.kind == .organizationCustomer || value.kind == .organizationSupplier {
            violations.add("tax_id", "required", pt: "Informe o CNPJ ou CPF.", en: "Enter the CNPJ or CPF.")
        }
        if !value.email.isEmpty && !Self.looksLikeEmail(value.email) {
            violations.add("email", "invalid_email", pt: "E-mail inválido.", en: "Invalid e-mail address.")
        }
        try violations.check()
        return value
    }

    /// One organization; customers only their own.
    public func getOrganization(_ id: String, caller: Caller) throws -> IntakeV1.Organization {
        guard caller.canSee(organizationID: id) else { throw Denied.otherOrganization }
        guard let value = try database.read({ try DirectoryStore.organization($0, id: id) }) else {
            throw RPCError(.notFound, "organização não encontrada / organization not found")
        }
        return value
    }

    /// Adds a contact: staff for any organization, a company's administrator for their own.
    /// An `idempotency-key` makes a retry answer the first call's contact.
    public func addContact(_ request: IntakeV1.Contact, caller: Caller, idempotencyKey: String? = nil) throws -> IntakeV1.Contact {
        try requireContactManager(caller, organizationID: request.organizationID)
        let (checked, faults) = checkedContact(request)
        var value = checked
        value.id = Self.newID()
        value.createdAtMs = Self.now()
        if request.id.isEmpty && !request.active { value.active = true }
        let stored = value, found = faults
        return try Idempotent.write(database, key: idempotencyKey, scope: "intake.AddContact|\(caller.id)", request) { tx in
            // The request's faults and an unknown organization in one answer.
            var violations = found
            if !stored.organizationID.isEmpty, try DirectoryStore.organization(tx, id: stored.organizationID) == nil {
                violations.notFound("organization_id")
            }
            try violations.check()
            try DirectoryStore.insert(tx, stored)
            return stored
        }
    }

    /// Updates a contact's name, e-mail, phone and flags (not its organization).
    public func updateContact(_ request: IntakeV1.Contact, caller: Caller) throws -> IntakeV1.Contact {
        let existing = try database.read { try DirectoryStore.contact($0, id: request.id) }
        guard let existing else { throw RPCError(.notFound, "contato não encontrado / contact not found") }
        try requireContactManager(caller, organizationID: existing.organizationID)
        var value = try validatedContact(request, organizationID: existing.organizationID)
        value.id = existing.id
        value.createdAtMs = existing.createdAtMs
        if !caller.isStaffOrSystem {
            // Who is the company's administrator is support's decision (the gateway's sign-in
            // role, which only an administrator sets): the company's administrator keeps the flag
            // as it is, and deactivates neither themselves nor another administrator.
            value.admin = existing.admin
            if existing.active && !value.active { try Self.requireRemovable(existing, by: caller) }
        }
        let changed = value
        return try write("UpdateContact", caller, request) { tx in
            try DirectoryStore.update(tx, changed)
            try publishDirectoryChange(tx, kind: "contact", id: changed.id, organizationID: changed.organizationID, caller: caller)
            return changed
        }
    }

    /// Activates or deactivates a contact.
    public func setContactActive(_ id: String, active: Bool, caller: Caller) throws -> IntakeV1.Contact {
        guard var existing = try database.read({ try DirectoryStore.contact($0, id: id) }) else {
            throw RPCError(.notFound, "contato não encontrado / contact not found")
        }
        try requireContactManager(caller, organizationID: existing.organizationID)
        if !active && !caller.isStaffOrSystem { try Self.requireRemovable(existing, by: caller) }
        existing.active = active
        let value = existing
        return try write("SetContactActive", caller, fingerprint: Array("\(id)|\(active)".utf8)) { tx in
            try DirectoryStore.update(tx, value)
            try publishDirectoryChange(tx, kind: "contact", id: value.id, organizationID: value.organizationID, caller: caller)
            return value
        }
    }

    /// One contact, for those who may change it: staff, or their company's administrator.
    /// - Throws: `NOT_FOUND`; `PERMISSION_DENIED` for other callers, as `UpdateContact`.
    public func getContact(_ id: String, caller: Caller) throws -> IntakeV1.Contact {
        guard let contact = try database.read({ try DirectoryStore.contact($0, id: id) }) else {
            throw RPCError(.notFound, "contato não encontrado / contact not found")
        }
        try requireContactManager(caller, organizationID: contact.organizationID)
        return contact
    }

    /// Deletes a contact never linked to a ticket, publishing `DirectoryChanged` as a
    /// deactivation does.
    /// - Throws: `FAILED_PRECONDITION` when a ticket names the contact (deactivate it instead).
    public func deleteContact(_ id: String, caller: Caller) throws {
        guard let existing = try database.read({ try DirectoryStore.contact($0, id: id) }) else {
            throw RPCError(.notFound, "contato não encontrado / contact not found")
        }
        try requireContactManager(caller, organizationID: existing.organizationID)
        if !caller.isStaffOrSystem { try Self.requireRemovable(existing, by: caller) }
        try database.write { tx in
            // `linked` is set in the transaction that links a ticket, and the delete re-checks it
            // in its own: a contact never disappears under a ticket.
            let deleted = try tx.execute("DELETE FROM contacts WHERE id = ? AND linked = 0", [.text(id)])
            if deleted == 0 {
                throw RPCError(.failedPrecondition,
                               "contato ligado a ocorrências: apenas desative / contact linked to tickets: deactivate it instead")
            }
            try NameWords.remove(tx, .contact, id: id)
            // Gateways end the sign-ins that followed the contact (it is nobody now).
            try publishDirectoryChange(tx, kind: "contact", id: id, organizationID: existing.organizationID, caller: caller)
        }
    }

    /// Creates a representative and the organizations they open tickets for (staff only).
    /// An `idempotency-key` makes a retry answer the first call's representative.
    public func createRepresentative(_ request: IntakeV1.Representative, caller: Caller, idempotencyKey: String? = nil) throws
        -> IntakeV1.Representative {
        try caller.requireStaff()
        let (checked, faults) = checkedRepresentative(request)
        var value = checked
        value.id = Self.newID()
        if request.id.isEmpty { value.active = true }
        let stored = value, found = faults
        return try Idempotent.write(database, key: idempotencyKey, scope: "intake.CreateRepresentative|\(caller.id)", request) { tx in
            try Self.requireOrganizations(tx, stored.organizationIDs, with: found)
            try DirectoryStore.insert(tx, stored, createdAt: Self.now())
            return stored
        }
    }

    /// Finds customers by code, the start of any word of their name, CPF/CNPJ or e-mail (staff only).
    public func lookupCustomers(_ request: IntakeV1.LookupCustomersRequest, caller: Caller) throws -> IntakeV1.LookupCustomersResponse {
        try caller.requireStaff()
        let limit = try PageSize.resolve(request.limit, field: "limit", default: 20, maximum: 200)
        return try database.read { try DirectoryStore.lookup($0, query: request.query, limit: limit) }
    }

    /// Staff, or the administrator of the organization who is one of its active contacts with
    /// the `admin` flag (as the directory says now, ``CompanyAdministrator``: a signed principal
    /// naming no contact — an API key with a customer's role — manages none).
    private func requireContactManager(_ caller: Caller, organizationID: String) throws {
        if caller.isStaffOrSystem { return }
        let refused = RPCError(.permissionDenied, "apenas a equipe ou o administrador da empresa / only staff or the company's administrator")
        guard caller.isCustomer, caller.principal.organizationAdmin, caller.canSee(organizationID: organizationID) else { throw refused }
        let me = try database.read { try DirectoryStore.contact($0, id: caller.id) }
        guard CompanyAdministrator.acts(caller, me: me, organizationID: organizationID) else { throw refused }
    }

    /// A company's administrator deactivates or deletes the company's other contacts, not
    /// their own contact nor another administrator's: either would end that administrator's
    /// sign-in (the gateway follows the contact), and a company could lose its last
    /// administrator without support knowing. Staff may.
    /// - Throws: `PERMISSION_DENIED`.
    static func requireRemovable(_ contact: IntakeV1.Contact, by caller: Caller) throws {
        if contact.id == caller.id {
            throw RPCError(.permissionDenied, "você não pode desativar o seu próprio contato; peça ao suporte / you cannot deactivate your own contact; ask support")
        }
        if contact.admin {
            throw RPCError(.permissionDenied,
                           "só o suporte desativa um administrador da empresa / only support deactivates a company's administrator")
        }
    }

    private func validatedContact(_ request: IntakeV1.Contact, organizationID: String? = nil) throws -> IntakeV1.Contact {
        let (value, violations) = checkedContact(request, organizationID: organizationID)
        try violations.check()
        return value
    }

    /// The contact as stored and the request's own faults, not thrown yet (``addContact`` adds
    /// an unknown organization, so one answer names every offending field).
    private func checkedContact(_ request: IntakeV1.Contact, organizationID: String? = nil) -> (IntakeV1.Contact, Violations) {
        var value = request
        if let organizationID { value.organizationID = organizationID }
        var violations = Violations()
        violations.required("organization_id", value.organizationID)
        Self.checkPerson(name: &value.name, email: &value.email, phone: value.phone, &violations)
        return (value, violations)
    }

    /// Trims a person's name and e-mail and checks them: a name of at most 200 characters, a
    /// valid e-mail when one is given, a phone of at most 60 characters, and an e-mail or a phone
    /// to reach them.
    static func checkPerson(name: inout String, email: inout String, phone: String, _ violations: inout Violations) {
        checkPerson(name: &name, email: &email, phone: phone, needsChannel: true, &violations)
    }

    /// ``checkPerson(name:email:phone:_:)``; `needsChannel` false for a representative, whom
    /// their own people stand for.
    static func checkPerson(name: inout String, email: inout String, phone: String, needsChannel: Bool, _ violations: inout Violations) {
        name = name.trimmingCharacters(in: .whitespacesAndNewlines)
        email = email.trimmingCharacters(in: .whitespacesAndNewlines)
        violations.required("name", name)
        violations.maxLength("name", name, 200)
        if !email.isEmpty && !looksLikeEmail(email) {
            violations.add("email", "invalid_email", pt: "E-mail inválido.", en: "Invalid e-mail address.")
        }
        // The phone travels on every ticket and event the person is named in.
        violations.maxLength("phone", phone, 60)
        if needsChannel && email.isEmpty && phone.isEmpty {
            violations.add("email", "contact_channel_required", pt: "Informe e-mail ou telefone.", en: "Enter an e-mail or a phone.")
        }
    }

    /// Whether `text` is an address intake keeps: the deployment's one rule
    /// (``EmailAddressRule/isWellFormed(_:)``), since addresses go as they are into mail headers and
    /// SMTP commands.
    static func looksLikeEmail(_ text: String) -> Bool {
        EmailAddressRule.isWellFormed(text)
    }
}
