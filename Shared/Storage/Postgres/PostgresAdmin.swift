import CPostgres

/// Statements that must run outside a transaction (`CREATE DATABASE`, `DROP DATABASE`), for
/// tooling and tests inside this package.
package enum PostgresAdmin {
    /// Runs `sql` on a fresh connection to `url` with the simple-query protocol, then disconnects.
    /// - Throws: ``StorageError`` when the server cannot be reached or the statement fails.
    package static func execute(url: String, _ sql: String, connectTimeout: Duration = .seconds(5)) throws {
        let connection = try PostgresConnection(settings: PostgresConnectionSettings(
            url: url, connectTimeout: connectTimeout, applicationName: "ocorrencias-admin", statementCacheSize: 1))
        defer { connection.close() }
        try connection.executeScript(sql)
    }
}
