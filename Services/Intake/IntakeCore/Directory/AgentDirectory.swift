import Foundation
import Messages
import RPC
import ServiceKit
import Storage

/// The directory as agents browse and maintain it: organizations page by page, representatives
/// with the organizations they act for and their own contacts. Staff only.
extension IntakeContext {
    /// One page of organizations ordered by name (then id), optionally only those whose name
    /// starts with `namePrefix` (case and accents ignored) or of one kind.
    ///
    /// Paging is by key, not offset: `nextPageToken` names the last organization returned, so a
    /// page costs the same however deep it is and organizations added meanwhile are neither
    /// skipped nor repeated.
    /// - Throws: `PERMISSION_DENIED` for customers; `INVALID_ARGUMENT` for a malformed token.
    public func listOrganizations(_ request: IntakeV1.ListOrganizationsRequest, caller: Caller) throws
        -> IntakeV1.ListOrganizationsResponse {
        try caller.requireStaff()
        let pageSize = try PageSize.resolve(request.pageSize, field: "page_size", default: 50, maximum: 500)
        let after = try request.pageToken.isEmpty ? nil : OrganizationCursor(token: request.pageToken)
        return try database.read { tx in
            var conditions: [String] = []
            var params: [SQLValue] = []
            let prefix = DirectoryStore.foldKey(request.namePrefix)
            if !prefix.isEmpty {
                conditions.append("name_key >= ? AND name_key < ?")
                params += [.text(prefix), .text(DirectoryStore.prefixEnd(prefix))]
            }
            if let after {
                conditions.append("(name_key > ? OR (name_key = ? AND id > ?))")
                params += [.text(after.nameKey), .text(after.nameKey), .text(after.id)]
            }
            if !request.includeInactive { conditions.append("active = 1") }
            if request.kind != .unspecified {
                conditions.append("kind = ?")
                params.append(.integer(Int64(request.kind.rawValue)))
            }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let rows = try tx.query("""
                SELECT \(DirectoryStore.organizationColumns), name_key FROM organizations \(filter)
                ORDER BY name_key, id LIMIT ?
                """, params + [.integer(Int64(pageSize + 1))])
            var response = IntakeV1.ListOrganizationsResponse()
            response.organizations = try rows.prefix(pageSize).map(DirectoryStore.organization)
            if rows.count > pageSize, let last = rows.prefix(pageSize).last {
                response.nextPageToken = OrganizationCursor(nameKey: try last.text("name_key"), id: try last.text("id")).token
            }
            return response
        }
    }

    /// One representative with the organizations they act for.
    public func getRepresentative(_ id: String, caller: Caller) throws -> IntakeV1.Representative {
        try caller.requireStaff()
        guard let value = try database.read({ try DirectoryStore.representative($0, id: id) }) else {
            throw RPCError(.notFound, "representante não encontrado / representative not found")
        }
        return value
    }

    /// Replaces a representative's name, e-mail, phone, active flag and the organizations they
    /// act for (staff only). Tickets already opened keep the representative they named.
    /// - Throws: `NOT_FOUND`; `INVALID_ARGUMENT` naming each bad field or unknown organization.
    public func updateRepresentative(_ request: IntakeV1.Representative, caller: Caller) throws -> IntakeV1.Representative {
        try caller.requireStaff()
        let (value, faults) = checkedRepresentative(request)
        return try write("UpdateRepresentative", caller, request) { tx in
            guard let before = try DirectoryStore.representative(tx, id: request.id) else {
                throw RPCError(.notFound, "representante não encontrado / representative not found")
            }
            try Self.requireOrganizations(tx, value.organizationIDs, with: faults)
            try DirectoryStore.update(tx, value)
            let after = try DirectoryStore.representative(tx, id: value.id) ?? value
            try publishRepresentativeAccess(tx, before: before, after: after, caller: caller)
            return after
        }
    }

    /// The organizations a representative acts for, ordered by name.
    public func representativeOrganizations(_ request: IntakeV1.RepresentativeRequest, caller: Caller) throws
        -> IntakeV1.ListOrganizationsResponse {
        try caller.requireStaff()
        return try database.read { tx in
            guard try DirectoryStore.representative(tx, id: request.representativeID) != nil else {
                throw RPCError(.notFound, "representante não encontrado / representative not found")
            }
            let columns = DirectoryStore.organizationColumns.split(separator: ",")
                .map { "o.\($0.trimmingCharacters(in: .whitespaces))" }.joined(separator: ", ")
            var response = IntakeV1.ListOrganizationsResponse()
            response.organizations = try tx.query("""
                SELECT \(columns) FROM representative_organizations r JOIN organizations o ON o.id = r.organization_id
                WHERE r.representative_id = ?\(request.includeInactive ? "" : " AND o.active = 1") ORDER BY o.name_key, o.id
                """, [.text(request.representativeID)]).map(DirectoryStore.organization)
            return response
        }
    }

    /// The representatives acting for an organization, by name (only active ones unless
    /// `includeInactive`), with every organization they act for so a page can name them.
    /// - Throws: `PERMISSION_DENIED` for customers; `NOT_FOUND` for an unknown organization.
    public func organizationRepresentatives(_ request: IntakeV1.ListOrganizationRepresentativesRequest, caller: Caller) throws
        -> IntakeV1.ListOrganizationRepresentativesResponse {
        try caller.requireStaff()
        return try database.read { tx in
            guard try DirectoryStore.organization(tx, id: request.organizationID) != nil else {
                throw RPCError(.notFound, "organização não encontrada / organization not found")
            }
            var response = IntakeV1.ListOrganizationRepresentativesResponse()
            response.representatives = try DirectoryStore.representatives(tx, organizationID: request.organizationID,
                                                                           includeInactive: request.includeInactive)
            let named = Set(response.representatives.flatMap(\.organizationIDs)).union([request.organizationID])
            response.organizations = try named.compactMap { try DirectoryStore.organization(tx, id: $0) }
                .sorted { (DirectoryStore.foldKey($0.name), $0.id) < (DirectoryStore.foldKey($1.name), $1.id) }
            return response
        }
    }

    /// One person of a representative (staff only).
    public func getRepresentativeContact(_ id: String, caller: Caller) throws -> IntakeV1.RepresentativeContact {
        try caller.requireStaff()
        guard let value = try database.read({ try DirectoryStore.representativeContact($0, id: id) }) else {
            throw RPCError(.notFound, "contato não encontrado / contact not found")
        }
        return value
    }

    /// Adds a person of a representative (staff only). An `idempotency-key` makes a retry answer
    /// the first call's person.
    public func addRepresentativeContact(_ request: IntakeV1.RepresentativeContact, caller: Caller, idempotencyKey: String? = nil) throws
        -> IntakeV1.RepresentativeContact {
        try caller.requireStaff()
        let (checked, faults) = checkedRepresentativeContact(request)
        var value = checked
        value.id = Self.newID()
        value.createdAtMs = Self.now()
        if request.id.isEmpty { value.active = true }
        let stored = value, found = faults
        return try Idempotent.write(database, key: idempotencyKey, scope: "intake.AddRepresentativeContact|\(caller.id)", request) { tx in
            // The request's faults and an unknown representative in one answer.
            var violations = found
            if !stored.representativeID.isEmpty, try DirectoryStore.representative(tx, id: stored.representativeID) == nil {
                violations.notFound("representative_id")
            }
            try violations.check()
            try DirectoryStore.insert(tx, stored)
            return stored
        }
    }

    /// Updates a representative's contact (name, e-mail, phone, active; not whose contact it is).
    public func updateRepresentativeContact(_ request: IntakeV1.RepresentativeContact, caller: Caller) throws
        -> IntakeV1.RepresentativeContact {
        try caller.requireStaff()
        return try write("UpdateRepresentativeContact", caller, request) { tx in
            guard let existing = try DirectoryStore.representativeContact(tx, id: request.id) else {
                throw RPCError(.notFound, "contato não encontrado / contact not found")
            }
            var changed = request
            changed.representativeID = existing.representativeID
            let (checked, faults) = checkedRepresentativeContact(changed)
            try faults.check()
            var value = checked
            value.createdAtMs = existing.createdAtMs
            try DirectoryStore.update(tx, value)
            try publishRepresentativeContactAccess(tx, before: existing, after: value, caller: caller)
            return value
        }
    }

    /// A representative's own contacts, ordered by name.
    public func representativeContacts(_ request: IntakeV1.RepresentativeRequest, caller: Caller) throws
        -> IntakeV1.ListRepresentativeContactsResponse {
        try caller.requireStaff()
        return try database.read { tx in
            guard try DirectoryStore.representative(tx, id: request.representativeID) != nil else {
                throw RPCError(.notFound, "representante não encontrado / representative not found")
            }
            var response = IntakeV1.ListRepresentativeContactsResponse()
            response.contacts = try DirectoryStore.representativeContacts(tx, representativeID: request.representativeID,
                                                                          includeInactive: request.includeInactive)
            return response
        }
    }

    /// The most organizations one representative acts for (a request's `organization_ids`).
    static let maxRepresentedOrganizations = 5_000

    /// The representative as stored and the request's own faults, not thrown yet: the caller's
    /// transaction adds its unknown organizations (``requireOrganizations(_:_:with:)``), so one
    /// answer names every offending field.
    func checkedRepresentative(_ request: IntakeV1.Representative) -> (IntakeV1.Representative, Violations) {
        var violations = Violations()
        var value = request
        Self.checkPerson(name: &value.name, email: &value.email, phone: value.phone, needsChannel: false, &violations)
        // Each organization is read and, when missing, named: bounded like every list of a request.
        if value.organizationIDs.count > Self.maxRepresentedOrganizations {
            violations.add("organization_ids", "too_many", pt: "No máximo \(Self.maxRepresentedOrganizations) organizações.",
                           en: "At most \(Self.maxRepresentedOrganizations) organizations.")
        }
        return (value, violations)
    }

    /// Throws `INVALID_ARGUMENT` naming the request's faults (`found`) and each of `ids` that is
    /// no organization, together (a list over the limit is not read: `found` names it).
    static func requireOrganizations(_ tx: any SQLExecutor, _ ids: [String], with found: Violations) throws {
        var violations = found
        if ids.count <= maxRepresentedOrganizations {
            for (index, organization) in ids.enumerated() where try DirectoryStore.organization(tx, id: organization) == nil {
                violations.notFound("organization_ids[\(index)]")
            }
        }
        try violations.check()
    }

    /// A representative's person as stored and the request's own faults, not thrown yet (the
    /// caller adds an unknown representative).
    private func checkedRepresentativeContact(_ request: IntakeV1.RepresentativeContact) -> (IntakeV1.RepresentativeContact, Violations) {
        var value = request
        var violations = Violations()
        violations.required("representative_id", value.representativeID)
        Self.checkPerson(name: &value.name, email: &value.email, phone: value.phone, &violations)
        return (value, violations)
    }
}

/// Where a page of ``IntakeContext/listOrganizations(_:caller:)`` stopped: the folded name and id
/// of its last organization, as an opaque URL-safe token.
struct OrganizationCursor: Equatable {
    var nameKey: String
    var id: String

    init(nameKey: String, id: String) {
        self.nameKey = nameKey
        self.id = id
    }

    /// - Throws: `INVALID_ARGUMENT` (`page_token`) for a token this service did not make.
    init(token: String) throws {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8),
              let separator = text.firstIndex(of: "\u{0}") else {
            var violations = Violations()
            violations.add("page_token", "invalid_page_token", pt: "Token de página inválido.", en: "Invalid page token.")
            try violations.check()
            throw RPCError(.invalidArgument, "invalid page token")
        }
        nameKey = String(text[..<separator])
        id = String(text[text.index(after: separator)...])
    }

    var token: String {
        Data("\(nameKey)\u{0}\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
