import Storage

/// Brings the stems stored with each article (`index_title`, `index_body`, which the in-memory
/// index, FTS5 and the PostgreSQL `tsvector` read) to the current ``TextAnalyzer/version``, so
/// a change of the analysis (plurals, say) reaches the articles written before it.
///
/// Runs once per process, in the background before the first index build (``SearchCache``):
/// articles are read in batches of ``batch`` by `seq`, and only those whose stems change are
/// written, each batch in one transaction with the next `kb_meta.index` version (other instances
/// pick the rows up as any edit). A row edited meanwhile (its `version` moved) is left alone: the
/// edit stored stems of the current analysis. Then `kb_meta.analyzer` records the version.
/// Forum entries are analysed when indexed, and the vocabulary holds words, not stems: neither
/// needs it.
enum Reanalysis {
    static let batch = 500

    /// - Returns: how many articles got new stems (0 when the stored ones are current).
    @discardableResult
    static func run(_ database: any Database) throws -> Int {
        let stored = try database.read { try $0.scalar("SELECT value FROM kb_meta WHERE key = 'analyzer'", []).integerValue }
        guard let stored, stored < TextAnalyzer.version else { return 0 }
        var after: Int64 = 0
        var changed = 0
        while true {
            let rows = try database.read { tx in
                try tx.query("""
                    SELECT seq, id, version, title, tags, body_markdown, index_title, index_body FROM kb_articles
                    WHERE seq > ? ORDER BY seq LIMIT ?
                    """, [.integer(after), .integer(Int64(batch))])
            }
            guard let last = rows.last else { break }
            after = try last.int("seq")
            var updates: [[SQLValue]] = []
            for row in rows {
                let stems = ArticleStore.indexStems(title: try row.text("title"), tags: ArticleRecord.splitTags(try row.text("tags")),
                                                    body: try row.text("body_markdown"))
                let (storedTitle, storedBody) = (try row.text("index_title"), try row.text("index_body"))
                guard stems.title != storedTitle || stems.body != storedBody else { continue }
                updates.append([.text(stems.title), .text(stems.body), .text(try row.text("id")), .integer(try row.int("version"))])
            }
            guard !updates.isEmpty else { continue }
            changed += try database.write { tx in
                let indexVersion = try IndexVersion.next(tx)
                var written = 0
                for update in updates {
                    written += try tx.execute("""
                        UPDATE kb_articles SET index_title = ?, index_body = ?, index_version = ? WHERE id = ? AND version = ?
                        """, [update[0], update[1], .integer(indexVersion), update[2], update[3]])
                }
                return written
            }
        }
        try database.write { tx in
            try tx.execute("UPDATE kb_meta SET value = ? WHERE key = 'analyzer' AND value < ?",
                           [.integer(TextAnalyzer.version), .integer(TextAnalyzer.version)])
        }
        return changed
    }
}
