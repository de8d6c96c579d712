import Foundation
import Testing
import TestSupport

@Suite("Gateway: an administrator cannot lock themselves out")
struct SelfLockoutTests {
    @Test("disabling your own account is refused with 422 and the account keeps working; disabling another user ends that user's access")
    func cannotDisableOwnAccount() throws {
        let gateway = try GatewayHarness(engine: .sqlite)
        let admin = try gateway.adminToken()
        let me = try gateway.request("GET", "/v1/me", bearer: admin)
        let myID = try #require((me.json["user"] as? [String: Any])?["id"] as? String)

        let refused = try gateway.request("POST", "/v1/users/\(myID)/disable", bearer: admin)
        #expect(refused.status == 422)
        #expect(refused.errorCode == "FAILED_PRECONDITION")
        #expect(try gateway.request("GET", "/v1/me", bearer: admin).status == 200)

        let other = try gateway.createUser(admin: admin, email: "segundo.admin@example.com", role: "administrator")
        let users = try gateway.request("GET", "/v1/users", bearer: admin).json["users"] as? [[String: Any]] ?? []
        let otherID = try #require(users.first { $0["email"] as? String == "segundo.admin@example.com" }?["id"] as? String)
        #expect(try gateway.request("POST", "/v1/users/\(otherID)/disable", bearer: admin).status == 204)
        #expect(try gateway.request("GET", "/v1/me", bearer: other).status == 401)
    }
}
