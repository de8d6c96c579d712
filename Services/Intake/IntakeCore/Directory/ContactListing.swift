import Foundation
import Messages
import RPC
import Storage

/// Listing one organization's contacts (the portal's contact picker, agents' directory pages).
extension IntakeContext {
    /// The contacts of `request.organizationID`, ordered by name.
    ///
    /// Allowed to staff and internal systems; to the organization's own administrator (the signed
    /// role **and** their contact's `admin` flag as the directory says now, ``CompanyAdministrator``:
    /// before 2026-12-02 the signed role alone, so a contact support had taken the flag from kept
    /// listing the company's contacts); and to a representative's person when the representative
    /// acts for the organization — checked in intake's directory now (person and representative
    /// active, organization represented), not only from the signed principal. Other customers (a
    /// company's plain contacts, an API key with a customer's role) are refused.
    ///
    /// - Throws: `PERMISSION_DENIED`; `INVALID_ARGUMENT` without `organization_id`; `NOT_FOUND`
    ///   for an unknown organization (staff) — others get `PERMISSION_DENIED` first.
    public func listContacts(_ request: IntakeV1.ListContactsRequest, caller: Caller) throws -> IntakeV1.ListContactsResponse {
        var violations = Violations()
        violations.required("organization_id", request.organizationID)
        if request.contactIDs.count > 1000 {
            violations.add("contact_ids", "too_many", pt: "No máximo 1000 ids.", en: "At most 1000 ids.")
        }
        try violations.check()
        let companyContact = caller.isCustomer && !caller.isRepresentative
        let refused = RPCError(.permissionDenied,
                               "apenas a equipe, o administrador da empresa ou seu representante / only staff, the company's administrator or its representative")
        if companyContact {
            guard caller.principal.organizationAdmin, caller.canSee(organizationID: request.organizationID) else { throw refused }
        } else if !caller.isRepresentative {
            try caller.requireStaff()
        }
        return try database.read { tx in
            if caller.isRepresentative, try !representativeActs(tx, caller, organizationID: request.organizationID) {
                throw Denied.otherOrganization
            }
            if companyContact, !CompanyAdministrator.acts(caller, me: try DirectoryStore.contact(tx, id: caller.id),
                                                          organizationID: request.organizationID) {
                throw refused
            }
            guard try DirectoryStore.organization(tx, id: request.organizationID) != nil else {
                throw RPCError(.notFound, "organização não encontrada / organization not found")
            }
            var conditions = "organization_id = ?"
            if !request.includeInactive { conditions += " AND active = 1" }
            if request.authorizedOnly { conditions += " AND authorized = 1" }
            var parameters: [SQLValue] = [.text(request.organizationID)]
            let ids = Array(Set(request.contactIDs))
            if !ids.isEmpty {
                conditions += " AND id IN (\(Array(repeating: "?", count: ids.count).joined(separator: ", ")))"
                parameters += ids.map { .text($0) }
            }
            var response = IntakeV1.ListContactsResponse()
            response.contacts = try tx.query("SELECT \(DirectoryStore.contactColumns) FROM contacts WHERE \(conditions) ORDER BY name_key, id",
                                             parameters).map(DirectoryStore.contact)
            return response
        }
    }
}
