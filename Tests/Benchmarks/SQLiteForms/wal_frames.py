# WAL frames (pages written) per opened ticket in workflow's SQLite database during an end-to-end
# run, by B-tree (docs/BENCHMARKS-workflow.md, 2026-11-30). Two steps:
#   watch: /usr/bin/python3 wal_frames.py watch <workflow.sqlite of the running bench> OUT.json
#          every 0.3 s reads the WAL's committed frames (those with the header's salt) and the
#          tickets count, until the database goes away or 120 s pass;
#   sum:   /usr/bin/python3 wal_frames.py sum OUT.json <a copy of that workflow.sqlite>
#          pairs of consecutive snapshots with the same salt (no checkpoint restart between them):
#          frames and tickets between them, the frames' pages mapped to their B-tree by `dbstat`.
# The bench's data directory is /tmp/bench-gateway.* (scripts/bench-gateway), removed at its end:
# copy workflow.sqlite before that, or run a copy of the script that keeps it.
import collections, json, os, sqlite3, struct, sys, time

def watch(db, out):
    snaps, began = [], time.time()
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    while time.time() - began < 120 and os.path.exists(db):
        try:
            tickets = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
            with open(db + "-wal", "rb") as f:
                data = f.read()
        except Exception:
            time.sleep(0.3)
            continue
        if len(data) >= 32:
            _, _, page_size, _, salt1, salt2, _, _ = struct.unpack(">IIIIIIII", data[:32])
            frame, offset, commits, current = 24 + page_size, 32, [], []
            while offset + frame <= len(data):
                page, commit, s1, s2 = struct.unpack(">IIII", data[offset:offset + 16])
                if (s1, s2) != (salt1, salt2):
                    break
                current.append(page)
                if commit:
                    commits.append(current)
                    current = []
                offset += frame
            snaps.append({"tickets": tickets, "salt": [salt1, salt2], "commits": commits})
        time.sleep(0.3)
    json.dump(snaps, open(out, "w"))

def summarize(path, db):
    snaps = json.load(open(path))
    owner = dict((page, name) for name, page in sqlite3.connect(db).execute("SELECT name, pageno FROM dbstat"))
    frames = tickets = commits = 0
    by = collections.Counter()
    for a, b in zip(snaps, snaps[1:]):
        if a["salt"] != b["salt"] or b["tickets"] == a["tickets"] or len(b["commits"]) < len(a["commits"]):
            continue
        tickets += b["tickets"] - a["tickets"]
        for pages in b["commits"][len(a["commits"]):]:
            commits += 1
            frames += len(pages)
            for page in pages:
                by[owner.get(page, "?")] += 1
    print(f"tickets {tickets}, commits {commits} ({tickets / max(1, commits):.2f} tickets per commit), "
          f"frames {frames}: {frames / max(1, tickets):.2f} per ticket, {frames / max(1, commits):.1f} per commit")
    for name, n in by.most_common(45):
        print(f"  {n / max(1, tickets):6.2f} per ticket  {n / max(1, commits):6.2f} per commit  {name}")

if __name__ == "__main__":
    (watch if sys.argv[1] == "watch" else summarize)(sys.argv[2], sys.argv[3])
