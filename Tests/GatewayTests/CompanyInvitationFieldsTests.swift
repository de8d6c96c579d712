import Foundation
import Storage
import Testing
import TestSupport

/// A company's administrator invites contacts of the company, and nothing of staff comes with
/// them: an agent id or an access level in the body is not kept (only an administrator's
/// invitation sets them).
@Suite("A company administrator's invitation carries no staff fields", .serialized)
struct CompanyInvitationFieldsTests {
    @Test("Maria invites a colleague naming agent A-ana and level 3: the sign-in is a contact with neither")
    func noStaffFields() throws {
        let setup = try SeededDeployment(engine: .sqlite)
        let invited = try setup.gateway.request("POST", "/v1/invitations", json: [
            "email": "colega@acme.com.br", "display_name": "Colega", "agent_id": "A-ana", "access_level": 3], bearer: setup.seeded.maria)
        setup.ok(invited, 201)
        let user = try #require(invited.json["user"] as? [String: Any], "\(invited.text)")
        #expect(user["role"] as? String == "customer_contact")
        #expect(user["agent_id"] == nil, "\(user)")
        #expect((user["access_level"] as? NSNumber)?.intValue == 0, "\(user)")
    }
}
