import Foundation
import Messages
import RPC
import ServiceKit

extension NotificationRules {
    /// One rule of an event kind: its audiences and fixed addresses hear of the tickets its
    /// filter matches. A kind's rules combine as a union of recipients (one e-mail per address,
    /// ``RecipientResolver``). Fixed addresses read like a transfer's copies: level 0, no
    /// internal content (an administrator typed them; nobody vouched for who reads them).
    struct Rule: Sendable, Equatable {
        /// The stored rule's id; empty for the file's and the defaults' rules.
        var id = ""
        var audiences: [Audience]
        /// Fixed e-mail addresses, checked (``checkedAddresses(_:field:)``), each once.
        var addresses: [String] = []
        var filter: TicketCriteria = .none
        var updatedBy = ""
        var updatedAtMs: Int64 = 0

        init(id: String = "", audiences: [Audience], addresses: [String] = [], filter: TicketCriteria = .none,
             updatedBy: String = "", updatedAtMs: Int64 = 0) {
            self.id = id
            self.audiences = audiences
            self.addresses = addresses
            self.filter = filter
            self.updatedBy = updatedBy
            self.updatedAtMs = updatedAtMs
        }

        /// Whether it names nobody (refused for a rule of its own; PutAudienceRule's "nobody").
        var isEmpty: Bool { audiences.isEmpty && addresses.isEmpty }

        /// What the log of edits records: `holder,chefe,fiscal@x.example`, then ` [priorities=URGENTE]`
        /// when filtered.
        var logText: String {
            let text = (audiences.map(\.rawValue) + addresses).joined(separator: ",")
            let stored = filter.stored
            return stored.isEmpty ? text : "\(text) [\(stored)]"
        }

        /// As the API shows it.
        var message: NotificationV1.AudienceRuleEntry {
            var entry = NotificationV1.AudienceRuleEntry()
            entry.id = id
            entry.audiences = audiences.map(\.rawValue)
            entry.addresses = addresses
            entry.filter = filter.message
            entry.updatedBy = updatedBy
            entry.updatedAtMs = updatedAtMs
            return entry
        }

        /// A request's rule, checked: audiences known (`<field>.audiences[i]`), addresses valid
        /// (`<field>.addresses[i]`), the filter as ``TicketCriteria/init(checking:field:)``; at
        /// least one audience or address unless `allowEmpty` (`<field>.audiences`, reason `required`).
        init(checking audiences: [String], addresses: [String], filter: NotificationV1.TicketFilter?, field: String,
             allowEmpty: Bool = false) throws {
            var known: [Audience] = []
            let prefix = field.isEmpty ? "" : "\(field)."
            let names = Audience.allCases.map(\.rawValue).joined(separator: ", ")
            for (index, name) in audiences.enumerated() {
                guard let audience = Audience(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                    throw Access.invalid("\(prefix)audiences[\(index)]", "Público desconhecido: \(name) (use \(names)).",
                                         "Unknown audience: \(name) (use \(names)).")
                }
                if !known.contains(audience) { known.append(audience) }
            }
            self.init(audiences: known, addresses: try Self.checkedAddresses(addresses, field: "\(prefix)addresses"),
                      filter: try TicketCriteria(checking: filter, field: "\(prefix)filter"))
            guard allowEmpty || !isEmpty else {
                throw Access.required("\(prefix)audiences", "Informe ao menos um público ou endereço.",
                                      "At least one audience or address is required.")
            }
        }

        /// Fixed addresses, trimmed, each kept once (ignoring case): an address must pass the
        /// deployment's rule (``EmailAddressRule/isWellFormed(_:)``) and what notification hands
        /// the relay (``EmailAddress/isValid(_:)``: ASCII only); at most ``TicketCriteria/maxValues``.
        static func checkedAddresses(_ list: [String], field: String) throws -> [String] {
            guard list.count <= TicketCriteria.maxValues else {
                throw Access.invalid(field, "No máximo \(TicketCriteria.maxValues) endereços.", "At most \(TicketCriteria.maxValues) addresses.",
                                     reason: "too_long")
            }
            var kept: [String] = [], keys: Set<String> = []
            for (index, raw) in list.enumerated() {
                let address = raw.trimmingCharacters(in: .whitespaces)
                guard !address.isEmpty else {
                    throw Access.required("\(field)[\(index)]", "Informe o endereço (ou retire o valor vazio).",
                                          "The address is required (or remove the empty value).")
                }
                guard EmailAddressRule.isWellFormed(address), EmailAddress.isValid(address) else {
                    throw Access.invalid("\(field)[\(index)]", "Endereço de e-mail inválido: \(address)", "Invalid e-mail address: \(address)")
                }
                if keys.insert(EmailAddress.normalized(address)).inserted { kept.append(address) }
            }
            return kept
        }
    }
}
