import Storage

/// One e-mail recipient chosen for an event: an address, or a visible failure when the person
/// has none that is valid.
struct PlannedRecipient: Sendable, Equatable {
    /// The key of the delivery row: the normalized address, or `contact:<id>` / `group:<id>` when
    /// no valid address exists.
    var key: String
    var name: String
    var email: String
    /// The highest confidentiality level this recipient may read.
    var level: Int32
    /// The audience that named the address (`customer` when any of those that named it is:
    /// internal content stays out of the message, ``EventFacts/internalKeys``).
    var audience: NotificationRules.Audience
    /// Set when nothing can be sent; the row is recorded as `failed` with this answer.
    var failure: String?
    /// Person id for subscription checks (may be empty).
    var personID: String = ""
    /// A copy workflow vouched for: one of its active agents cleared for the ticket's level
    /// (``EventFacts/agentCopies``).
    var agentCopy = false

    /// Whether internal content (``EventFacts/internalKeys``: a transfer's note) may reach this
    /// recipient: the team only (holder, chefe, a copy that is one of workflow's agents cleared
    /// for the ticket). Never the customer, nor the other copies — addresses the transferring
    /// agent typed (a supplier, someone at the customer), which nobody vouched for.
    var readsInternal: Bool { audience == .holder || audience == .chefe || (audience == .copies && agentCopy) }

    /// Which audience an address named twice reads as: the customer (internal content stays out
    /// of their message), then the team (holder, chefe: same template, same content), then a
    /// copy workflow vouched for, then any other copy (level 0, the copies' template).
    var precedence: Int {
        switch audience {
        case .customer: 3
        case .holder, .chefe: 2
        case .copies: agentCopy ? 1 : 0
        }
    }
}

/// Applies the rules to an event: audiences → people → addresses, minus unsubscribed people and
/// anyone the event's confidentiality excludes.
struct RecipientResolver {
    var rules: NotificationRules

    /// - Parameter isEnabled: whether any of a person's keys (address, id) is subscribed to a kind.
    func recipients(for facts: EventFacts, _ executor: any SQLExecutor,
                    isEnabled: ([String], String) throws -> Bool) throws -> [PlannedRecipient] {
        var planned: [PlannedRecipient] = []
        // Every rule of the kind whose filter matches the ticket: a union of recipients.
        for rule in rules.rules(of: facts.kind, ticket: facts.traits) {
            plan(rule, facts, into: &planned)
        }
        // One message per address per event, whichever audiences (and rules) named it, merged so
        // that the order of the rules (and of their audiences) never changes the message
        // (docs/NOTIFICATION.md, "Several rules per kind"): the highest level; the name and person
        // id of whichever named them (a fixed address has none, the holder has both: the person's
        // switches apply); the most entitled audience (``PlannedRecipient/precedence``).
        var seen: [String: Int] = [:]
        var unique: [PlannedRecipient] = []
        for recipient in planned {
            guard let index = seen[recipient.key] else {
                seen[recipient.key] = unique.count
                unique.append(recipient)
                continue
            }
            var merged = unique[index]
            merged.level = max(merged.level, recipient.level)
            if merged.name.isEmpty { merged.name = recipient.name }
            if merged.personID.isEmpty { merged.personID = recipient.personID }
            if recipient.precedence > merged.precedence {
                merged.audience = recipient.audience
                merged.agentCopy = recipient.agentCopy
            }
            unique[index] = merged
        }
        return try unique.filter { recipient in
            try isEnabled([recipient.key, recipient.personID].filter { !$0.isEmpty }, facts.kind)
        }
    }

    /// Appends the recipients `rule` names for the event: its audiences, then its fixed addresses
    /// (read like a transfer's copies: level 0, no internal content; an invalid stored one is a
    /// visible failure).
    private func plan(_ rule: NotificationRules.Rule, _ facts: EventFacts, into planned: inout [PlannedRecipient]) {
        for audience in rule.audiences {
            switch audience {
            case .customer:
                // Internal entries never reach the customer, whatever the rules say.
                if facts.isInternal { continue }
                if let recipient = customer(facts) { planned.append(recipient) }
            case .holder:
                if let agent = facts.holderAgent {
                    planned.append(person(agent, level: facts.accessLevel, audience: .holder, what: "agente / agent"))
                } else if !facts.holderGroupID.isEmpty {
                    if let mailbox = rules.groupAddresses[facts.holderGroupID], EmailAddress.isValid(mailbox) {
                        planned.append(PlannedRecipient(key: EmailAddress.normalized(mailbox), name: facts.holderGroupName,
                                                        email: mailbox, level: facts.accessLevel, audience: .holder,
                                                        personID: facts.holderGroupID))
                    } else {
                        planned.append(PlannedRecipient(key: "group:\(facts.holderGroupID)", name: facts.holderGroupName, email: "",
                                                        level: facts.accessLevel, audience: .holder,
                                                        failure: "grupo sem endereço configurado / group without a configured address",
                                                        personID: facts.holderGroupID))
                    }
                }
            case .chefe:
                if let chefe = facts.chefe {
                    planned.append(person(chefe, level: facts.accessLevel, audience: .chefe, what: "chefe"))
                }
            case .copies:
                let agents = Set(facts.agentCopies.map(EmailAddress.normalized))
                for address in facts.copies {
                    let trimmed = address.trimmingCharacters(in: .whitespaces)
                    guard !trimmed.isEmpty else { continue }
                    planned.append(copy(trimmed, facts, agents: agents))
                }
            }
        }
        for address in rule.addresses { planned.append(copy(address, facts, agents: [])) }
    }

    /// A copy: an address nobody vouched for reads at level 0 (confidential content hidden, no
    /// internal note); one of workflow's agents cleared for the ticket (in `agents`, normalized)
    /// reads it as the holder does. An invalid address is a visible failure.
    private func copy(_ address: String, _ facts: EventFacts, agents: Set<String>) -> PlannedRecipient {
        guard EmailAddress.isValid(address) else {
            return PlannedRecipient(key: "invalid:\(address)", name: "", email: address, level: 0, audience: .copies,
                                    failure: "endereço inválido / invalid address")
        }
        let key = EmailAddress.normalized(address), agent = agents.contains(key)
        return PlannedRecipient(key: key, name: "", email: address, level: agent ? facts.accessLevel : 0, audience: .copies, agentCopy: agent)
    }

    /// The contact's address, falling back to the organization's; a failure when neither is valid.
    private func customer(_ facts: EventFacts) -> PlannedRecipient? {
        // Customers read their own ticket: its public content is theirs at any level.
        let level = facts.accessLevel
        let contact = facts.contact
        if let contact, EmailAddress.isValid(contact.email) {
            return PlannedRecipient(key: EmailAddress.normalized(contact.email), name: contact.name, email: contact.email,
                                    level: level, audience: .customer, personID: contact.id)
        }
        if EmailAddress.isValid(facts.organizationEmail) {
            return PlannedRecipient(key: EmailAddress.normalized(facts.organizationEmail), name: contact?.name ?? "",
                                    email: facts.organizationEmail, level: level, audience: .customer, personID: contact?.id ?? "")
        }
        let id = contact?.id ?? ""
        return PlannedRecipient(key: "contact:\(id.isEmpty ? facts.ticketID : id)", name: contact?.name ?? "", email: contact?.email ?? "",
                                level: 0, audience: .customer,
                                failure: "contato sem endereço válido / contact without a valid address", personID: id)
    }

    private func person(_ person: Person, level: Int32, audience: NotificationRules.Audience, what: String) -> PlannedRecipient {
        if EmailAddress.isValid(person.email) {
            return PlannedRecipient(key: EmailAddress.normalized(person.email), name: person.name, email: person.email,
                                    level: level, audience: audience, personID: person.id)
        }
        return PlannedRecipient(key: "person:\(person.id)", name: person.name, email: person.email, level: level, audience: audience,
                                failure: "\(what) sem endereço válido / \(what) without a valid address", personID: person.id)
    }
}
