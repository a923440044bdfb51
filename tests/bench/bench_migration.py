#!/usr/bin/env python3
"""Live migration: virtkit against the same QMP steps driven by a bare script.

For each size N (MiB) a guest whose RAM holds N MiB of random data (QEMU's
generic `loader` device) is migrated between two hosts on this machine:

  virtkit   `virtkit -c qemu:///embed?root=A migrate --live mig qemu:///embed?root=B`
            (the five phases: Begin, Prepare starts the destination QEMU with
            -incoming defer, Perform, Finish, Confirm), timed around the command;
  baseline  this script with raw QMP sockets: start the destination QEMU with
            -incoming defer, migrate-set-capabilities on both sides,
            migrate-incoming, migrate-set-parameters (unlimited bandwidth, as
            the plugin sets it), migrate, wait for `completed` on both, `cont` on
            the destination, `quit` on the source; timed the same way.

The source QEMU runs before timing starts in both cases (virtkit: `start`;
baseline: spawned and `cont`).  Downtime is QEMU's own figure (query-migrate
`downtime`; virtkit: `domjobinfo --completed --json`, asked in the migrating
invocation, since in embed mode the completed job lives in that process; its
few milliseconds are inside virtkit's time, as are process start-up and
opening both connections).  Also, when
--resume MIB is given: time from `migrate --postcopy --postcopy-resume`
to `postcopy-active` on the destination after `domjobabort --postcopy`, through
two virtkitd (in embed mode the job lives in the migrating CLI process, which a
second CLI process cannot pause).

Usage: tests/bench/bench_migration.py [--build DIR] [--sizes 256,1024] [--runs N] [--resume MIB]
"""
import argparse
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time

QEMU = "/usr/bin/qemu-system-x86_64"
BLOB_ADDR = 0x2000000  # 32 MiB


def write_blob(path, mib):
    rnd = random.Random(42)
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(rnd.randbytes(1 << 20))


class Qmp:
    """A bare QMP client: one JSON object per line; events are kept."""

    def __init__(self, path, timeout=60):
        deadline = time.time() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.01)
        self.file = self.sock.makefile("rwb", buffering=0)
        self.events = []
        self._read()  # greeting
        self.cmd("qmp_capabilities")

    def _read(self):
        line = self.file.readline()
        if not line:
            raise EOFError("QMP closed")
        return json.loads(line)

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.file.write((json.dumps(msg) + "\n").encode())
        while True:
            reply = self._read()
            if "event" in reply:
                self.events.append(reply)
                continue
            if "error" in reply:
                raise RuntimeError(f"{name}: {reply['error']}")
            return reply.get("return")

    def wait_status(self, wanted, timeout=600):
        deadline = time.time() + timeout
        while time.time() < deadline:
            st = self.cmd("query-migrate")
            if st.get("status") in wanted:
                return st
            if st.get("status") in ("failed", "cancelled"):
                raise RuntimeError(f"migration {st.get('status')}: {st}")
            time.sleep(0.02)
        raise TimeoutError(wanted)


def qemu_argv(mem_mib, blob, qmp_path):
    return [QEMU, "-S", "-nodefaults", "-no-user-config", "-display", "none",
            "-machine", "pc,accel=tcg", "-m", str(mem_mib), "-smp", "1",
            "-device", f"loader,file={blob},addr={BLOB_ADDR}",
            "-qmp", f"unix:{qmp_path},server=on,wait=off"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def baseline(work, mem_mib, blob):
    src_sock, dst_sock = os.path.join(work, "src.qmp"), os.path.join(work, "dst.qmp")
    src_proc = subprocess.Popen(qemu_argv(mem_mib, blob, src_sock), stderr=subprocess.DEVNULL)
    dst_proc = None
    try:
        src = Qmp(src_sock)
        src.cmd("cont")
        time.sleep(0.5)
        start = time.monotonic()
        dst_proc = subprocess.Popen(qemu_argv(mem_mib, blob, dst_sock) + ["-incoming", "defer"],
                                    stderr=subprocess.DEVNULL)
        dst = Qmp(dst_sock)
        caps = [{"capability": "events", "state": True}]
        dst.cmd("migrate-set-capabilities", capabilities=caps)
        port = free_port()
        dst.cmd("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
        src.cmd("migrate-set-capabilities", capabilities=caps)
        # what the plugin sends: libvirt's "unlimited" bandwidth (QEMU's default is 128 MiB/s)
        src.cmd("migrate-set-parameters", **{"max-bandwidth": 2**63 - 1, "max-postcopy-bandwidth": 0})
        src.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
        done = src.wait_status({"completed"})
        dst.wait_status({"completed"})
        dst.cmd("cont")
        src.cmd("quit")
        elapsed = time.monotonic() - start
        dst.cmd("quit")
        return elapsed, done.get("downtime")
    finally:
        for p in (src_proc, dst_proc):
            if p:
                p.kill()
                p.wait()


def vk(virtkit, uri, commands, check=True):
    r = subprocess.run([virtkit, "-c", uri, commands], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError(f"virtkit {commands}: {r.stderr.strip()}")
    return r


def domain_xml(mem_mib, blob):
    return f"""<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>mig</name>
  <memory unit='MiB'>{mem_mib}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <qemu:commandline>
    <qemu:arg value='-device'/>
    <qemu:arg value='loader,file={blob},addr={BLOB_ADDR}'/>
  </qemu:commandline>
</domain>
"""


def through_virtkit(virtkit, work, mem_mib, blob):
    a, b = os.path.join(work, "a"), os.path.join(work, "b")
    os.makedirs(a), os.makedirs(b)
    src, dst = f"qemu:///embed?root={a}", f"qemu:///embed?root={b}"
    xml = os.path.join(work, "mig.xml")
    with open(xml, "w") as f:
        f.write(domain_xml(mem_mib, blob))
    try:
        vk(virtkit, src, f"define {xml}; start mig")
        time.sleep(0.5)
        # the completed job's statistics live in the process that ran it (embed mode): ask in the same invocation
        start = time.monotonic()
        r = subprocess.run([virtkit, "-q", "-c", src, f"migrate --live mig '{dst}'; domjobinfo --completed --json mig"],
                           capture_output=True, text=True)
        elapsed = time.monotonic() - start
        if r.returncode != 0:
            raise RuntimeError(f"virtkit migrate: {r.stderr.strip()}")
        lines = [l for l in r.stdout.splitlines() if l.strip()]
        return elapsed, json.loads(lines[-1]).get("downtime") if lines else None
    finally:
        for uri in (src, dst):
            vk(virtkit, uri, "destroy mig; undefine mig", check=False)


def resume_latency(build, work, mib):
    """Through two virtkitd (each owns its QEMU monitors, so another CLI process can pause the job):
    post-copy paused by `domjobabort --postcopy`, then `migrate --postcopy --postcopy-resume` timed until the
    destination's `domjobinfo` first says `Status: postcopy` (postcopy-active), and until the command ends."""
    virtkit, virtkitd = os.path.join(build, "bin", "virtkit"), os.path.join(build, "bin", "virtkitd")
    daemons, uris, roots = [], [], []
    blob = os.path.join(work, "blob.bin")
    write_blob(blob, mib)
    try:
        for name in ("a", "b"):
            root, sock = os.path.join(work, "root-" + name), os.path.join(work, name + ".sock")
            os.makedirs(root)
            roots.append(root)
            daemons.append(subprocess.Popen([virtkitd, "--root", root, "--listen", "unix:" + sock],
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            while not os.path.exists(sock):
                time.sleep(0.05)
            uris.append(f"qemu+unix:///system?socket={sock}")
        xml = os.path.join(work, "mig.xml")
        with open(xml, "w") as f:
            f.write(domain_xml(mib + 128, blob))
        vk(virtkit, uris[0], f"define {xml}; start mig")
        first = subprocess.Popen([virtkit, "-c", uris[0], "migrate --live --postcopy --timeout 1 --timeout-postcopy "
                                  f"--bandwidth 2 --postcopy-bandwidth 1 mig '{uris[1]}'"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while "Status:           postcopy\n" not in vk(virtkit, uris[0], "domjobinfo mig", check=False).stdout:
            time.sleep(0.05)
        vk(virtkit, uris[0], "domjobabort --postcopy mig")
        first.wait()
        start = time.monotonic()
        resume = subprocess.Popen([virtkit, "-c", uris[0], f"migrate --postcopy --postcopy-resume mig '{uris[1]}'"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        active = None
        while resume.poll() is None:
            out = vk(virtkit, uris[1], "domjobinfo mig", check=False).stdout
            if active is None and ("Status:           postcopy\n" in out or "Status:           completed" in out):
                active = time.monotonic() - start
        total = time.monotonic() - start
        if resume.returncode != 0:
            raise RuntimeError("resume failed: " + resume.stderr.read())
        return active, total
    finally:
        for d in daemons:
            d.terminate()
            d.wait()
        for root in roots:  # guests outlive their daemon
            vk(virtkit, f"qemu:///embed?root={root}/qemu", "destroy mig; undefine mig", check=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--sizes", default="256,1024")
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--resume", type=int, metavar="MIB", default=0,
                    help="also time post-copy recovery through two virtkitd, guest holding MIB MiB")
    args = ap.parse_args()
    virtkit = os.path.join(args.build, "bin", "virtkit")
    if not os.access(virtkit, os.X_OK):
        sys.exit(f"error: {virtkit} not built")
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}, "
          f"{'KVM' if os.access('/dev/kvm', os.R_OK | os.W_OK) else 'TCG'}")
    print(f"{'MiB':>5} {'run':>3} {'virtkit s':>10} {'bare s':>8} {'ratio':>6} {'vk downtime ms':>15} {'bare downtime ms':>17}")
    for mib in (int(s) for s in args.sizes.split(",") if s):
        mem = mib + 128  # the blob sits at 32 MiB; leave room for the firmware
        for run in range(args.runs):
            work = tempfile.mkdtemp(prefix="vk-bench-mig-")
            try:
                blob = os.path.join(work, "blob.bin")
                write_blob(blob, mib)
                # alternate the order so neither side always runs on a warmer page cache
                if run % 2 == 0:
                    bare_s, bare_dt = baseline(work, mem, blob)
                    vk_s, vk_dt = through_virtkit(virtkit, work, mem, blob)
                else:
                    vk_s, vk_dt = through_virtkit(virtkit, work, mem, blob)
                    bare_s, bare_dt = baseline(work, mem, blob)
                print(f"{mib:>5} {run:>3} {vk_s:>10.3f} {bare_s:>8.3f} {vk_s / bare_s:>6.3f} "
                      f"{str(vk_dt):>15} {str(bare_dt):>17}", flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    for run in range(args.runs if args.resume else 0):
        work = tempfile.mkdtemp(prefix="vk-bench-resume-")
        try:
            active, total = resume_latency(args.build, work, args.resume)
            print(f"resume run {run}: destination postcopy-active after {active * 1000:.0f} ms "
                  f"(CLI polling, ~50 ms resolution), resume command done after {total * 1000:.0f} ms", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
