// The intake benchmark: ticket opens per second over RPC against a real intake process (with and
// without a small attachment), on SQLite and PostgreSQL, next to the raw insert rate of a row of
// the same size on the same engine (SQLite: a prepared insert loop with the same durability
// settings; PostgreSQL: pgbench with a custom insert script), and customer lookups at 100,000
// contacts.
//   intake-bench [--engines sqlite,postgres] [--seconds 5] [--clients 8] [--attachment-bytes 4096]
//                [--lookup-contacts 100000]
IntakeBench.run()
