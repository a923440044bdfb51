#!/usr/bin/env python3
"""QEMU plugin benchmark (docs/benchmarks.md, "QEMU" section).

1. `virtkit start` until the domain is running, against starting the same
   QEMU (the argv virtkit used, read from /proc) by hand until QMP answers
   `query-status`, interleaved in the same run.
2. `virtkit list` with N running guests (TCG, 16 MiB, no disk: SeaBIOS idles).
3. Memory the managing process holds per tracked guest: RSS of
   `virtkit event --loop` (which takes over every running guest's monitor)
   with N guests minus with none, divided by N.

usage: bench_qemu.py BUILD_DIR [ROUNDS] [GUESTS]
Everything lives in a temporary embed root; every QEMU is destroyed at the end.
"""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 15
GUESTS = int(sys.argv[3]) if len(sys.argv) > 3 else 50
VIRTKIT = os.path.join(BUILD, "bin", "virtkit")


def guest_xml(name):
    return ("<domain type='qemu'><name>%s</name><memory unit='MiB'>16</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<devices><memballoon model='none'/></devices></domain>" % name)


def vk(uri, *args, check=True):
    return subprocess.run([VIRTKIT, "-c", uri, *args], check=check, capture_output=True, text=True).stdout


def timed(fn):
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def qmp_until_status(path, deadline):
    while True:
        try:
            s = socket.socket(socket.AF_UNIX)
            s.connect(path)
            break
        except OSError:
            s.close()
            if time.perf_counter() > deadline:
                raise RuntimeError("no monitor")
            time.sleep(0.001)
    f = s.makefile("rwb", buffering=0)
    f.readline()  # greeting
    f.write(b'{"execute":"qmp_capabilities"}\n')
    f.readline()
    f.write(b'{"execute":"query-status"}\n')
    while b'"return"' not in f.readline():
        pass
    return s


def qemu_argv_of(uuid):
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            argv = open("/proc/%s/cmdline" % pid, "rb").read().split(b"\0")[:-1]
        except OSError:
            continue
        if argv and b"qemu-system" in argv[0] and uuid.encode() in argv:
            return [a.decode() for a in argv]
    raise RuntimeError("QEMU of %s not found" % uuid)


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    root = tempfile.mkdtemp(prefix="virtkit-bench-qemu-")
    uri = "qemu:///embed?root=" + root
    try:
        xml = os.path.join(root, "bench.xml")
        open(xml, "w").write(guest_xml("bench"))
        vk(uri, "define", xml)
        uuid = vk(uri, "domuuid", "bench").strip()
        vk(uri, "start", "bench")  # warms the capability cache
        argv = qemu_argv_of(uuid)
        vk(uri, "destroy", "bench")
        bare_dir = os.path.join(root, "bare")
        os.makedirs(bare_dir)
        bare_sock = os.path.join(bare_dir, "qmp.sock")
        monitor_sock = os.path.join(root, "run", "domains", uuid, "monitor.sock")
        bare_argv = [a.replace(monitor_sock, bare_sock).replace("guest=bench", "guest=bare") for a in argv]

        ours, bare = [], []
        for _ in range(ROUNDS):
            ours.append(timed(lambda: vk(uri, "start", "bench")))
            vk(uri, "destroy", "bench")

            def by_hand():
                p = subprocess.Popen(bare_argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
                by_hand.proc = p
                by_hand.sock = qmp_until_status(bare_sock, time.perf_counter() + 10)
            bare.append(timed(by_hand))
            by_hand.sock.close()
            by_hand.proc.kill()
            by_hand.proc.wait()
            os.unlink(bare_sock)
        m_ours, m_bare = statistics.median(ours), statistics.median(bare)
        print("start  virtkit start (CLI, until running) median %.1f ms  min %.1f ms" % (m_ours * 1e3, min(ours) * 1e3))
        print("start  same QEMU by hand until query-status  median %.1f ms  min %.1f ms" % (m_bare * 1e3, min(bare) * 1e3))
        print("start  ratio %.2f  (%d rounds, interleaved)" % (m_ours / m_bare, ROUNDS))

        # list and memory with GUESTS running guests
        loop0 = subprocess.Popen([VIRTKIT, "-c", uri, "event", "--all", "--loop"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        rss0 = rss_kib(loop0.pid)
        loop0.send_signal(signal.SIGINT)
        loop0.wait()
        for i in range(GUESTS):
            path = os.path.join(root, "g%d.xml" % i)
            open(path, "w").write(guest_xml("g%d" % i))
            vk(uri, "define", path)
            vk(uri, "start", "g%d" % i)
        empty = [timed(lambda: vk(uri, "list", "--inactive")) for _ in range(5)]
        lists = [timed(lambda: vk(uri, "list")) for _ in range(10)]
        running = len([l for l in vk(uri, "list").splitlines() if " running" in l])
        print("list   %d running guests: virtkit list median %.1f ms (no holder: each run takes over all %d monitors)"
              % (running, statistics.median(lists) * 1e3, running))
        loop = subprocess.Popen([VIRTKIT, "-c", uri, "event", "--all", "--loop"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(2.0 + GUESTS * 0.02)
        rss_n = rss_kib(loop.pid)
        held = [timed(lambda: vk(uri, "list")) for _ in range(10)]
        print("list   same, while `event --loop` holds every monitor (read from live.json): median %.1f ms"
              % (statistics.median(held) * 1e3))
        print("list   --inactive (0 listed, still reads all %d) median %.1f ms" % (running, statistics.median(empty) * 1e3))
        print("memory event --loop RSS %d KiB with 0 guests, %d KiB with %d: %.0f KiB per tracked guest"
              % (rss0, rss_n, running, (rss_n - rss0) / max(running, 1)))
        loop.send_signal(signal.SIGINT)
        loop.wait()
    finally:
        for line in vk(uri, "list", "--name", check=False).split():
            vk(uri, "destroy", line, check=False)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
