# What indexing an opening's search row in FTS5 costs workflow on SQLite, by transaction size
# (docs/BENCHMARKS-workflow.md, 2026-11-30): 3,600 `ticket_search` rows inserted pending
# (`fts_pending = 1`) in transactions of 1, 4, 12 or 48, with and without `DeferredTextIndex`'s two
# end-of-transaction statements (the FTS5 insert of the pending rows, the flag cleared), WAL,
# synchronous=NORMAL, an 8 MiB cache, into copies of a workflow database; CPU per row of this
# process. Usage: /usr/bin/python3 fts_cost.py <workflow.sqlite, e.g. a copy kept from a bench run>
import json, os, random, shutil, sqlite3, sys, time

source = sys.argv[1]

def run(index, transactions, per_transaction):
    path = f"/tmp/fts-cost-{os.getpid()}.sqlite"
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(path + ext):
            os.remove(path + ext)
    shutil.copy(source, path)
    db = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "cache_size=-8192", "wal_autocheckpoint=4000", "temp_store=MEMORY"):
        db.execute("PRAGMA " + pragma)
    base, k = random.randint(0, 10**9), 0
    began = time.process_time()
    for _ in range(transactions):
        db.execute("BEGIN IMMEDIATE")
        ids = []
        for _ in range(per_transaction):
            k += 1
            ids.append(f"X{base}-{k:08d}")
            db.execute("INSERT INTO ticket_search (ticket_id, subject, request, fts_pending) VALUES (?, ?, ?, 1)",
                       (ids[-1], f"bench {k} {random.randint(0, 10**9)}", "ao transmitir a nf e a rotina devolve erro 539"))
        if index:
            db.execute("""INSERT INTO ticket_fts (rowid, subject, request, solution, discussion, public_discussion)
                SELECT seq, subject, request, solution, discussion, public_discussion FROM ticket_search
                WHERE ticket_id IN (SELECT value FROM json_each(?)) AND fts_pending = 1""", (json.dumps(ids),))
            db.execute("UPDATE ticket_search SET fts_pending = 0 WHERE ticket_id IN (SELECT value FROM json_each(?)) AND fts_pending = 1",
                       (json.dumps(ids),))
        db.execute("COMMIT")
    cpu = time.process_time() - began
    db.close()
    for ext in ("", "-wal", "-shm"):
        if os.path.exists(path + ext):
            os.remove(path + ext)
    return cpu * 1e6 / (transactions * per_transaction)

for per in (1, 4, 12, 48):
    rows, indexed = run(False, 3600 // per, per), run(True, 3600 // per, per)
    print(f"{per:2d} per transaction: rows {rows:5.1f} µs, with FTS5 {indexed:5.1f} µs, FTS5's part {indexed - rows:5.1f} µs per row")
