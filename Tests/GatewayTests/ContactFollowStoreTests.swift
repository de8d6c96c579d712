import Foundation
@testable import GatewayCore
import Storage
import Testing
import TestSupport

/// ``CredentialStore/follow(_:active:)`` without processes: what a person's (de)activation does
/// to the sign-ins linked to it, and to no others.
@Suite("Sign-ins following their intake person, in the credential store")
struct ContactFollowStoreTests {
    @Test("deactivation disables the person's sign-ins because of the contact and ends their sessions, once; reactivation enables only those (an invited one stays invited); an administrator's disable, another organization's login with the same contact id and a representative stay as they are",
          arguments: TestEngines.all)
    func follow(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let database = try scratch.open(migrations: CredentialStore.migrations)
        defer { database.close() }
        let store = CredentialStore(database: database, revocationCheckMilliseconds: 0)
        let rita = try store.createUser(email: "rita@acme.com.br", displayName: "Rita", role: .customerContact, contactID: "C-1",
                                        organizationID: "O-1", passwordHash: "x")
        // One sign-in per contact (migration 6): the invited and the hand-disabled ones are other contacts of O-1.
        let invited = try store.createUser(email: "rita2@acme.com.br", displayName: "Rita", role: .customerAdmin, contactID: "C-2",
                                           organizationID: "O-1", passwordHash: nil)
        let byHand = try store.createUser(email: "rita3@acme.com.br", displayName: "Rita", role: .customerContact, contactID: "C-3",
                                          organizationID: "O-1", passwordHash: "x")
        let elsewhere = try store.createUser(email: "rita@outra.com.br", displayName: "Rita", role: .customerContact, contactID: "C-1",
                                             organizationID: "O-2", passwordHash: "x")
        let representative = try store.createUser(email: "rui@sul.com.br", displayName: "Rui", role: .representative, contactID: "C-1",
                                                  representativeID: "R-1", passwordHash: "x")
        try store.setStatus(userID: byHand.id, status: "disabled")
        let (token, _) = try store.createSession(user: rita, kind: "bearer", lifetimeSeconds: 3600, clientAddress: "127.0.0.1")
        let person = LinkedContact(contactID: "C-1", owner: .organization("O-1"))
        let people = [person] + ["C-2", "C-3"].map { LinkedContact(contactID: $0, owner: .organization("O-1")) }
        func followAll(active: Bool) throws -> Set<String> { Set(try people.flatMap { try store.follow($0, active: active) }) }
        #expect(rita.linkedContact == person && representative.linkedContact == LinkedContact(contactID: "C-1", owner: .representative("R-1")))
        func state(_ user: User) throws -> (String?, DisabledBy?) {
            let stored = try store.user(id: user.id)
            return (stored?.status, stored?.disabledBy)
        }

        #expect(try followAll(active: false) == [rita.id, invited.id])
        #expect(try store.session(token: token) == nil)
        #expect(try state(rita) == ("disabled", .contact) && state(invited) == ("disabled", .contact))
        #expect(try state(byHand) == ("disabled", .administrator))
        #expect(try state(elsewhere) == ("active", nil) && state(representative) == ("active", nil))
        #expect(try followAll(active: false).isEmpty, "idempotent")

        // A contact's event is keyed by the contact, a representative's (its people's too) by the representative.
        #expect(try store.linkedContacts(announcedAs: "C-1") == [person, LinkedContact(contactID: "C-1", owner: .organization("O-2"))])
        #expect(try store.linkedContacts(announcedAs: "R-1") == [LinkedContact(contactID: "C-1", owner: .representative("R-1"))])
        #expect(try store.linkedContacts(announcedAs: "O-1").isEmpty)

        #expect(try followAll(active: true) == [rita.id, invited.id])
        #expect(try state(rita) == ("active", nil) && state(invited) == ("invited", nil))
        #expect(try state(byHand) == ("disabled", .administrator), "an administrator's disable stays")
        #expect(try followAll(active: true).isEmpty, "idempotent")
        // An administrator's disable of a sign-in already disabled because of its contact makes it theirs.
        _ = try followAll(active: false)
        try store.setStatus(userID: rita.id, status: "disabled")
        _ = try followAll(active: true)
        #expect(try state(rita) == ("disabled", .administrator) && state(invited) == ("invited", nil))
    }
}
