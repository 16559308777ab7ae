"""The result as a PNG: ratios to the ceiling, p50 against database size, deep skip."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.common import BENCH, RESULTS, log
from bench.seeding import SIZES


def ensure_matplotlib() -> bool:
    """matplotlib, pinned in bench/requirements.txt, installed into this venv when missing."""
    try:
        import matplotlib  # noqa: F401

        return True
    except ImportError:
        pass
    log("matplotlib is missing: installing bench/requirements.txt")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "-r", str(BENCH / "requirements.txt")],
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        log("could not install matplotlib: no chart this time (the table and JSON are complete)")
        return False
    import importlib

    importlib.invalidate_caches()
    return True


def latest_per_size(results_dir: Path, like: dict) -> dict[str, dict]:
    """The newest saved result of each size comparable to `like`, for the size chart.

    Comparable: the same first connection level and duration, Redis on or off alike, the same
    --env.
    """
    latest = {}
    for path in sorted(results_dir.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if (
            data.get("schema") == 1
            and data.get("size") in SIZES
            and _first(data.get("scenarios", []), "posts_limit10", "p50_ms") is not None
            and _comparable(data) == _comparable(like)
        ):
            latest[data["size"]] = data  # sorted by stamp: the last one wins
    return latest


def _comparable(result: dict) -> tuple:
    server = result["server"]
    return (
        result["settings"]["connections"][0],
        result["settings"]["duration_s"],
        bool(server.get("redis_url")),
        sorted(server.get("extra_env", {}).items()),
    )


def draw_chart(result: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ratios, by_size, skips) = plt.subplots(
        1, 3, figsize=(18, 6), gridspec_kw={"width_ratios": [1.4, 1, 1]}
    )
    fig.suptitle(
        f"socialapi, size {result['size']}, {result['date']} "
        f"(git {result['git']['commit']}{', dirty' if result['git']['dirty'] else ''}), "
        f"{result['machine']['cores']} cores"
    )

    levels = sorted({row["connections"] for row in result["scenarios"]})
    labels = list(dict.fromkeys(row["label"] for row in result["scenarios"]))
    height = 0.8 / len(levels)
    for i, connections in enumerate(levels):
        rows = {r["label"]: r for r in result["scenarios"] if r["connections"] == connections}
        values = [rows[label]["ratio"] or 0 if label in rows else 0 for label in labels]
        positions = [y + i * height for y in range(len(labels))]
        bars = ratios.barh(positions, values, height=height, label=f"{connections} connections")
        ratios.bar_label(bars, fmt="%.2f", fontsize=8, padding=2)
    ratios.set_yticks([y + height * (len(levels) - 1) / 2 for y in range(len(labels))], labels)
    ratios.invert_yaxis()
    ratios.axvline(0.5, linestyle="--", linewidth=1, color="grey", label="target: list 0.5")
    ratios.axvline(0.6, linestyle=":", linewidth=1, color="grey", label="target: by id 0.6")
    ratios.set_xlabel("2xx req/s as a share of the ceiling's")
    ratios.set_title("Throughput relative to the ceiling")
    ratios.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=3, fontsize=8)

    runs = latest_per_size(RESULTS, result)
    runs[result["size"]] = result
    ordered = sorted(runs.values(), key=lambda r: r["database"]["counts"]["posts"])
    xs = [r["database"]["counts"]["posts"] for r in ordered]
    loaded = [_first(r["scenarios"], "posts_limit10", "p50_ms") for r in ordered]
    alone = [_first((r.get("unloaded") or {}).get("skip", []), "skip", "p50_ms") for r in ordered]
    connections = result["settings"]["connections"][0]
    by_size.plot(xs, loaded, marker="o", label=f"{connections} connections")
    by_size.plot(xs, alone, marker="s", label="1 connection (skip=0)")
    for x, high, low in zip(xs, loaded, alone, strict=True):
        for y in (high, low):
            if y:
                by_size.annotate(
                    f"{y:.0f} ms", (x, y), fontsize=7, xytext=(4, 4), textcoords="offset points"
                )
    by_size.set_xscale("log")
    by_size.set_yscale("log")
    by_size.set_xticks(xs, [f"{r['size']}\n{x:,}" for r, x in zip(ordered, xs, strict=True)])
    by_size.minorticks_off()
    by_size.set_xlabel("posts (latest comparable result of each size)")
    by_size.set_ylabel("p50 latency, ms (log)")
    by_size.set_title("GET /posts/?limit=10 p50 against database size")
    by_size.legend(fontsize=8)
    if len(ordered) < 2:
        by_size.text(
            0.5,
            0.5,
            "one size so far:\nrun --sizes 10k,100k,1m",
            transform=by_size.transAxes,
            ha="center",
            fontsize=9,
            color="grey",
        )

    series = (result.get("unloaded") or {}).get("skip", [])
    names = [row["skip_label"].replace(" ", "\n") for row in series]
    skips.bar(names, [row["p50_ms"] or 0 for row in series], label="p50")
    skips.plot(names, [row["p99_ms"] or 0 for row in series], "k^", label="p99")
    skips.set_xlabel("skip")
    skips.set_ylabel("latency, ms (1 connection)")
    skips.set_title("GET /posts/?limit=10&skip=N")
    skips.legend(fontsize=8)

    fig.tight_layout()
    fig.savefig(png, dpi=100)
    plt.close(fig)


def _first(rows, key: str, field: str):
    return next((row[field] for row in rows if row.get("key") == key), None)
