# What tickets' secondary indexes cost an insert (docs/BENCHMARKS-workflow.md, 2026-11-30): 12,000
# ticket rows as an opening writes them, 12 per transaction (WAL, synchronous=NORMAL), into a copy
# of a fresh workflow database; all indexes, two made partial (`WHERE version_id <> ''`,
# `WHERE agent_id <> ''`: a new ticket has neither), none. CPU per ticket of this process.
# Make the database first: run a release `workflow` once with OCORRENCIAS_DATA_DIR=/tmp/wfsq-schema
# (and OCORRENCIAS_SECRET, WORKFLOW_PORT) until it has migrated, then: /usr/bin/python3 index_cost.py
import sqlite3, time, shutil, os, sys, random
src='/tmp/wfsq-schema/workflow.sqlite'
cols=["id","code","organization_id","organization_name","organization_email","plan","contact_id","contact_name","contact_email","contact_phone","representative_id","representative_name","representative_email","registered_by_agent_id","channel","origin","declared_category","declared_priority","category","priority","product","module","subject","request_text","flow","stage","stage_since","group_id","access_level","opened_at","updated_at","last_interaction_at"]
sql=f"INSERT INTO tickets ({', '.join(cols)}) VALUES ({', '.join('?'*len(cols))}) ON CONFLICT (id) DO NOTHING"
def run(label, prep, n=12000, seed=0):
    path=f'/tmp/wfsq-schema/t-{label}.sqlite'
    for ext in ('','-wal','-shm'):
        if os.path.exists(path+ext): os.remove(path+ext)
    shutil.copy(src,path)
    db=sqlite3.connect(path, isolation_level=None); db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=NORMAL")
    for p in prep: db.execute(p)
    t0=time.process_time(); now=1764500000000
    for k in range(n//12):
        db.execute("BEGIN IMMEDIATE")
        for r in range(12):
            i=k*12+r; at=now+i
            db.execute(sql,[f"01J{i:023d}",f"2026-{i:06d}","org-1","Acme","a@acme","standard",f"c{i%16}","Maria","m@acme","","","","","","portal",1,1,2,1,2,"ERP","Fiscal",f"Bench {i} {random.random()}","Ao transmitir a NF-e a rotina devolve erro 539."*2,"standard","fila",at,"n1",1,at,at,at])
        db.execute("COMMIT")
    cpu=time.process_time()-t0
    print(f"{label}: {cpu/n*1e6:.1f} us CPU per ticket insert (12 per transaction)")
    db.close()
for rep in range(2):
    run("all", [])
    run("partial2", ["DROP INDEX tickets_version","CREATE INDEX tickets_version ON tickets (version_id) WHERE version_id <> ''",
                     "DROP INDEX tickets_agent_stage_opened","CREATE INDEX tickets_agent_stage_opened ON tickets (agent_id, stage, opened_at, id) WHERE agent_id <> ''"])
    run("noidx", [f"DROP INDEX {x}" for x in ["tickets_stage_opened","tickets_group_stage_opened","tickets_agent_stage_opened","tickets_open_opened","tickets_opened","tickets_org_interaction","tickets_version","tickets_open_stage_level"]])
