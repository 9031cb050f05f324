"""Checks strace logs (`-e trace=connect,sendto,sendmsg,bind`) for sockets that could leave
the machine: every address must be loopback (127.0.0.0/8, ::1, ::ffff:127.x), a Unix socket
or netlink. Prints a table of what was seen and exits 1 listing any other address.

Usage: python3 socket_report.py STRACE_LOG...
"""

import ipaddress
import re
import sys
from collections import Counter

CALL = re.compile(r"^\s*(?:\[pid\s+)?\d+\]?\s+(connect|sendto|sendmsg|bind)\(")
FAMILY = re.compile(r"sa_family=(AF_[A-Z0-9]+)")
IPV4 = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
IPV6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6, "([^"]+)"')
UNIX_PATH = re.compile(r'sun_path=(@?"[^"]*")')
LOCAL_FAMILIES = {"AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_UNSPEC"}


def classify(line):
    """(call, family, destination, allowed) for one strace line with an address, else None."""
    call = CALL.match(line)
    family = FAMILY.search(line)
    if not call or not family:
        return None
    name, family = call.group(1), family.group(1)
    if family in LOCAL_FAMILIES:
        path = UNIX_PATH.search(line)
        return name, family, path.group(1) if path else "-", True
    pattern = IPV4 if family == "AF_INET" else IPV6 if family == "AF_INET6" else None
    found = pattern.search(line) if pattern else None
    if not found:
        return name, family, "unparsed: " + line.strip()[:160], False
    port, host = found.groups()
    address = ipaddress.ip_address(host)
    mapped = getattr(address, "ipv4_mapped", None)
    loopback = address.is_loopback or bool(mapped and mapped.is_loopback)
    return name, family, f"{host}:{port}", loopback


def report(paths):
    """Reads the logs; returns (counts of allowed destinations, list of offending lines)."""
    seen, offending = Counter(), []
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as log:
            for line in log:
                found = classify(line)
                if found is None:
                    continue
                name, family, destination, allowed = found
                if allowed:
                    seen[(name, family, destination)] += 1
                else:
                    offending.append(f"{path}: {line.strip()}")
    return seen, offending


def main(paths):
    seen, offending = report(paths)
    print("| call | family | address | count |")
    print("|---|---|---|---|")
    for (name, family, destination), count in sorted(seen.items()):
        print(f"| {name} | {family} | {destination} | {count} |")
    if offending:
        print(f"\nFAILED: {len(offending)} socket calls to non-loopback addresses:")
        for line in offending[:50]:
            print("  " + line)
        return 1
    print(f"\nOK: {sum(seen.values())} socket calls, all loopback, Unix or netlink")
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
