import Foundation
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport

/// ``ResponseSeal`` and ``Idempotent`` with sealed answers: what a replay needs is kept, the
/// secret it carries is not readable in `storage_idempotency`.
@Suite("Idempotent answers sealed under the deployment secret")
struct SealedIdempotencyTests {
    static let schema = [Migration(version: 1, name: "create_keys", sql: "CREATE TABLE api_keys (id TEXT PRIMARY KEY)")]

    @Test("a sealed answer opens with the same deployment secret only; the fingerprint is keyed")
    func sealOpens() throws {
        let secret = DeploymentSecret.random()
        let seal = ResponseSeal(secret: secret)
        let plain = Array("ocr_K1_segredo-de-32-bytes".utf8)
        let sealed = seal.seal(plain)
        #expect(sealed != seal.seal(plain), "a fresh nonce each time")
        #expect(!Self.contains(sealed, plain))
        #expect(try ResponseSeal(secret: secret).open(sealed) == plain, "another instance of the deployment opens it")
        let refused = #expect(throws: RPCError.self) { try ResponseSeal(secret: .random()).open(sealed) }
        #expect(refused?.code == .failedPrecondition)
        var altered = sealed
        altered[altered.count - 1] ^= 1
        #expect(throws: RPCError.self) { try seal.open(altered) }
        #expect(seal.fingerprint(plain) == ResponseSeal(secret: secret).fingerprint(plain))
        #expect(seal.fingerprint(plain) != ResponseSeal(secret: .random()).fingerprint(plain))
        #expect(seal.fingerprint(plain) != Digest.sha256(plain), "not a plain digest that guesses could be tried against")
    }

    @Test("a sealed replay gives the same secret back, one effect, nothing in clear; another request with the key is refused",
          arguments: TestEngines.all)
    func sealedReplay(engine: DatabaseEngine) throws {
        let db = try ScratchDatabase(engine).open(migrations: Self.schema)
        defer { db.close() }
        let seal = ResponseSeal(secret: .random())
        func create(_ name: String) throws -> IdempotentResult {
            try Idempotent.bytes(db, key: "k-1", scope: "gateway.POST /v1/api-keys|U-1", fingerprint: seal.fingerprint(Array(name.utf8)),
                                 sealing: seal) { tx in
                let id = "K\(UUID().uuidString.prefix(8))"
                try tx.execute("INSERT INTO api_keys (id) VALUES (?)", [.text(id)])
                return Array("ocr_\(id)_\(UUID().uuidString)".utf8)
            }
        }
        let first = try create("ERP")
        let again = try create("ERP")
        #expect(!first.replayed && again.replayed)
        #expect(again.response == first.response, "the same secret")
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM api_keys") } == 1)
        let stored = try #require(try db.read { try IdempotencyStore.stored($0, scope: "gateway.POST /v1/api-keys|U-1", key: "k-1") })
        #expect(!Self.contains(try #require(stored.response), first.response))
        #expect(try Idempotent.replay(db, key: "k-1", scope: "gateway.POST /v1/api-keys|U-1", fingerprint: seal.fingerprint(Array("ERP".utf8)),
                                      sealing: seal) == first.response)
        #expect(try Idempotent.replay(db, key: "k-2", scope: "gateway.POST /v1/api-keys|U-1", fingerprint: [1], sealing: seal) == nil)
        let other = #expect(throws: RPCError.self) { try create("CRM") }
        #expect(other?.code == .failedPrecondition)
        #expect(throws: RPCError.self) {
            try Idempotent.replay(db, key: "k-1", scope: "gateway.POST /v1/api-keys|U-1", fingerprint: seal.fingerprint(Array("CRM".utf8)), sealing: seal)
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM api_keys") } == 1)
        // Without a key every call is its own.
        _ = try Idempotent.bytes(db, key: nil, scope: "s", fingerprint: [], sealing: seal) { tx in
            try tx.execute("INSERT INTO api_keys (id) VALUES ('K-sem-chave')", [])
            return []
        }
        #expect(try db.read { try $0.scalar("SELECT COUNT(*) FROM api_keys") } == 2)
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        Data(haystack).range(of: Data(needle)) != nil
    }
}
