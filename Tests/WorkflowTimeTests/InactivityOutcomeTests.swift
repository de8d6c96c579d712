import Foundation
import Messages
import RPC
import RPCTransport
import ServiceKit
import Storage
import Testing
import TestSupport
@testable import WorkflowCore

/// An inactivity policy's outcome is one of the known keys (TicketOutcome) but
/// `resolvida_configuracao` (it always carries the text saying what was configured), or empty: anything
/// else is refused naming `policy.outcome` and the accepted values, nothing stored; policies
/// stored before the check still load and run as they are (migration 196 only normalises a known
/// key's case and spaces), over real TCP on both engines.
@Suite struct InactivityOutcomeTests {
    let secret = DeploymentSecret(bytes: Array("workflow-inactivity-outcome-test-secret".utf8))

    @Test("an unknown outcome (or resolvida_configuracao) is INVALID_ARGUMENT on policy.outcome listing the accepted keys, with the policy's other problems, and nothing is stored; a known one or none is saved",
          arguments: TestEngines.all)
    func validated(engine: DatabaseEngine) throws {
        let fixture = try TimeAPIFixture(engine, secret: secret, at: "2027-02-05 16:00")
        defer { withExtendedLifetime(fixture) {} }
        let client = fixture.client
        let admin = agentOptions(secret, id: "root", level: 9, admin: true)
        let method = WorkflowV1.WorkflowTime.self
        func put(_ outcome: String, days: Int32 = 10, id: String = "espera-10d") throws {
            var policy = WorkflowV1.InactivityPolicySpec()
            policy.id = id
            policy.stage = "aguardando_cliente"
            policy.days = days
            policy.toStage = "finalizado"
            policy.outcome = outcome
            policy.active = true
            var request = WorkflowV1.PutInactivityPolicyRequest()
            request.policy = policy
            _ = try client.call(method.putInactivityPolicy, request, options: admin)
        }
        func stored() throws -> [String] {
            try client.call(method.listInactivityPolicies, WorkflowV1.ListInactivityPoliciesRequest(), options: admin).policies.map { "\($0.id):\($0.outcome)" }
        }
        var refused: RPCError?
        do { try put("encerrada por inatividade") } catch { refused = error as? RPCError }
        let error = try #require(refused)
        #expect(error.code == .invalidArgument && error.violations.map(\.field) == ["policy.outcome"], "\(error)")
        let reason = error.violations.first?.descriptionPT ?? ""
        #expect(reason.contains("encerrada por inatividade") && InactivityPolicy.acceptedOutcomes.allSatisfy { reason.contains($0) }, "\(reason)")
        #expect(error.violations.first?.descriptionEN
            .contains("accepted: resolvida, negada, cancelada_cliente, nao_necessita_atuacao, inatividade, or empty") == true)
        // Solved by configuration always carries the text saying what was configured: no timer finishes so.
        refused = nil
        do { try put("resolvida_configuracao") } catch { refused = error as? RPCError }
        #expect(refused?.violations.map(\.field) == ["policy.outcome"])
        // Every problem at once: the days under `policy`, the outcome under `policy.outcome`.
        do { try put("Fechada", days: 0) } catch { refused = error as? RPCError }
        #expect(refused?.violations.map(\.field) == ["policy", "policy.outcome"], "\(String(describing: refused))")
        #expect(try stored().isEmpty)

        try put("inatividade")
        try put("", id: "sem-desfecho")
        #expect(try stored().sorted() == ["espera-10d:inatividade", "sem-desfecho:"])
    }

    @Test("policies stored before the check load and list as they were; migration 196 turns a known key written with capitals or spaces into the key",
          arguments: TestEngines.all)
    func storedBeforeTheCheck(engine: DatabaseEngine) throws {
        let scratch = try ScratchDatabase(engine)
        let before = try scratch.open(migrations: WorkflowTimeMigrations.all.filter { $0.version < 196 })
        try before.write { tx in
            for (id, outcome) in [("a", " Inatividade "), ("b", "Fechada por falta de retorno"), ("c", "RESOLVIDA")] {
                try tx.execute("""
                    INSERT INTO wf_inactivity_policies (id, stage, days, business_days, reminder_days, to_stage, outcome, calendar_id, active, updated_at)
                    VALUES (?, 'aguardando_cliente', 10, 0, 0, 'finalizado', ?, '', 1, 0)
                    """, [.text(id), .text(outcome)])
            }
        }
        before.close()
        let database = try scratch.open(migrations: WorkflowTimeMigrations.all)
        defer { database.close() }
        let policies = try database.read { tx in try InactivityPolicyStore.all(tx) }
        #expect(policies.map(\.outcome) == ["inatividade", "Fechada por falta de retorno", "resolvida"], "\(engine): \(policies)")
        #expect(policies[1].outcomeProblem() != nil && policies[0].outcomeProblem() == nil)
    }
}
