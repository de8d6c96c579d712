import Foundation
@testable import GatewayCore
import Messages
import RPC
import RPCTransport
import Storage
import Synchronization
import Testing
import TestSupport

/// A customer organization deactivated in intake (`active = false`) loses portal and API access:
/// its people's sessions and tokens, its customer keys (HTTP and the RPC port) and new sign-ins
/// are refused with 403 `ORGANIZATION_INACTIVE`; support still sees its tickets; a representative
/// keeps its other organizations; reactivated, the same sessions and keys work again.
@Suite("An inactive organization's customers lose access", .serialized)
struct InactiveOrganizationTests {
    static func code(_ response: GatewayHarness.Response) -> String? {
        (response.json["error"] as? [String: Any])?["code"] as? String
    }

    /// Sets Acme's `active` straight through intake's RPC port (the gateway hears of it only by the event).
    static func setActive(_ gateway: GatewayHarness, _ organizationID: String, _ active: Bool) throws {
        let intake = gateway.intakeAsAdministrator()
        defer { intake.client.close() }
        var lookup = IntakeV1.GetOrganizationRequest()
        lookup.organizationID = organizationID
        var organization = try intake.client.call(IntakeV1.Intake.getOrganization, lookup, options: intake.options)
        organization.active = active
        #expect(try intake.client.call(IntakeV1.Intake.updateOrganization, organization, options: intake.options).active == active)
    }

    @Test("deactivated through intake's own port: Maria's token, a customer key (HTTP and the RPC port) and her sign-in are 403 ORGANIZATION_INACTIVE within seconds (bilingual); support still reads the ticket; the representative keeps Beta and loses Acme; reactivated, the same token and key work again",
          arguments: TestEngines.all)
    func inactiveOrganization(engine: DatabaseEngine) throws {
        let setup = try SeededDeployment(engine: engine)
        let (gateway, seeded) = (setup.gateway, setup.seeded)
        let (admin, maria, acme) = (seeded.admin, seeded.maria, seeded.organizationID)
        let ticketID = try setup.openTicket(subject: "Nota fiscal não transmite", request: "Erro 539 na transmissão.", module: "Fiscal")
        let created = try gateway.request("POST", "/v1/api-keys", json: ["name": "erp-acme", "role": "customer_contact", "organization_id": acme],
                                          bearer: admin)
        setup.ok(created, 201)
        let key = try #require(created.json["key"] as? String)
        // Beta, and a representative acting for Acme and Beta.
        let beta = try gateway.request("POST", "/v1/organizations", json: [
            "name": "Beta", "tax_id": "45321098000117", "kind": "ORGANIZATION_CUSTOMER", "active": true, "plan": "basico"], bearer: admin)
        setup.ok(beta, 201)
        let betaID = try #require(beta.json["id"] as? String)
        let representative = try gateway.request("POST", "/v1/representatives", json: [
            "name": "Revenda Sul", "email": "contato@revendasul.com.br", "active": true, "organization_ids": [acme, betaID]], bearer: admin)
        setup.ok(representative, 201)
        let representativeID = try #require(representative.json["id"] as? String)
        let person = try gateway.request("POST", "/v1/representatives/\(representativeID)/contacts", json: [
            "name": "Rui", "email": "rui@revendasul.com.br", "active": true], bearer: admin)
        setup.ok(person, 201)
        setup.ok(try gateway.request("POST", "/v1/users", json: ["email": "rui@revendasul.com.br", "display_name": "Rui", "role": "representative",
                                                               "password": "Us3r-Passw0rd!x", "representative_id": representativeID,
                                                               "contact_id": try #require(person.json["id"] as? String)], bearer: admin), 201)
        let rui = try gateway.token("rui@revendasul.com.br", "Us3r-Passw0rd!x")
        func represented() throws -> Set<String> {
            let me = try gateway.request("GET", "/v1/me", bearer: rui)
            return Set(((me.json["principal"] as? [String: Any])?["represented_organization_ids"] as? [String]) ?? [])
        }
        #expect(try represented() == [acme, betaID])
        setup.ok(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria))
        setup.ok(try gateway.request("GET", "/v1/tickets?page_size=5", bearer: key))
        let rpc = ProxyTests.client(port: gateway.proxyPort, key: key)
        defer { rpc.close() }
        var lookup = IntakeV1.GetOrganizationRequest()
        lookup.organizationID = acme
        #expect(try rpc.call(IntakeV1.Intake.getOrganization, lookup).id == acme)

        try Self.setActive(gateway, acme, false)
        #expect(try waitFor(10) { Self.code(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria)) == "ORGANIZATION_INACTIVE" })
        let refused = try gateway.request("GET", "/v1/tickets?page_size=5", bearer: maria)
        #expect(refused.status == 403 && Self.code(refused) == "ORGANIZATION_INACTIVE", "\(refused.text)")
        let error = refused.json["error"] as? [String: Any] ?? [:]
        #expect((error["message"] as? String)?.contains("organização está inativa") == true
                && (error["message_en"] as? String)?.contains("organization is inactive") == true, "\(refused.text)")
        let byKey = try gateway.request("GET", "/v1/tickets?page_size=5", bearer: key)
        #expect(byKey.status == 403 && Self.code(byKey) == "ORGANIZATION_INACTIVE", "\(byKey.text)")
        let rpcRefused = #expect(throws: RPCError.self) { try rpc.call(IntakeV1.Intake.getOrganization, lookup) }
        #expect(rpcRefused?.code == .permissionDenied && rpcRefused?.message.contains("organization is inactive") == true,
                "\(String(describing: rpcRefused))")
        let signIn = try gateway.request("POST", "/v1/auth/tokens", json: ["email": "maria@acme.com.br", "password": "Us3r-Passw0rd!x"])
        #expect(signIn.status == 403 && Self.code(signIn) == "ORGANIZATION_INACTIVE", "\(signIn.text)")
        // Signing out still works; support still reads the ticket; Rui keeps Beta only.
        #expect(try represented() == [betaID])
        setup.ok(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: admin))
        setup.ok(try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana))

        try Self.setActive(gateway, acme, true)
        #expect(try waitFor(10) { try gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: maria).status == 200 })
        setup.ok(try gateway.request("GET", "/v1/tickets?page_size=5", bearer: key))
        #expect(try rpc.call(IntakeV1.Intake.getOrganization, lookup).id == acme)
        #expect(try represented() == [acme, betaID])
        setup.ok(try gateway.request("POST", "/v1/auth/tokens", json: ["email": "maria@acme.com.br", "password": "Us3r-Passw0rd!x"]), 201)
    }

    @Test("an answer is reused for its lifetime, then asked again; a forget asks at once; the owner unreachable keeps the last answer, with none the error")
    func cachedAnswers() throws {
        let states = ActiveStates(lifetimeMilliseconds: 300)
        var asked = 0
        var answer = true
        let lookup: (String) throws -> Bool = { _ in asked += 1; return answer }
        #expect(try states.isActive("O-1", lookup: lookup) && asked == 1)
        answer = false
        #expect(try states.isActive("O-1", lookup: lookup) && asked == 1, "reused within the lifetime")
        Thread.sleep(forTimeInterval: 0.35)
        #expect(try !states.isActive("O-1", lookup: lookup) && asked == 2, "asked again after it")
        answer = true
        states.forget("O-1")
        #expect(try states.isActive("O-1", lookup: lookup) && asked == 3, "a forget asks at once")
        Thread.sleep(forTimeInterval: 0.35)
        let down: (String) throws -> Bool = { _ in throw RPCError(.unavailable, "down") }
        #expect(try states.isActive("O-1", lookup: down), "the last answer while the owner is unreachable")
        #expect(throws: RPCError.self) { try states.isActive("O-2", lookup: down) }
        states.note("O-2", active: false)
        #expect(try !states.isActive("O-2", lookup: down))
    }

    @Test("answers are kept per thread stripe (no lock shared by every request), yet a forget or a note made on one thread reaches every thread's next read")
    func changesReachEveryThread() throws {
        let states = ActiveStates(lifetimeMilliseconds: 60_000)
        let answer = Atomic<Bool>(true)
        let asked = Atomic<Int>(0)
        let lookup: @Sendable (String) throws -> Bool = { _ in asked.add(1, ordering: .relaxed); return answer.load(ordering: .relaxed) }
        func readEverywhere() -> [Bool] {
            let results = Mutex<[Bool]>([])
            DispatchQueue.concurrentPerform(iterations: 64) { _ in
                let active = (try? states.isActive("O-1", lookup: lookup)) ?? false
                results.withLock { $0.append(active) }
            }
            return results.withLock { $0 }
        }
        #expect(readEverywhere().allSatisfy { $0 })
        let first = asked.load(ordering: .relaxed)
        #expect(first >= 1 && first <= 64)
        answer.store(false, ordering: .relaxed)
        #expect(readEverywhere().allSatisfy { $0 }, "reused within the lifetime on every thread")
        states.forget("O-1")
        #expect(readEverywhere().allSatisfy { !$0 }, "a forget made on this thread is seen by every thread")
        states.note("O-1", active: true)
        let before = asked.load(ordering: .relaxed)
        #expect(readEverywhere().allSatisfy { $0 } && asked.load(ordering: .relaxed) == before, "a note is every thread's answer, nothing asked")
    }
}
