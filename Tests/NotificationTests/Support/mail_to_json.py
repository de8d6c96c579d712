#!/usr/bin/python3
"""Parses every DIR/*.eml with Python's own e-mail parser (an independent MIME implementation)
and prints a JSON list: decoded headers, the text and HTML bodies, attachments, envelope."""
import base64
import email
import email.policy
import glob
import hashlib
import json
import os
import sys

out = []
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.eml"))):
    with open(path, "rb") as f:
        raw = f.read()
    message = email.message_from_bytes(raw, policy=email.policy.default)
    with open(path[:-4] + ".json") as f:
        envelope = json.load(f)
    record = {
        "file": os.path.basename(path),
        "envelope": envelope,
        "headers": {k: str(v) for k, v in message.items()},
        "raw_subject": raw.split(b"\r\nSubject: ", 1)[1].split(b"\r\n", 1)[0].decode("ascii", "replace") if b"\r\nSubject: " in raw else "",
        "content_type": message.get_content_type(),
        "defects": [str(d) for d in message.defects],
        "text": "",
        "html": "",
        "attachments": [],
        "all_ascii": all(b < 128 for b in raw),
        "crlf_only": b"\n" not in raw.replace(b"\r\n", b""),
    }
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            content = part.get_payload(decode=True)
            record["attachments"].append({"filename": part.get_filename(), "content_type": part.get_content_type(),
                                          "sha256": hashlib.sha256(content).hexdigest(), "size": len(content)})
        elif part.get_content_type() == "text/plain":
            record["text"] = part.get_content()
        elif part.get_content_type() == "text/html":
            record["html"] = part.get_content()
    out.append(record)
print(json.dumps(out))
