import Storage

/// The knowledge database: articles with their versions and search index, the vocabulary used
/// for typo correction, synonyms, deflection events and votes, the editors' queue, the forum and
/// the ticket links.
///
/// The search index differs per engine. On SQLite, `kb_articles_fts` is an FTS5 external-content
/// table over the pre-analysed `index_title`/`index_body` columns (stems separated by spaces),
/// kept in sync by triggers. On PostgreSQL, `tsv` is a stored generated `tsvector` over the same
/// columns with the `simple` configuration (title weighted A, body B) and a GIN index.
public enum KnowledgeSchema {
    static let commonTables = """
        CREATE TABLE kb_article_versions (
            article_id TEXT NOT NULL, version INTEGER NOT NULL, kind INTEGER NOT NULL, title TEXT NOT NULL,
            body_markdown TEXT NOT NULL, product TEXT NOT NULL, module TEXT NOT NULL, category TEXT NOT NULL,
            tags TEXT NOT NULL, visibility INTEGER NOT NULL, state INTEGER NOT NULL,
            editor_id TEXT NOT NULL, editor_name TEXT NOT NULL, edited_at BIGINT NOT NULL,
            PRIMARY KEY (article_id, version));
        CREATE TABLE kb_terms (term TEXT PRIMARY KEY, df_all INTEGER NOT NULL, df_public INTEGER NOT NULL);
        CREATE TABLE kb_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL);
        INSERT INTO kb_meta (key, value) VALUES ('vocabulary', 1), ('synonyms', 1);
        CREATE TABLE kb_synonyms (id TEXT PRIMARY KEY, terms TEXT NOT NULL, updated_at BIGINT NOT NULL);
        CREATE TABLE kb_events (
            draft_id TEXT NOT NULL, kind TEXT NOT NULL, article_id TEXT NOT NULL, actor_id TEXT NOT NULL,
            product TEXT NOT NULL, module TEXT NOT NULL, at BIGINT NOT NULL);
        CREATE INDEX kb_events_draft ON kb_events (draft_id, at);
        CREATE INDEX kb_events_at ON kb_events (at);
        CREATE TABLE kb_votes (
            article_id TEXT NOT NULL, voter_id TEXT NOT NULL, helpful INTEGER NOT NULL, draft_id TEXT NOT NULL,
            voted_at BIGINT NOT NULL, PRIMARY KEY (article_id, voter_id));
        CREATE TABLE kb_queue (
            id TEXT PRIMARY KEY, kind INTEGER NOT NULL, status INTEGER NOT NULL, source_key TEXT NOT NULL UNIQUE,
            ticket_id TEXT NOT NULL, ticket_code TEXT NOT NULL, organization_id TEXT NOT NULL,
            organization_name TEXT NOT NULL, contact_name TEXT NOT NULL, contact_email TEXT NOT NULL,
            product TEXT NOT NULL, module TEXT NOT NULL, category TEXT NOT NULL,
            question TEXT NOT NULL, answer TEXT NOT NULL, requested_by_id TEXT NOT NULL, requested_by_name TEXT NOT NULL,
            created_at BIGINT NOT NULL, reviewed_by_name TEXT NOT NULL, reviewed_at BIGINT NOT NULL,
            note TEXT NOT NULL, article_id TEXT NOT NULL, forum_entry_id TEXT NOT NULL);
        CREATE INDEX kb_queue_status ON kb_queue (status, created_at);
        CREATE TABLE kb_forum (
            id TEXT PRIMARY KEY, queue_id TEXT NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL,
            product TEXT NOT NULL, module TEXT NOT NULL, category TEXT NOT NULL,
            approved_by TEXT NOT NULL, approved_at BIGINT NOT NULL);
        CREATE INDEX kb_forum_filter ON kb_forum (product, module, category);
        CREATE TABLE kb_ticket_links (
            ticket_id TEXT NOT NULL, article_id TEXT NOT NULL, agent_id TEXT NOT NULL, event_id TEXT NOT NULL,
            linked_at BIGINT NOT NULL, PRIMARY KEY (ticket_id, article_id));
        """

    static let articleColumns = """
        id TEXT NOT NULL UNIQUE, kind INTEGER NOT NULL, title TEXT NOT NULL, body_markdown TEXT NOT NULL,
        body_html TEXT NOT NULL, summary TEXT NOT NULL, product TEXT NOT NULL, module TEXT NOT NULL,
        category TEXT NOT NULL, tags TEXT NOT NULL, visibility INTEGER NOT NULL, state INTEGER NOT NULL,
        author_id TEXT NOT NULL, author_name TEXT NOT NULL, editor_id TEXT NOT NULL, editor_name TEXT NOT NULL,
        version INTEGER NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,
        index_title TEXT NOT NULL, index_body TEXT NOT NULL
        """

    /// Versioned migrations (appended to, never edited).
    public static let migrations: [Migration] = [
        Migration(version: 1, name: "knowledge_base", sqlite: """
            CREATE TABLE kb_articles (seq INTEGER PRIMARY KEY AUTOINCREMENT, \(articleColumns));
            CREATE INDEX kb_articles_filter ON kb_articles (state, visibility, product, module);
            CREATE VIRTUAL TABLE kb_articles_fts USING fts5(
                index_title, index_body, content='kb_articles', content_rowid='seq', tokenize='unicode61');
            CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
                INSERT INTO kb_articles_fts (rowid, index_title, index_body) VALUES (new.seq, new.index_title, new.index_body);
            END;
            CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
                INSERT INTO kb_articles_fts (kb_articles_fts, rowid, index_title, index_body)
                VALUES ('delete', old.seq, old.index_title, old.index_body);
            END;
            CREATE TRIGGER kb_articles_fts_update AFTER UPDATE OF index_title, index_body ON kb_articles BEGIN
                INSERT INTO kb_articles_fts (kb_articles_fts, rowid, index_title, index_body)
                VALUES ('delete', old.seq, old.index_title, old.index_body);
                INSERT INTO kb_articles_fts (rowid, index_title, index_body) VALUES (new.seq, new.index_title, new.index_body);
            END;
            \(commonTables)
            """, postgres: """
            CREATE TABLE kb_articles (seq BIGSERIAL PRIMARY KEY, \(articleColumns),
                tsv tsvector GENERATED ALWAYS AS (
                    setweight(to_tsvector('simple', index_title), 'A') || setweight(to_tsvector('simple', index_body), 'B')) STORED);
            CREATE INDEX kb_articles_filter ON kb_articles (state, visibility, product, module);
            CREATE INDEX kb_articles_tsv ON kb_articles USING GIN (tsv) WITH (fastupdate = off);
            \(commonTables)
            """),
        // The in-memory search index follows changes by version: every write to an article or a
        // forum entry takes the next `kb_meta.index` value (the row lock orders them by commit).
        Migration(version: 2, name: "search_index_versions", sql: """
            ALTER TABLE kb_articles ADD COLUMN index_version BIGINT NOT NULL DEFAULT 0;
            CREATE INDEX kb_articles_index_version ON kb_articles (index_version);
            ALTER TABLE kb_forum ADD COLUMN index_version BIGINT NOT NULL DEFAULT 0;
            CREATE INDEX kb_forum_index_version ON kb_forum (index_version);
            INSERT INTO kb_meta (key, value) VALUES ('index', 0);
            """),
        // Which `TextAnalyzer.version` produced the stored stems (1: every one before the
        // counter); newer code analyses the articles again at start (`Reanalysis`).
        Migration(version: 3, name: "analyzer_version", sql: """
            INSERT INTO kb_meta (key, value) VALUES ('analyzer', 1);
            """),
    ]
}
