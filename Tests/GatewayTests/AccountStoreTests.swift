import Foundation
@testable import GatewayCore
import Storage
import Testing
import TestSupport

/// The account lifecycle's storage, without processes: one-time links under concurrency, one
/// account per address whatever its Unicode spelling, and what the login throttle counts an
/// IPv6 client as.
@Suite("Accounts in the credential store", .serialized)
struct AccountStoreTests {
    @Test("a reset link used twice at once sets the password once: two uses waiting on the link's row (held by another transaction) — one wins, the other finds it used", arguments: TestEngines.all)
    func oneTimeLinkUnderConcurrency(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        let user = try store.createUser(email: "rita@acme.com.br", displayName: "Rita", role: .agent, passwordHash: "old")
        let token = try store.createPasswordToken(userID: user.id, purpose: "reset", lifetimeSeconds: 3600)
        // Another transaction holds the link's row while both uses start (on PostgreSQL a row
        // lock; on SQLite the single writer): both must then decide after it ends.
        let holding = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), held = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? database.write { tx in
                try tx.execute("UPDATE gateway_password_tokens SET used_at = used_at WHERE token_hash = ?", [.text(Tokens.digest(token))])
                holding.signal()
                release.wait()
            }
            held.signal()
        }
        holding.wait()
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var values: [String?] = []
        }
        let outcomes = Outcomes()
        let group = DispatchGroup()
        for attempt in ["first", "second"] {
            DispatchQueue.global().async(group: group) {
                let used = try? store.consumePasswordToken(token, newHash: attempt)
                outcomes.lock.withLock { outcomes.values.append(used == nil ? nil : attempt) }
            }
        }
        Thread.sleep(forTimeInterval: 0.5)
        release.signal()
        held.wait()
        #expect(group.wait(timeout: .now() + 30) == .success)
        let winners = outcomes.values.compactMap { $0 }
        #expect(outcomes.values.count == 2 && winners.count == 1, "\(outcomes.values)")
        #expect(try store.userWithHash(email: user.email)?.1 == winners.first)
    }

    @Test("one account per address: an address spelled with a combining accent (NFD), in capitals or with blanks around is the same account as the composed one — 409 for a second, and it signs in by either; an address with a zero-width or a blank inside, or without a domain, is 400 and stores nothing", arguments: TestEngines.all)
    func oneAccountPerAddress(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        let composed = "jos\u{E9}@acme.com.br", decomposed = "jose\u{301}@acme.com.br"
        #expect(composed.utf8.count != decomposed.utf8.count)
        let jose = try store.createUser(email: composed, displayName: "José", role: .agent, passwordHash: "h")
        for variant in [decomposed, " JOSE\u{301}@ACME.com.br ", "Jos\u{C9}@Acme.Com.Br"] {
            #expect(throws: APIError.self, "\(variant)") {
                try store.createUser(email: variant, displayName: "Outro José", role: .agent, passwordHash: "h")
            }
            #expect(try store.userWithHash(email: variant)?.0.id == jose.id, "\(variant)")
        }
        for bad in ["ana\u{200B}@acme.com.br", "ana maria@acme.com.br", "ana@acme", "@acme.com.br", "ana@@acme.com.br", "ana\u{202E}@acme.com.br"] {
            do {
                try store.createUser(email: bad, displayName: "Ana", role: .agent, passwordHash: "h")
                Issue.record("\(bad) was accepted")
            } catch let error as APIError {
                #expect(error.status == 400 && error.details.first?.field == "email", "\(bad)")
            }
        }
        #expect(try store.users().count == 1)
    }

    @Test("the per-address counts take an IPv6 client as its /64 (one machine draws 2^64 addresses), an IPv4-mapped address as the IPv4 one; guesses from addresses of one /64 meet the address limit together", arguments: TestEngines.all)
    func ipv6ClientsByNetwork(engine: DatabaseEngine) throws {
        #expect(ClientNetwork.key("192.0.2.7") == "192.0.2.7")
        #expect(ClientNetwork.key("::ffff:192.0.2.7") == "192.0.2.7")
        #expect(ClientNetwork.key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64")
        #expect(ClientNetwork.key("2001:db8:1:2::1") == ClientNetwork.key("2001:db8:1:2:ffff::9"))
        #expect(ClientNetwork.key("2001:db8:1:3::1") != ClientNetwork.key("2001:db8:1:2::1"))
        #expect(ClientNetwork.key("unknown") == "unknown")

        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let throttle = LoginThrottle(database: database, maxFailures: 2, windowSeconds: 900)
        // 8 guesses (the address limit: 4 × 2), each at another account from another address of the /64.
        for guess in 0..<8 {
            guard case .allowed = try throttle.begin(email: "conta\(guess)@acme.com.br", address: "2001:db8:1:2::\(guess + 1)") else {
                Issue.record("guess \(guess) refused")
                return
            }
        }
        guard case .refused = try throttle.begin(email: "outra@acme.com.br", address: "2001:db8:1:2:dead:beef::1") else {
            Issue.record("a ninth guess from the same /64 was allowed")
            return
        }
        // Another /64 is another client.
        guard case .allowed = try throttle.begin(email: "outra@acme.com.br", address: "2001:db8:1:3::1") else {
            Issue.record("another /64 was refused")
            return
        }
    }
}

extension AccountStoreTests {
    @Test("one sign-in per contact is a unique index: of two creations at once for one contact exactly one wins, the other is 409 contact_id has_sign_in (threads, repeated)", arguments: TestEngines.all)
    func oneSignInPerContactUnderConcurrency(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        final class Outcomes: @unchecked Sendable {
            let lock = NSLock()
            var created: [String] = []
            var refused: [APIError] = []
            var other: [String] = []
        }
        for round in 1...5 {
            let outcomes = Outcomes()
            let group = DispatchGroup()
            let start = DispatchSemaphore(value: 0)
            for person in ["a", "b"] {
                DispatchQueue.global().async(group: group) {
                    start.wait()
                    do {
                        let user = try store.createUser(email: "\(person)\(round)@acme.com.br", displayName: person, role: .customerContact,
                                                        contactID: "C-\(round)", organizationID: "O-1", passwordHash: nil)
                        outcomes.lock.withLock { outcomes.created.append(user.id) }
                    } catch let error as APIError {
                        outcomes.lock.withLock { outcomes.refused.append(error) }
                    } catch {
                        outcomes.lock.withLock { outcomes.other.append("\(error)") }
                    }
                }
            }
            start.signal(); start.signal()
            #expect(group.wait(timeout: .now() + 30) == .success)
            #expect(outcomes.created.count == 1 && outcomes.refused.count == 1 && outcomes.other.isEmpty,
                    "\(outcomes.created) \(outcomes.refused) \(outcomes.other)")
            let refused = try #require(outcomes.refused.first)
            #expect(refused.status == 409 && refused.details.first?.field == "contact_id" && refused.details.first?.reason == "has_sign_in",
                    "\(refused)")
            #expect(try store.signIns(of: LinkedContact(contactID: "C-\(round)", owner: .organization("O-1"))).count == 1)
        }
        // A taken e-mail is still that answer, not the contact's.
        let taken = #expect(throws: APIError.self) {
            try store.createUser(email: "a1@acme.com.br", displayName: "x", role: .customerContact, contactID: "C-new",
                                 organizationID: "O-1", passwordHash: nil)
        }
        #expect(taken?.details.first?.field == "email", "\(String(describing: taken))")
    }

    @Test("migration 6 resolves existing duplicates before its unique index: per contact the oldest active sign-in stays linked, the others are unlinked, disabled by support and lose their sessions; sign-ins without a contact are untouched", arguments: TestEngines.all)
    func duplicateSignInsMigrate(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = Array(CredentialStore.migrations.prefix { $0.version <= 5 })
        let old = try scratch.open(migrations: before)
        func insert(_ id: String, contact: String?, status: String, createdAt: Int64, organization: String = "O-1") throws {
            try old.write { tx in
                try tx.execute("""
                    INSERT INTO gateway_users (id, email, display_name, role, contact_id, organization_id, status, created_at, updated_at)
                    VALUES (?, ?, ?, 'customer_contact', ?, ?, ?, ?, ?)
                    """, [.text(id), .text("\(id.lowercased())@acme.com.br"), .text(id), SQLValue(contact), .text(organization), .text(status),
                          .integer(createdAt), .integer(createdAt)])
                try tx.execute("INSERT INTO gateway_sessions (token_hash, user_id, kind, csrf_token, created_at, expires_at) VALUES (?, ?, 'bearer', 'c', 0, ?)",
                               [.text("T-\(id)"), .text(id), .integer(Int64.max / 2)])
            }
        }
        // C-1: an invited one older than the active ones; the oldest active stays.
        try insert("U-old-invited", contact: "C-1", status: "invited", createdAt: 100)
        try insert("U-active-first", contact: "C-1", status: "active", createdAt: 200)
        try insert("U-active-second", contact: "C-1", status: "active", createdAt: 300)
        // C-2: none active; the oldest stays (ties by id).
        try insert("U-b", contact: "C-2", status: "disabled", createdAt: 100)
        try insert("U-a", contact: "C-2", status: "invited", createdAt: 100)
        // Alone, and without a contact: untouched.
        try insert("U-alone", contact: "C-3", status: "active", createdAt: 100)
        try insert("U-staff", contact: nil, status: "active", createdAt: 100)
        // The same contact id in another organization is another person.
        try insert("U-elsewhere", contact: "C-1", status: "invited", createdAt: 50, organization: "O-2")
        old.close()

        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        func user(_ id: String) throws -> User { try #require(try store.user(id: id)) }
        func sessions(_ id: String) throws -> Int {
            try database.read { tx in try tx.query("SELECT token_hash FROM gateway_sessions WHERE user_id = ?", [.text(id)]).count }
        }
        for kept in ["U-active-first", "U-a", "U-alone", "U-staff", "U-elsewhere"] {
            #expect(try sessions(kept) == 1, "\(kept)")
        }
        #expect(try user("U-active-first").contactID == "C-1" && user("U-active-first").status == "active")
        #expect(try user("U-a").contactID == "C-2" && user("U-a").status == "invited")
        #expect(try user("U-alone").contactID == "C-3" && user("U-staff").contactID == nil && user("U-staff").status == "active")
        #expect(try user("U-elsewhere").contactID == "C-1" && user("U-elsewhere").status == "invited")
        for unlinked in ["U-old-invited", "U-active-second", "U-b"] {
            let changed = try user(unlinked)
            #expect(changed.contactID == nil && changed.status == "disabled" && changed.disabledBy == .administrator, "\(unlinked)")
            #expect(try sessions(unlinked) == 0, "\(unlinked)")
        }
        // The index holds from now on.
        #expect(throws: APIError.self) {
            try store.createUser(email: "nova@acme.com.br", displayName: "Nova", role: .customerContact, contactID: "C-1",
                                 organizationID: "O-1", passwordHash: nil)
        }
    }
}


extension AccountStoreTests {
    @Test("a key works while the sign-in that made it is neither disabled nor gone (401 API_KEY_CREATOR_DISABLED otherwise, back when enabled); a key whose maker is unknown keeps working", arguments: TestEngines.all)
    func keysFollowTheirMaker(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        let rosa = try store.createUser(email: "rosa@suporte.example", displayName: "Rosa", role: .administrator, passwordHash: "h")
        let made = try store.createAPIKey(name: "rosa", role: .administrator, organizationID: nil, accessLevel: 3, permissions: [], createdBy: rosa.id).key
        let unknown = try store.createAPIKey(name: "old", role: .administrator, organizationID: nil, accessLevel: 3, permissions: [], createdBy: nil).key
        let gone = try store.createAPIKey(name: "gone", role: .administrator, organizationID: nil, accessLevel: 3, permissions: [], createdBy: "U-gone").key
        #expect(try store.verifyAPIKey(made) != nil && store.verifyAPIKey(unknown) != nil)
        let refusal = #expect(throws: APIError.self) { try store.verifyAPIKey(gone) }
        #expect(refusal?.status == 401 && refusal?.code == "API_KEY_CREATOR_DISABLED", "\(String(describing: refusal))")
        try store.setStatus(userID: rosa.id, status: "disabled")
        #expect(throws: APIError.self) { try store.verifyAPIKey(made) }
        #expect(try store.verifyAPIKey(unknown) != nil)
        // A wrong secret is still nobody's (the reason is told only to the key's holder).
        #expect(try store.verifyAPIKey(String(made.dropLast()) + (made.hasSuffix("A") ? "B" : "A")) == nil)
        try store.enable(userID: rosa.id)
        #expect(try store.verifyAPIKey(made) != nil)
    }
}
