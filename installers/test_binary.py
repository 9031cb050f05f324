"""Prints the executable of the test target named in argv[1], read from the JSON messages of
`cargo test --no-run --message-format=json` on stdin (the path carries a hash cargo picks)."""

import json
import sys

name = sys.argv[1]
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == name:
        if message.get("executable"):
            print(message["executable"])
            sys.exit(0)
sys.exit(f"no test binary named {name} in cargo's output")
