"""The data path on a 100,000-image folder, against a plain PIL loop on the same files.

    .venv/bin/python benchmarks/make_big_folder.py /work/big          # the folder (once)
    .venv/bin/python benchmarks/data_scale.py /work/big                # -> results/data_scale.*
    .venv/bin/python benchmarks/data_scale.py /work/big --limit 10000 --rounds 1 --no-fit

Each case runs in a subprocess of its own, on ``--workers`` cores (2 by default), with a fresh
cache folder next to the data; the driver samples the resident memory (RSS) of the case's
whole process tree every 0.1 s (psutil, else /proc) and takes the tree's CPU seconds from
``getrusage(RUSAGE_CHILDREN)``. The files are read once beforehand, so every case finds them
in the page cache. Cases (``ours`` and ``plain`` alternate, ``--rounds`` times):

- ``ours``: ``prepare_data(folder)``, what ``fit`` does before planning: list the files, probe
  the working resolution from a sample of headers, decode and validate every file (EXIF,
  alpha, bit depth, pixel limit, content hash) while writing it into the cache at that
  resolution, split;
- ``plain``: a competent user's loop over the same files: ``multiprocessing.Pool(workers)``,
  ``imap`` in chunks of 64, each worker doing ``Image.open`` -> ``convert("RGB")`` ->
  ``resize((S, S), BILINEAR)`` -> ``np.asarray`` (bad files caught and skipped), the parent
  writing each array into a ``.npy`` memmap of the same shape as our cache;
- ``ours, again``: the same with the cache folder ``ours`` left (nothing changed: the scan
  record says so from the files' ``stat``, and the cache is there);
- ``scan`` and ``cache``: ``scan(folder)`` alone, then ``build_cache`` alone (a second
  decode): the two steps as they ran before scan wrote the cache itself;
- ``before (REV)``: with ``--before REV``, the same two steps in that commit's code;
- ``fit --plan``: ``autopreset fit FOLDER --budget 1h --plan`` with an empty cache folder
  (scan, cache, latency and training-speed measurements, the plan), wall-clock; then
  ``fit --plan, again`` with the cache folder it left (scan record, image cache, latencies).

The targets (issue 15): ``ours`` at no less than 80% of ``plain``'s images/s, peak memory under
4 GiB, ``fit --plan`` within a small fraction of the 1-hour budget. If the zoo runs in the
background it is paused (SIGSTOP) while cases run and always resumed (SIGCONT) at the end.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
PY = sys.executable


# ---- the cases, run in a subprocess (``--case``) -----------------------------------------
def list_files(folder: str) -> list[str]:
    """Every file under the class folders, in scan's order (a CSV: its rows)."""
    if folder.endswith(".csv"):
        from autopreset.data._scan import csv_paths

        return csv_paths(folder)
    out = []
    for cls in sorted(os.listdir(folder)):
        d = os.path.join(folder, cls)
        if os.path.isdir(d):
            out += [os.path.join(d, f) for f in sorted(os.listdir(d))]
    return out


_SIZE = 0


def _plain_init(size: int) -> None:
    global _SIZE
    _SIZE = size


def _plain_load(path: str):
    import numpy as np
    from PIL import Image

    try:
        with Image.open(path) as im:
            rgb = im.convert("RGB").resize((_SIZE, _SIZE), Image.Resampling.BILINEAR)
            return np.asarray(rgb)
    except Exception:  # noqa: BLE001 - the user's loop skips whatever fails
        return None


def case_plain(folder: str, size: int, workers: int, cache: str) -> dict:
    from multiprocessing import get_context

    import numpy as np

    t0 = time.perf_counter()
    paths = list_files(folder)
    out = np.lib.format.open_memmap(os.path.join(cache, "plain.npy"), mode="w+",
                                    dtype=np.uint8, shape=(len(paths), size, size, 3))
    good = 0
    with get_context("fork").Pool(workers, initializer=_plain_init, initargs=(size,)) as pool:
        for arr in pool.imap(_plain_load, paths, chunksize=64):
            if arr is not None:
                out[good] = arr
                good += 1
    out.flush()
    del out
    return {"seconds": time.perf_counter() - t0, "files": len(paths), "images": good}


def case_ours(folder: str, workers: int) -> dict:
    from autopreset.pipeline import prepare_data

    t0 = time.perf_counter()
    d = prepare_data(folder, seed=0, n_jobs=workers)
    return {"seconds": time.perf_counter() - t0, "files": len(d.dataset) + len(d.dataset.skipped),
            "images": len(d.dataset), "skipped": len(d.dataset.skipped),
            "resolution": d.resolution,
            "skipped_reasons": sorted({s.reason.split(":")[0] for s in d.dataset.skipped})}


def case_two_pass(folder: str, size: int, workers: int) -> dict:
    from autopreset.data import build_cache, scan

    t0 = time.perf_counter()
    ds = scan(folder, n_jobs=workers)
    t1 = time.perf_counter()
    build_cache(ds, size, n_jobs=workers)
    t2 = time.perf_counter()
    return {"seconds": t2 - t0, "scan_seconds": t1 - t0, "cache_seconds": t2 - t1,
            "files": len(ds) + len(ds.skipped), "images": len(ds)}


# ---- the driver --------------------------------------------------------------------------
class TreeSampler:
    """Peak summed memory of a process and its descendants, sampled every ``every`` seconds:
    resident (RSS) and private anonymous (RssAnon: what the processes allocated, without the
    file pages they map, which the kernel can drop at any time). A process that reads a
    memory-mapped cache shows the file's pages in its RSS (on recent kernels a whole large
    folio, up to 2 MB, per row touched), so RSS alone overstates what a reader needs."""

    def __init__(self, pid: int, every: float = 0.1):
        self.pid, self.every, self.peak, self.peak_anon = pid, every, 0, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = anon = 0
            for pid in _tree(self.pid):
                r, a = _status_memory(pid)
                rss, anon = rss + r, anon + a
            self.peak, self.peak_anon = max(self.peak, rss), max(self.peak_anon, anon)
            self._stop.wait(self.every)

    def stop(self) -> tuple[int, int]:
        self._stop.set()
        self._thread.join()
        return self.peak, self.peak_anon


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (psutil when installed, else /proc)."""
    try:
        import psutil

        try:
            return [pid] + [p.pid for p in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    except ImportError:
        pass
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children.get(p, [])
    return out


def _status_memory(pid: int) -> tuple[int, int]:
    """(VmRSS, RssAnon) of ``pid`` in bytes, from /proc/PID/status; zeros once it is gone."""
    rss = anon = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
                elif line.startswith("RssAnon:"):
                    anon = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, anon


def run_case(argv: list[str], env: dict, nice: int = 0) -> dict:
    """Run one case (at ``nice``); its JSON result plus wall seconds, peak tree RSS and CPU
    seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT,
                            preexec_fn=(lambda: os.nice(nice)) if nice else None)
    sampler = TreeSampler(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    peak, peak_anon = sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"case failed ({' '.join(argv)}):\n{err[-3000:]}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    result = json.loads(lines[-1]) if lines else {"stdout": out[-2000:]}
    result.update(wall_seconds=wall, peak_rss_bytes=peak, peak_anon_bytes=peak_anon,
                  load_before=load,
                  cpu_seconds=(after.ru_utime - before.ru_utime)
                  + (after.ru_stime - before.ru_stime),
                  stderr_tail=err.strip().splitlines()[-3:], stderr_full=err.splitlines())
    return result


def _zoo_pids() -> list[int]:
    out = subprocess.run(["pgrep", "-f", "autopreset zoo run"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split() if int(p) != os.getpid()]


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def warm(paths: list[str]) -> float:
    t0 = time.perf_counter()
    for p in paths:
        try:
            with open(p, "rb") as fh:
                while fh.read(1 << 20):
                    pass
        except OSError:
            pass
    return time.perf_counter() - t0


def machine() -> dict:
    import numpy as np
    import PIL

    try:
        with open("/proc/cpuinfo") as fh:
            model = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                         platform.processor())
    except OSError:
        model = platform.processor()
    return {"cpu": model, "cores": os.cpu_count(), "python": platform.python_version(),
            "pillow": PIL.__version__, "numpy": np.__version__, "platform": platform.platform(),
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                / 2**30, 1)}


def drive(args) -> dict:
    folder = str(Path(args.folder).resolve())
    scratch = Path(tempfile.mkdtemp(prefix="data-scale-", dir=Path(folder).parent))
    try:
        return _drive(args, folder, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _drive(args, folder: str, scratch: Path) -> dict:
    if args.limit:                      # a subset: the first files of each class, as a CSV
        per = {}
        for p in list_files(folder):
            per.setdefault(os.path.basename(os.path.dirname(p)), []).append(p)
        k = -(-args.limit // len(per))
        rows = [f"{p},{c}" for c, ps in per.items() for p in ps[:k]]
        folder = str(scratch / "subset.csv")
        Path(folder).write_text("path,label\n" + "\n".join(rows) + "\n")
    paths = list_files(folder)
    from autopreset.pipeline._data import working_resolution

    size = working_resolution(paths, random_state=0)
    report = {"folder": folder, "files": len(paths), "resolution": size,
              "workers": args.workers, "nice": args.nice, "machine": machine(),
              "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
              "command": " ".join(["benchmarks/data_scale.py"] + sys.argv[1:]),
              "warm_seconds": warm(paths), "runs": []}
    me = [PY, str(Path(__file__).resolve()), "--case"]

    def one(name: str, argv: list[str], extra_env: dict | None = None, *,
            reuse: bool = False, keep: bool = False) -> dict:
        """Run a case with an empty cache folder (``reuse``: the one the last case kept)."""
        cache = scratch / "cache"
        if not reuse:
            shutil.rmtree(cache, ignore_errors=True)
            cache.mkdir()
        env = dict(os.environ, AUTOPRESET_CACHE=str(cache), **(extra_env or {}))
        res = run_case(argv, env, args.nice)
        if not keep:
            shutil.rmtree(cache, ignore_errors=True)
        os.sync()
        res["case"] = name
        res["notices"] = [ln for ln in res.pop("stderr_full")
                          if ln.startswith(("data:", "preference", "augmentation", "plan:"))]
        print(f"{name}: {res['wall_seconds']:.1f}s, peak {res['peak_rss_bytes'] / 2**30:.2f} GiB"
              f" ({res['peak_anon_bytes'] / 2**30:.2f} anonymous),"
              f" {res['cpu_seconds']:.0f} CPU s", file=sys.stderr, flush=True)
        report["runs"].append(res)
        return res

    common = [folder, "--workers", str(args.workers), "--size", str(size)]
    for k in range(args.rounds):
        one("ours", me + ["ours"] + common, keep=k == 0)
        if k == 0:                      # the same again: nothing changed, the cache is there
            one("ours, again", me + ["ours"] + common, reuse=True)
        one("plain", me + ["plain"] + common + ["--cache", str(scratch / "cache")])
    if not args.no_two_pass:
        one("scan, then build_cache", me + ["two-pass"] + common)
    if args.before:                     # the same two steps in an earlier commit's code
        code = scratch / "before"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before, "autopreset"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
        one(f"before ({args.before}): scan, then build_cache", me + ["two-pass"] + common,
            {"DATA_SCALE_CODE": str(code)})
    if not args.no_fit:
        fit = [str(Path(PY).parent / "autopreset"), "fit", folder, "--budget", args.budget,
               "--plan", "--out", str(scratch / "run")]
        for name, again in (("fit --plan", False), ("fit --plan, again", True)):
            res = one(name, fit, reuse=again, keep=not again)
            res["stdout_tail"] = res.pop("stdout", "")[-1500:]
            res["budget"] = args.budget
    return report


def summarize(report: dict) -> dict:
    by: dict[str, list[dict]] = {}
    for r in report["runs"]:
        by.setdefault(r["case"], []).append(r)
    rows = {}
    n = report["files"]
    for name, runs in by.items():
        rows[name] = {
            "wall_seconds": statistics.median(r["wall_seconds"] for r in runs),
            "images_per_s": (statistics.median(n / r["seconds"] for r in runs)
                             if "seconds" in runs[0] else None),
            "cpu_ms_per_image": statistics.median(1000 * r["cpu_seconds"] / n for r in runs),
            "peak_rss_gib": max(r["peak_rss_bytes"] for r in runs) / 2**30,
            "peak_anon_gib": max(r["peak_anon_bytes"] for r in runs) / 2**30,
            "runs": len(runs)}
    if "ours" in rows and "plain" in rows:
        rows["ours"]["vs_plain"] = rows["ours"]["images_per_s"] / rows["plain"]["images_per_s"]
        pairs = list(zip(by["ours"], by["plain"]))            # each round: ours, then plain
        rows["ours"]["paired_vs_plain"] = [p["seconds"] / o["seconds"] for o, p in pairs]
        rows["ours"]["cpu_vs_plain"] = (rows["plain"]["cpu_ms_per_image"]
                                        / rows["ours"]["cpu_ms_per_image"])
    return rows


def write(report: dict, out: Path) -> None:
    rows = report["summary"] = summarize(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(report, indent=1) + "\n")
    m = report["machine"]
    lines = [f"# The data path on {report['files']:,} files, against a plain PIL loop", "",
             f"{report['date']}; {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; "
             f"Python {m['python']}, Pillow {m['pillow']}, numpy {m['numpy']}. "
             f"{report['workers']} workers; working resolution {report['resolution']} px; "
             f"cases at niceness {report.get('nice', 0)}. "
             f"Command: `.venv/bin/python {report['command']}` "
             "(folder: `.venv/bin/python benchmarks/make_big_folder.py /work/big`).", "",
             "| case | wall s | images/s | vs plain | CPU ms / image | peak RSS (tree) GiB "
             "| peak anonymous (tree) GiB | runs |", "|---|---|---|---|---|---|---|---|"]
    for name, r in rows.items():
        vs = f"{r['vs_plain']:.2f}" if "vs_plain" in r else ("1.00" if name == "plain" else "")
        ips = f"{r['images_per_s']:,.0f}" if r["images_per_s"] else ""
        lines.append(f"| {name} | {r['wall_seconds']:.1f} | {ips} | {vs} | "
                     f"{r['cpu_ms_per_image']:.2f} | {r['peak_rss_gib']:.2f} | "
                     f"{r['peak_anon_gib']:.2f} | {r['runs']} |")
    lines += [""] + _targets(report, rows) + [
        "", "Images/s count every file (bad ones included) over the case's own seconds "
        "(imports and interpreter start left out); wall s is the subprocess's. CPU ms / image: "
        "user + system seconds of the whole process tree per file, the load-independent "
        "measure of the work done. Peak RSS sums the tree's resident memory; peak anonymous "
        "sums what the processes allocated (RssAnon), without file pages they map: `plain` "
        f"writes through a {report['files'] * 3 * report['resolution'] ** 2 / 1e9:.1f} GB "
        "memory map and `fit --plan` reads the cache through one, "
        "which RSS counts (on this kernel a whole large folio, up to 2 MB, per row touched) "
        "though the kernel can drop those clean pages at any time. `ours` writes with "
        "positioned writes and maps nothing.",
        "", "Per run (load = 1-minute load average when the case started):", ""]
    for r in report["runs"]:
        extra = ""
        if "scan_seconds" in r:
            extra = f" (scan {r['scan_seconds']:.1f}s + build_cache {r['cache_seconds']:.1f}s)"
        for note in r.get("notices", []):
            extra += f"; `{note}`"
        if "skipped" in r:
            extra = (f"; {r['images']:,} images, {r['skipped']} skipped "
                     f"({', '.join(r['skipped_reasons'])}), {r['resolution']} px")
        lines.append(f"- {r['case']}: {r['wall_seconds']:.1f}s, load {r['load_before']:.1f}, "
                     f"{r['cpu_seconds']:.0f} CPU s, peak {r['peak_rss_bytes'] / 2**30:.2f} GiB "
                     f"({r['peak_anon_bytes'] / 2**30:.2f} anonymous)" + extra)
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")


def _targets(report: dict, rows: dict) -> list[str]:
    """The issue's three targets, checked against the figures."""
    out = ["Targets (issue 15):", ""]
    if "ours" in rows and "plain" in rows:
        o = rows["ours"]
        pairs = ", ".join(f"{r:.2f}" for r in o["paired_vs_plain"])
        out.append(f"- scan + cache at >= 80% of the plain loop's images/s: {o['vs_plain']:.0%} "
                   f"(medians; round by round {pairs}); CPU per image "
                   f"{o['cpu_ms_per_image']:.2f} ms against "
                   f"{rows['plain']['cpu_ms_per_image']:.2f}")
        out.append(f"- peak memory under 4 GiB: {o['peak_rss_gib']:.2f} GiB RSS, "
                   f"{o['peak_anon_gib']:.2f} GiB anonymous (the whole tree)")
    fits = [r for r in report["runs"] if r["case"].startswith("fit --plan")]
    for r in fits:
        budget = r.get("budget", "1h")
        from autopreset._duration import parse_duration

        share = r["wall_seconds"] / parse_duration(budget)
        out.append(f"- `{r['case']}` with --budget {budget}: {r['wall_seconds']:.0f}s, "
                   f"{share:.1%} of the budget; peak {r['peak_rss_bytes'] / 2**30:.2f} GiB RSS, "
                   f"{r['peak_anon_bytes'] / 2**30:.2f} GiB anonymous")
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default="/work/big")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (a CSV)")
    ap.add_argument("--budget", default="1h", help="fit --plan's budget (default 1h)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the cases at this niceness (e.g. -10, as root, on a machine that "
                         "other jobs share: every case then gets about the same cores)")
    ap.add_argument("--no-fit", action="store_true")
    ap.add_argument("--no-two-pass", action="store_true")
    ap.add_argument("--before", metavar="REV",
                    help="also run scan + build_cache as the commit REV has them")
    ap.add_argument("--out", default=str(RESULTS / "data_scale"))
    ap.add_argument("--render", action="store_true",
                    help="only rewrite OUT.md from OUT.json (after editing this script)")
    ap.add_argument("--case", choices=["ours", "plain", "two-pass"], help=argparse.SUPPRESS)
    ap.add_argument("--size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.case:
        sys.path.insert(0, os.environ.get("DATA_SCALE_CODE") or str(ROOT))
        if args.case == "ours":
            res = case_ours(args.folder, args.workers)
        elif args.case == "plain":
            res = case_plain(args.folder, args.size, args.workers, args.cache)
        else:
            res = case_two_pass(args.folder, args.size, args.workers)
        print(json.dumps(res))
        return
    if args.render:
        report = json.loads(Path(args.out).with_suffix(".json").read_text())
        write(report, Path(args.out))
        return
    zoo = _zoo_pids()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))   # (so the zoo is resumed)
    _signal_all(zoo, signal.SIGSTOP)
    try:
        report = drive(args)
    finally:
        _signal_all(zoo, signal.SIGCONT)
    write(report, Path(args.out))
    print(Path(args.out).with_suffix(".md").read_text())


if __name__ == "__main__":
    main()
