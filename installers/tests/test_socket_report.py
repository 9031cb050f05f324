"""Tests of the airgap test's strace log check (installers/socket_report.py)."""

import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import socket_report  # noqa: E402

LOOPBACK_AND_UNIX = """\
4242  connect(5, {sa_family=AF_UNIX, sun_path="/var/run/docker.sock"}, 110) = 0
4243  connect(7, {sa_family=AF_INET, sin_port=htons(41234), sin_addr=inet_addr("127.0.0.1")}, 16) = 0
4243  bind(8, {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0
4244  sendto(3, [{nlmsg_len=20, nlmsg_type=RTM_GETLINK}], 20, 0, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 20
4245  sendto(9, "ping", 4, MSG_NOSIGNAL, NULL, 0) = 4
4246  connect(10, {sa_family=AF_INET6, sin6_port=htons(80), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6_addr), sin6_scope_id=0}, 28 <unfinished ...>
"""

EGRESS = [
    '4300  connect(5, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = -1 ENETUNREACH (Network is unreachable)\n',
    '4301  connect(6, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2606:4700::1111", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH\n',
    '4302  bind(7, {sa_family=AF_INET, sin_port=htons(8080), sin_addr=inet_addr("0.0.0.0")}, 16) = 0\n',
    '4303  sendto(8, "x", 1, 0, {sa_family=AF_PACKET, sll_protocol=htons(ETH_P_ALL), sll_ifindex=1}, 20) = 1\n',
]


def write(text):
    handle = tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
    handle.write(text)
    handle.close()
    return handle.name


class SocketReportTest(unittest.TestCase):
    def test_loopback_unix_and_netlink_pass(self):
        path = write(LOOPBACK_AND_UNIX)
        seen, offending = socket_report.report([path])
        self.assertEqual(offending, [])
        self.assertIn(("connect", "AF_UNIX", '"/var/run/docker.sock"'), seen)
        self.assertIn(("connect", "AF_INET", "127.0.0.1:41234"), seen)
        self.assertIn(("connect", "AF_INET6", "::ffff:127.0.0.1:80"), seen)
        self.assertEqual(socket_report.main([path]), 0)

    def test_each_way_out_fails(self):
        for line in EGRESS:
            with self.subTest(line=line[:60]):
                path = write(LOOPBACK_AND_UNIX + line)
                _, offending = socket_report.report([path])
                self.assertEqual(len(offending), 1, offending)
                self.assertEqual(socket_report.main([path]), 1)


if __name__ == "__main__":
    unittest.main()
