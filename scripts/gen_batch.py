#!/usr/bin/env python3
"""Writes a batch file of N requests for `airlock batch` benchmarks: fixtures/batch/seed.json's
requests repeated with fresh ids and users (each repetition its own people, so one user's
blacklisting or budget does not decide the others). --text-only drops the `calls`, so the
model plans every request."""
import argparse
import json
import pathlib

parser = argparse.ArgumentParser()
parser.add_argument("seed", type=pathlib.Path)
parser.add_argument("count", type=int)
parser.add_argument("out", type=pathlib.Path)
parser.add_argument("--text-only", action="store_true")
args = parser.parse_args()

seed = json.loads(args.seed.read_text())
requests = []
for index in range(args.count):
    request = dict(seed[index % len(seed)])
    round_ = index // len(seed)
    request["id"] = f"{request['id']}-{round_}"
    request["user"] = f"{request['user']}-{round_}"
    if args.text_only:
        request.pop("calls", None)
    requests.append(request)
args.out.write_text(json.dumps(requests, indent=1))
