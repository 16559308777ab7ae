"""Facts about where and on what code a run ran, saved with its result."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from pathlib import Path

from bench.common import ROOT, HarnessError
from bench.seeding import psql


def machine_info() -> dict:
    cpu = "unknown"
    meminfo = {}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = match.group(1).strip() if match else cpu
    if Path("/proc/meminfo").exists():
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, value = line.partition(":")
            meminfo[key] = value.strip()
    os_name = platform.system()
    if Path("/etc/os-release").exists():
        match = re.search(r'^PRETTY_NAME="?([^"\n]+)', Path("/etc/os-release").read_text(), re.M)
        os_name = match.group(1) if match else os_name
    try:
        postgres = psql("SHOW server_version")
    except HarnessError:
        postgres = None
    return {
        "hostname": platform.node(),
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory": _gib(meminfo.get("MemTotal")),
        "os": os_name,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgres": postgres,
        "loadavg_start": list(os.getloadavg()),
    }


def _gib(kilobytes: str | None) -> str | None:
    match = re.match(r"(\d+)\s*kB", kilobytes or "")
    return f"{int(match.group(1)) / 2**20:.0f} GiB" if match else kilobytes


def git_info() -> dict:
    def git(*args):
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else None

    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": git("rev-parse", "--short", "HEAD"), "dirty": bool(status)}
