import Foundation
import Storage
import Testing
import TestSupport

/// The backup loop of docs/DEPLOYMENT.md ("Backups") over a running deployment: every service's
/// executable takes `backup` and leaves a checked copy of its database.
@Suite("Every service backs up while the deployment runs", .serialized)
struct DeploymentBackupTests {
    @Test("gateway, intake, workflow, notification and knowledge each copy their SQLite database while serving; the copies hold the ticket and the sign-ins")
    func everyService() throws {
        let deployment = try ProxyTests.Deployment(engine: .sqlite)
        let gateway = deployment.gateway
        let seeded = try TicketFlowTests.seed(gateway)
        let ticketID = try ReplyFilesTests.openTicket(gateway, seeded, subject: "Cópia de segurança")
        // Workflow has the ticket once intake's event reached it.
        #expect(waitFor(20) { (try? gateway.request("GET", "/v1/tickets/\(ticketID)", bearer: seeded.ana).status) == 200 })
        let destination = deployment.directory.path + "-backup"
        defer { try? FileManager.default.removeItem(atPath: destination) }
        for (name, dataDirectory) in [("gateway", gateway.directory.path), ("intake", deployment.directory.path),
                                      ("workflow", deployment.directory.path), ("notification", deployment.directory.path),
                                      ("knowledge", deployment.directory.path)] {
            let run = try ChildProcess.run(BuildProducts.executable(name).path, ["backup", "--data-dir", dataDirectory, "--to", destination],
                                           environment: ChildProcess.inheritedEnvironment(adding: ["OCORRENCIAS_SECRET": "unused"]))
            #expect(run.status == 0, "\(name): \(run.errorText)")
            #expect(run.outputText.contains("\(destination)/\(name).sqlite"), "\(name): \(run.outputText)")
        }
        func count(_ service: String, _ sql: String) throws -> Int64 {
            let copy = try openDatabase(DatabaseConfiguration(sqlitePath: "\(destination)/\(service).sqlite", poolSize: 1), migrations: [])
            defer { copy.close() }
            return try copy.read { tx in try tx.queryOne(sql, [])?.int("n") } ?? -1
        }
        #expect(try count("intake", "SELECT COUNT(*) AS n FROM tickets WHERE id = '\(ticketID)'") == 1)
        #expect(try count("workflow", "SELECT COUNT(*) AS n FROM tickets WHERE id = '\(ticketID)'") == 1)
        #expect(try count("gateway", "SELECT COUNT(*) AS n FROM gateway_users WHERE email = 'maria@acme.com.br'") == 1)
    }
}
