import Foundation
import ServiceKit
import Storage

/// Addresses and lookup keys stored before today's rules (directory review of 2026-12-02), made
/// to follow them once (migration 35 marks the rows to look at):
///
/// - an address that passes ``EmailAddressRule`` once trimmed is kept (trimmed), and its
///   `email_key` rewritten to ``EmailAddressRule/key(_:)`` (lower-case NFC: keys stored in
///   decomposed Unicode found no one typing the composed form);
/// - one that fails (a line break, a bracket, an invisible character, no domain) is cleared, and
///   kept in `refused_email` for support to read and replace: it is never sent with a ticket or
///   an event again, so it never reaches a mail header (notification refuses such an address in
///   any case, ``EmailAddress`` there).
///
/// Keys are not unique: two people whose addresses differ only in Unicode form (or case) share a
/// key after the rewrite, as two people of different organizations sharing an address always
/// did. A lookup by address then answers both, the contact created first first (then by id), and
/// mail from that address follows the rules for an address of several contacts
/// (`IntakeContext.ingest`: the first authorized contact of the one
/// active organization, or held for an agent to choose between organizations).
extension IntakeContext {
    /// What ``checkStoredAddresses()`` changed.
    public struct StoredAddressCheck: Sendable, Equatable {
        /// Rows whose key (or surrounding blanks) was rewritten.
        public var rekeyed = 0
        /// Rows whose address failed the rule and was cleared.
        public var cleared = 0

        public init(rekeyed: Int = 0, cleared: Int = 0) {
            self.rekeyed = rekeyed
            self.cleared = cleared
        }
    }

    private static let addressTables: [(name: String, hasKey: Bool)] = [
        ("contacts", true), ("representatives", true), ("representative_contacts", true), ("organizations", false),
    ]

    /// Checks every row migration 35 marked (`address_checked = 0`), 500 per transaction, in id
    /// order. Each row is changed only if its address is still the one read (a row changed
    /// meanwhile went through today's rule, and is looked at again at the next start). Safe on
    /// several instances at once; nothing to do once every row is checked.
    @discardableResult
    public func checkStoredAddresses() throws -> StoredAddressCheck {
        var check = StoredAddressCheck()
        for table in Self.addressTables {
            var after = ""
            while true {
                let (last, count) = try database.write { tx -> (String, Int) in
                    let rows = try tx.query("""
                        SELECT id, email\(table.hasKey ? ", email_key" : "") FROM \(table.name)
                        WHERE id > ? AND address_checked = 0 ORDER BY id LIMIT 500
                        """, [.text(after)])
                    for row in rows {
                        let id = try row.text("id"), email = try row.text("email")
                        let trimmed = email.trimmingCharacters(in: .whitespacesAndNewlines)
                        let keep = trimmed.isEmpty || EmailAddressRule.isWellFormed(trimmed)
                        let address = keep ? trimmed : ""
                        let key = EmailAddressRule.key(address)
                        var set = "email = ?, refused_email = ?, address_checked = 1"
                        var values: [SQLValue] = [.text(address), .text(keep ? "" : email)]
                        if table.hasKey {
                            set += ", email_key = ?"
                            values.append(.text(key))
                        }
                        let changed = try tx.execute("UPDATE \(table.name) SET \(set) WHERE id = ? AND email = ?",
                                                     values + [.text(id), .text(email)])
                        guard changed > 0 else { continue }
                        if !keep {
                            check.cleared += 1
                        } else if trimmed != email || (table.hasKey && !(row.optionalText("email_key") ?? "").utf8.elementsEqual(key.utf8)) {
                            // (Compared by bytes: Swift's `==` holds the two Unicode forms equal.)
                            check.rekeyed += 1
                        }
                    }
                    return (try rows.last?.text("id") ?? "", rows.count)
                }
                if count < 500 { break }
                after = last
            }
        }
        return check
    }
}
