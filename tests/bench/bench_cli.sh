#!/bin/bash
# CLI wall-time benchmark, virtkit against virsh on the same machine and run.
#   1. `list` on test:///default: process start, config, plugin discovery
#      and load, connect, one listing.  Ratio virtkit/virsh.
#   2. define + dumpxml of 1000 small domains in one invocation (a ';'-joined
#      command string), so the per-domain cost of the core (XML parsing and
#      validation, the plugin call, serialisation) dominates start-up.
# Usage: tests/bench/bench_cli.sh [BUILD_DIR]   (default: build)
# Needs hyperfine (Debian package `hyperfine`) for accurate figures; falls
# back to a date +%s%N loop.  virsh comes from Debian's `libvirt-clients`.
set -euo pipefail
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

build=${1:-build}
virtkit="$build/bin/virtkit"
[[ -x $virtkit ]] || { echo "error: $virtkit not built" >&2; exit 1; }
have_virsh=$(command -v virsh || true)
unset VIRTKIT_CONFIG VIRTKIT_DEFAULT_URI VIRTKIT_PLUGIN_PATH LIBVIRT_DEFAULT_URI
work=$(mktemp -d /tmp/vkb.XXXXXX)
trap 'rm -rf "$work"' EXIT

# mean seconds of a command, by hyperfine or by a plain loop
mean_seconds() {
    local runs=$1; shift
    if command -v hyperfine >/dev/null; then
        # -N: no intermediate shell; the command is one shell-quoted string
        hyperfine -N --warmup 3 --runs "$runs" --export-json "$work/h.json" --style none \
            "$(printf '%q ' "$@")" >/dev/null
        # wall mean, then user+system CPU mean (steadier on a busy machine)
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["mean"], r["user"]+r["system"])' "$work/h.json"
    else
        local start end
        start=$(date +%s%N)
        for ((i = 0; i < runs; i++)); do "$@" >/dev/null; done
        end=$(date +%s%N)
        echo "$(echo "scale=6; ($end - $start) / $runs / 1000000000" | bc) 0"
    fi
}

# "wall cpu" in seconds -> "wall X ms, cpu Y ms"
ms() { python3 -c 'import sys; w,c=map(float,sys.argv[1].split()); print(f"wall {w*1000:.2f} ms, cpu {c*1000:.2f} ms")' "$1"; }
ratio() { python3 -c 'import sys; a=list(map(float,sys.argv[1].split())); b=list(map(float,sys.argv[2].split())); print(f"wall {a[0]/b[0]:.2f}" + (f", cpu {a[1]/b[1]:.2f}" if b[1] else ""))' "$1" "$2"; }

echo "== list on test:///default (mean of 100 runs)"
vk_list=$(mean_seconds 100 "$virtkit" -c test:///default list)
echo "virtkit: $(ms "$vk_list")"
if [[ -n $have_virsh ]]; then
    vs_list=$(mean_seconds 100 virsh -c test:///default list)
    echo "virsh:   $(ms "$vs_list")"
    echo "ratio virtkit/virsh: $(ratio "$vk_list" "$vs_list")"
fi

echo "== define + dumpxml of 1000 domains in one invocation (mean of 5 runs)"
commands=""
for i in $(seq -w 1 1000); do
    uuid=$(printf '6b5c1d2e-0000-4000-8000-%012d' "$((10#$i))")
    cat > "$work/d$i.xml" <<XML
<domain type='test'>
  <name>d$i</name>
  <uuid>$uuid</uuid>
  <memory unit='KiB'>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/var/lib/images/d$i.img'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>
XML
    commands+="define $work/d$i.xml; dumpxml d$i; "
done
echo "$commands" > "$work/commands.txt"
vk_bulk=$(mean_seconds 5 "$virtkit" -q -c test:///default "$commands")
echo "virtkit: $(ms "$vk_bulk")"
if [[ -n $have_virsh ]]; then
    vs_bulk=$(mean_seconds 5 virsh -q -c test:///default "$commands")
    echo "virsh:   $(ms "$vs_bulk")"
    echo "ratio virtkit/virsh: $(ratio "$vk_bulk" "$vs_bulk")"
fi
