"""Peer: the seed tutorial's loop. requests.get page after page, one gzip JSON-lines file per
response. Prints {"ms": ..., "records": ...}."""

import gzip
import json
import os
import shutil
import sys
import tempfile
import time

import requests

options = json.loads(sys.argv[1])
url, route = options["url"], options["route"]
out = tempfile.mkdtemp(prefix="peer-tutorial-")
started = time.perf_counter()
records = 0
page = 1
next_url = f"{url}/pages?page=1" if route == "pages" else f"{url}/cursor"
while next_url:
    body = requests.get(next_url).json()
    data = body["data"]
    if not data:
        break
    with gzip.open(os.path.join(out, f"page-{page}.jsonl.gz"), "wt", encoding="utf-8") as f:
        for record in data:
            f.write(json.dumps(record) + "\n")
    records += len(data)
    page += 1
    if route == "pages":
        next_url = f"{url}/pages?page={page}"
    else:
        cursor = body["meta"].get("next_cursor")
        next_url = f"{url}/cursor?cursor={cursor}" if cursor else None
ms = (time.perf_counter() - started) * 1000
shutil.rmtree(out, ignore_errors=True)
print(json.dumps({"ms": ms, "records": records}))
