# What a row costs SQLite in each multi-row INSERT form (docs/BENCHMARKS-workflow.md, 2026-11-30,
# "a delivery's openings together on SQLite"): 12 rows of 32 text columns per transaction, 300
# transactions, in memory, CPU per row of this process (Python's own per-call cost included).
# Forms: one row per statement; INSERT … SELECT over json_each with `value ->> 'col'` per column
# (SQLite 3.40 re-renders the row's object for every column read); the same from a MATERIALIZED
# CTE of the rows; rows as JSON arrays (`v ->> 0`); a `VALUES` CTE of bound parameters.
# Run with the system's Python (its sqlite3 module is Debian's libsqlite3): /usr/bin/python3 row_forms.py
import sqlite3, json, time, os
N=12; REPS=300
cols=[f"c{i}" for i in range(32)]
def mkdb():
    db=sqlite3.connect(":memory:", isolation_level=None)
    db.execute(f"CREATE TABLE t (id TEXT PRIMARY KEY, {', '.join(c+' TEXT' for c in cols[1:])})")
    return db
def rows(k):
    return [[f"id{k}-{r}"]+[("valor %d texto " % i)*3 for i in range(1,32)] for r in range(N)]
# one by one
db=mkdb(); ins=f"INSERT INTO t ({', '.join(['id']+cols[1:])}) VALUES ({', '.join('?'*32)}) ON CONFLICT (id) DO NOTHING"
t=time.process_time()
for k in range(REPS):
    db.execute("BEGIN")
    for r in rows(k): db.execute(ins, r)
    db.execute("COMMIT")
print("one by one", (time.process_time()-t)/REPS/N*1e6, "us/row")
names=['id']+cols[1:]
def objs(k): return json.dumps([dict(zip(names,r)) for r in rows(k)])
for label, sql in [
 ("json_each ->>", f"INSERT INTO t ({', '.join(names)}) SELECT {', '.join(names)} FROM (SELECT {', '.join(f'value ->> {chr(39)}{n}{chr(39)} AS {n}' for n in names)} FROM json_each(?)) AS x WHERE true ON CONFLICT (id) DO NOTHING"),
 ("json_each materialized", f"WITH j(v) AS MATERIALIZED (SELECT value FROM json_each(?)) INSERT INTO t ({', '.join(names)}) SELECT {', '.join(names)} FROM (SELECT {', '.join(f'v ->> {chr(39)}{n}{chr(39)} AS {n}' for n in names)} FROM j) AS x WHERE true ON CONFLICT (id) DO NOTHING"),
]:
    db=mkdb(); t=time.process_time()
    for k in range(REPS):
        p=objs(k)
        db.execute("BEGIN"); db.execute(sql,(p,)); db.execute("COMMIT")
    print(label, (time.process_time()-t)/REPS/N*1e6, "us/row", db.execute("select count(*) from t").fetchone())
# arrays
def arrs(k): return json.dumps(rows(k))
sql=f"WITH j(v) AS MATERIALIZED (SELECT value FROM json_each(?)) INSERT INTO t ({', '.join(names)}) SELECT {', '.join(names)} FROM (SELECT {', '.join(f'v ->> {i} AS {n}' for i,n in enumerate(names))} FROM j) AS x WHERE true ON CONFLICT (id) DO NOTHING"
db=mkdb(); t=time.process_time()
for k in range(REPS):
    p=arrs(k); db.execute("BEGIN"); db.execute(sql,(p,)); db.execute("COMMIT")
print("arrays materialized", (time.process_time()-t)/REPS/N*1e6, "us/row")
vals="("+", ".join("?"*32)+")"
sql=f"WITH x({', '.join(names)}) AS (VALUES {', '.join([vals]*N)}) INSERT INTO t ({', '.join(names)}) SELECT {', '.join(names)} FROM x WHERE true ON CONFLICT (id) DO NOTHING"
db=mkdb(); t=time.process_time()
for k in range(REPS):
    p=[v for r in rows(k) for v in r]; db.execute("BEGIN"); db.execute(sql,p); db.execute("COMMIT")
print("VALUES cte", (time.process_time()-t)/REPS/N*1e6, "us/row")
