import Foundation
import IntakeCore
import Messages
import Storage
import TestSupport

/// An intake database at an older schema version, for the tests of a migration: rows are
/// written as that version stored them, then ``harness()`` starts intake on it, which runs the
/// newer migrations.
struct OlderDatabase {
    let engine: DatabaseEngine
    let directory: TemporaryDirectory
    /// The PostgreSQL database's URL; `nil` on SQLite (a file in ``directory``).
    let url: String?
    /// The database at the older version (closed by ``harness()``).
    let database: any Database

    /// A new database with the migrations before `version`.
    init(_ engine: DatabaseEngine, before version: Int, prefix: String) throws {
        self.engine = engine
        directory = try TemporaryDirectory(prefix: prefix)
        url = engine == .postgres ? try PostgresTestServer.shared().createDatabase() : nil
        let configuration = url.map { DatabaseConfiguration(url: $0, sqlitePath: "") }
            ?? DatabaseConfiguration(sqlitePath: directory.path + "/intake.sqlite")
        database = try openDatabase(configuration, migrations: IntakeService.migrations.filter { $0.version < version })
    }

    /// Closes the older database and starts intake on it (every migration after it runs).
    func harness() throws -> IntakeHarness {
        database.close()
        return try IntakeHarness(engine, databaseURL: url, dataDirectory: url == nil ? directory.path : nil)
    }

    /// Organization `o1` (Acme) and its contact `c1` (Maria, `maria@acme.example`), as rows.
    static func insertAcme(_ tx: any SQLExecutor) throws {
        try tx.execute("INSERT INTO organizations (id, code, name, name_key, kind, created_at) VALUES ('o1', 'C000001', 'Acme', 'acme', 1, 0)")
        try tx.execute("""
            INSERT INTO contacts (id, organization_id, name, name_key, email, email_key, created_at)
            VALUES ('c1', 'o1', 'Maria', 'maria', 'maria@acme.example', 'maria@acme.example', 0)
            """)
    }

    /// A ticket's snapshot of organization `o1` and contact `c1`.
    static func ticketSnapshot(id: String, code: String, subject: String = "Antiga") -> IntakeV1.Ticket {
        var snapshot = IntakeV1.Ticket()
        snapshot.id = id
        snapshot.code = code
        var organization = CommonV1.OrganizationRef()
        organization.id = "o1"
        snapshot.organization = organization
        var contact = CommonV1.PersonRef()
        contact.id = "c1"
        snapshot.contact = contact
        snapshot.subject = subject
        return snapshot
    }
}
