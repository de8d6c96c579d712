// The intake benchmark: ticket opens per second over RPC against a real intake process (with and
// without a small attachment), on SQLite and PostgreSQL, next to the raw insert rate of a row of
// the same size on the same engine (SQLite: a prepared insert loop with the same durability
// settings; PostgreSQL: pgbench with a custom insert script, as many clients as calls in flight),
// and customer lookups at 100,000 contacts. `--clients` connections each keep each of the
// `--in-flight` numbers of calls in flight in turn (default 1 and 8).
//   intake-bench [--engines sqlite,postgres] [--seconds 5] [--clients 8] [--in-flight 1,8]
//                [--attachment-bytes 4096] [--lookup-contacts 100000] [--group-commit true|false|default]
//                [--relay idle|default] [--in-process true|false] [--upload-first-threads false|true]
IntakeBench.run()
