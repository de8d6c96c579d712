import Foundation
@testable import GatewayCore
import Storage
import Testing
import TestSupport

/// The revocation log under two credential stores on one database (what two gateway instances
/// hold), without processes: the bound, targeted removals, and the uncached mode.
@Suite("Session revocations between two credential stores on one database")
struct SessionRevocationTests {
    @Test("an ended session is refused by the other store once its interval has passed; other users' cached sessions stay; interval 0 reads every time",
          arguments: TestEngines.all)
    func revocations(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let first = try scratch.open(migrations: CredentialStore.migrations)
        let second = try scratch.open(migrations: CredentialStore.migrations)
        defer { first.close(); second.close() }
        let a = CredentialStore(database: first, revocationCheckMilliseconds: 300)
        let b = CredentialStore(database: second, revocationCheckMilliseconds: 300)
        let uncached = CredentialStore(database: second, revocationCheckMilliseconds: 0)
        let rita = try a.createUser(email: "rita@acme.com.br", displayName: "Rita", role: .customerContact, organizationID: "O-1", passwordHash: "x")
        let joao = try a.createUser(email: "joao@acme.com.br", displayName: "João", role: .customerContact, organizationID: "O-1", passwordHash: "x")
        let (ritaToken, ritaSession) = try a.createSession(user: rita, kind: "bearer", lifetimeSeconds: 3600, clientAddress: "127.0.0.1")
        let (joaoToken, _) = try a.createSession(user: joao, kind: "bearer", lifetimeSeconds: 3600, clientAddress: "127.0.0.1")
        #expect(try b.session(token: ritaToken) != nil && b.session(token: joaoToken) != nil)
        #expect(b.sessionCache.get(ritaSession.tokenHash, now: CredentialStore.now()) != nil, "b cached Rita's lookup")

        try a.deleteSession(tokenHash: ritaSession.tokenHash)
        #expect(try a.session(token: ritaToken) == nil, "the instance that ended it, at once")
        #expect(try uncached.session(token: ritaToken) == nil, "without a session cache, at once")
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try b.session(token: ritaToken) == nil, "after the interval the other store has read the log")
        #expect(b.sessionCache.get(Tokens.digest(joaoToken), now: CredentialStore.now()) != nil, "João's cached lookup stays")
        #expect(try b.session(token: joaoToken) != nil)

        // Disabling a user ends all of its sessions on the other store too.
        try a.setStatus(userID: joao.id, status: "disabled")
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try b.session(token: joaoToken) == nil)
        #expect(try first.read { tx in try tx.queryOne("SELECT COUNT(*) AS n FROM gateway_session_revocations", [])?.int("n") } == 2)
    }
}
