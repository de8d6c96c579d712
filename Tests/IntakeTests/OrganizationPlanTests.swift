import Foundation
import Messages
import RPC
import Storage
import Testing
import TestSupport

@Suite("Intake: an organization's plan change reaches workflow as an event")
struct OrganizationPlanTests {
    @Test("changing the plan publishes OrganizationPlanChanged once, in the same transaction; other edits publish nothing",
          arguments: TestEngines.all)
    func planChangePublishesAnEvent(engine: DatabaseEngine) throws {
        let harness = try IntakeHarness(engine)
        var organization = try harness.organization("Acme", taxID: "11222333000181")
        #expect(organization.plan == "premium")

        organization.name = "Acme Indústria"
        organization = try harness.client.call(IntakeV1.Intake.updateOrganization, organization, options: harness.staff)
        #expect(try harness.events(IntakeV1.OrganizationPlanChanged.self).isEmpty, "a rename is not a plan change")

        organization.plan = "basico"
        organization = try harness.client.call(IntakeV1.Intake.updateOrganization, organization, options: harness.staff)
        let events = try harness.events(IntakeV1.OrganizationPlanChanged.self)
        #expect(events.count == 1)
        #expect(events.first?.organizationID == organization.id)
        #expect(events.first?.previousPlan == "premium" && events.first?.plan == "basico")
        #expect((events.first?.changedAtMs ?? 0) > 0)

        // Saving the same plan again publishes nothing more.
        _ = try harness.client.call(IntakeV1.Intake.updateOrganization, organization, options: harness.staff)
        #expect(try harness.events(IntakeV1.OrganizationPlanChanged.self).count == 1)
    }
}
