/// Where ``openDatabase(_:migrations:progress:)`` stands in bringing a schema up to date, reported
/// as it goes (ServiceKit answers health checks and writes its log lines from it).
///
/// Steps count the migrations pending when the history was read (the built-in ones and the
/// service's together), from 1: "migration 12 of 30" is the twelfth of thirty still to apply.
public enum MigrationProgress: Sendable, Equatable {
    /// Reading which migrations were applied already.
    case checking
    /// `count` migrations are pending; none applied yet (`count` may be 0).
    case started(count: Int)
    /// Applying pending migration `step` of `count`, `migration` naming it (`service 12 create_tickets`).
    case applying(step: Int, count: Int, migration: String)
    /// Migration `step` of `count` waits for the schema lock: another process holds it (another
    /// instance migrating, a long transaction on SQLite, a long query on a table the migration
    /// alters on PostgreSQL). Reported again at every failed attempt (one per busy timeout);
    /// the migration waits up to ``DatabaseConfiguration/migrationLockWait``, then fails.
    case waitingForLock(step: Int, count: Int, migration: String, cause: String)
    /// Every pending migration was applied (`applied` of them: fewer than were pending when
    /// another process applied some meanwhile).
    case finished(applied: Int)
}
