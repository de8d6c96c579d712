import Foundation
import Messages
import Storage
import Synchronization

/// The part of the catalog every open reads (active channels and origins, custom-field
/// definitions), kept in memory and tagged with the catalog's version.
///
/// The version is the counter row `catalog` (table `counters`): every write to `list_entries` or
/// `custom_fields` (``CatalogStore/put(_:list:_:)``, ``CatalogStore/put(_:_:)``) bumps it in
/// the same transaction. An open reads the version in the statement that already reads its
/// organization and contact (``DirectoryStore/forOpening(_:organizationID:contactID:lockContact:)``),
/// so checking the cache costs no statement, and a change made by any intake process sharing
/// the database is seen by the next open that starts after it committed, exactly as when the
/// catalog was read from the tables. A reload reads the version and the catalog in one statement,
/// so a snapshot is never tagged with a version older than its content.
///
/// A migration that changes `list_entries` or `custom_fields` while other intake processes run
/// must bump the counter too.
final class CatalogCache: Sendable {
    /// The name of the version counter row.
    static let versionCounter = "catalog"

    struct Snapshot: Sendable {
        let version: Int64
        let channels: [String: IntakeV1.ListEntry]
        let origins: [String: IntakeV1.ListEntry]
        let fields: [IntakeV1.CustomField]
    }

    private let current = Mutex<Snapshot?>(nil)

    /// What an open needs from the catalog, from memory when `version` is the cached one.
    /// - Parameter version: The catalog version read in this transaction; `nil` reads the tables.
    func forOpening(_ tx: any SQLExecutor, version: Int64?, channel: String, origin: String) throws
        -> (channel: IntakeV1.ListEntry?, origin: IntakeV1.ListEntry?, fields: [IntakeV1.CustomField]) {
        let snapshot: Snapshot
        if let version, let cached = current.withLock({ $0 }), cached.version == version {
            snapshot = cached
        } else {
            snapshot = try Self.load(tx)
            current.withLock { stored in
                if stored == nil || stored!.version < snapshot.version { stored = snapshot }
            }
        }
        return (snapshot.channels[channel], snapshot.origins[origin], snapshot.fields)
    }

    /// Drops the cached snapshot (the next open reloads it).
    func invalidate() {
        current.withLock { $0 = nil }
    }

    /// The catalog and its version, in one statement.
    static func load(_ tx: any SQLExecutor) throws -> Snapshot {
        let rows = try tx.query("""
            SELECT list, key, origin_kind, NULL AS definition, position,
                   COALESCE((SELECT last_value FROM counters WHERE name = ?), 0) AS version
            FROM list_entries WHERE active = 1 AND list IN ('channel', 'origin')
            UNION ALL
            SELECT 'field' AS list, key, 0 AS origin_kind, definition, position,
                   COALESCE((SELECT last_value FROM counters WHERE name = ?), 0) AS version
            FROM custom_fields
            UNION ALL
            SELECT 'version' AS list, '' AS key, 0 AS origin_kind, NULL AS definition, 0 AS position,
                   COALESCE((SELECT last_value FROM counters WHERE name = ?), 0) AS version
            ORDER BY position, key
            """, [.text(versionCounter), .text(versionCounter), .text(versionCounter)])
        var version: Int64 = 0
        var channels: [String: IntakeV1.ListEntry] = [:], origins: [String: IntakeV1.ListEntry] = [:]
        var fields: [IntakeV1.CustomField] = []
        for row in rows {
            version = try row.int("version")
            switch try row.text("list") {
            case "version": break
            case "field":
                fields.append(try IntakeV1.CustomField(serializedBytes: try row.blob("definition")))
            case let list:
                var entry = IntakeV1.ListEntry()
                entry.key = try row.text("key")
                entry.active = true
                entry.originKind = CommonV1.Origin(_protoRawValue: Int32(try row.int("origin_kind")))
                if list == "channel" { channels[entry.key] = entry } else { origins[entry.key] = entry }
            }
        }
        return Snapshot(version: version, channels: channels, origins: origins, fields: fields)
    }
}
