"""Content at 1x, 10x, 100x on disk: how long loading (with validation) and the understanding's
training take, and whether they grow linearly.

The scaled content folders are written to a temporary folder: each copy of every topic with its
own id, its title, keywords, questions and phrasings in its own disguise (each alphabet's letters
shuffled, as ``benchmarks/understanding.py`` does), reachable from the root menu through copies
of the menus; the answers are copied as they are. Every measurement runs in a fresh process, the
scales interleaved round after round: the figures are each scale's smallest CPU time and median
wall time, and the peak memory of its processes. Cold steps read no cache; warm ones read the
cache folder a step before filled (the loader's readings, the understanding's model): see STEPS.

    .venv/bin/python -m benchmarks.content_scale [--scales 1 10 100] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from benchmarks.understanding import disguise
from bot.config import PROJECT_ROOT

CONTENT = PROJECT_ROOT / "content"


def _dump(data: Any, path: Path) -> None:
    path.write_text(
        yaml.dump(data, Dumper=yaml.CSafeDumper, allow_unicode=True, sort_keys=False, width=10_000),
        encoding="utf-8",
    )


def _load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)


def _twin(name: str, copy: int) -> str:
    return f"{name}_r{copy}"


def _disguised(value: Any, table: dict[int, int]) -> Any:
    """Every text in ``value`` (a text, or lists and mappings of them) in its disguise."""
    if isinstance(value, str):
        return value.translate(table)
    if isinstance(value, list):
        return [_disguised(item, table) for item in value]
    if isinstance(value, dict):
        return {key: _disguised(item, table) for key, item in value.items()}
    return value


def write_scaled(target: Path, times: int, source: Path = CONTENT) -> Path:
    """A content folder ``times`` the size of ``source`` at ``target``; returns ``target``."""
    shutil.copytree(source, target)
    if times <= 1:
        return target
    topics = {path.stem: _load(path) for path in sorted((source / "topics").glob("*.yaml"))}
    menu = _load(source / "menu.yaml")
    phrasings = {path: _load(path) for path in sorted((source / "phrasings").glob("*.yaml"))}
    menu_ids = {entry["id"] for entry in menu["menus"]}
    root = menu["root"]
    extra_menus: list[dict[str, Any]] = []
    extra_phrasings: dict[Path, dict[str, list[str]]] = defaultdict(dict)
    for copy in range(1, times):
        table = disguise(copy)
        for topic_id, topic in topics.items():
            twin = dict(topic)
            twin["id"] = _twin(topic_id, copy)
            for key in ("title", "keywords", "questions"):
                if key in twin:
                    twin[key] = _disguised(twin[key], table)
            if "children" in twin:
                twin["children"] = [_twin(child, copy) for child in twin["children"]]
            _dump(twin, target / "topics" / f"{twin['id']}.yaml")
        for entry in menu["menus"]:
            twin = dict(entry, id=_twin(entry["id"], copy))
            twin["items"] = [_twin(item, copy) for item in entry["items"]]
            if entry["id"] == root and copy + 1 < times:  # a chain: main -> main_r1 -> main_r2...
                twin["items"].append(_twin(root, copy + 1))
            extra_menus.append(twin)
        for path, data in phrasings.items():
            for topic_id, phrases in (data.get("topics") or {}).items():
                if topic_id in topics:
                    extra_phrasings[path][_twin(topic_id, copy)] = _disguised(phrases, table)
    for entry in menu["menus"]:
        if entry["id"] == root:
            entry["items"].append(_twin(root, 1))
    assert not any(_twin(m, 1) in menu_ids for m in menu_ids)
    menu["menus"].extend(extra_menus)
    _dump(menu, target / "menu.yaml")
    for path, data in phrasings.items():
        data.setdefault("topics", {}).update(extra_phrasings[path])
        _dump(data, target / "phrasings" / path.name)
    return target


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*.yaml"))


def _peak_mib() -> float:
    """This process's peak memory. Linux keeps ``ru_maxrss`` across ``exec``, so a child would
    report its parent's peak when that is higher: the kernel's high-water mark, when there."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


#: The steps, each timed in a fresh process:
STEPS = {
    "load": "read and validate every file (no cache: a first start)",
    "parse": "only read the YAML of every file, as the load does (the parsing part of a load)",
    "load-warm": "the same with the loader's cache filled (a restart, nothing changed)",
    "reload": "a reload in a running process after one topic file changed (cache filled)",
    "index": "train the understanding (nothing kept: the first start, or the model folder lost)",
    "index-warm": "read the model kept by the training before (a restart)",
    "index-edit": "after one topic's questions changed, until the stop-gap model the training "
    "child works out (from the model before, kept) is mapped here: this process and the child",
    "index-edit-full": "the full training after one topic's questions changed (the model "
    "before kept): it replaces the stop-gap",
}


def _edited(examples: list[tuple[str, str, str | None, str | None]]) -> list[Any]:
    """The examples with those of the first topic changed, as an editor's fix would."""
    first = examples[0][2]
    return [
        (label, f"{text} (edited)" if group == first else text, group, language)
        for label, text, group, language in examples
    ]


def _changed(path: Path) -> bytes:
    """Change one topic file (a comment at its end) and return what it held."""
    before = path.read_bytes()
    path.write_bytes(before + b"\n# edited by the benchmark\n")
    return before


def measure(step: str, folder: Path, cache: Path) -> dict[str, float]:
    """One step in this (fresh) process (see STEPS); ``cache``: this scale's cache folder."""
    from bot.content.classifier import Classifier
    from bot.content.loader import load_catalog
    from bot.content.yamlfile import YamlSyntaxError, read_yaml
    from bot.core.understanding import training_examples

    edited: tuple[Path, bytes] | None = None
    if step == "prime":
        load_catalog(folder, cache=cache)
    if step == "reload":
        load_catalog(folder, cache=cache)
        topic = sorted((folder / "topics").glob("*.yaml"))[0]
        edited = (topic, _changed(topic))
    previous = None
    if step.startswith("index"):
        catalog = load_catalog(folder, cache=cache)
        examples = training_examples(catalog)
        if step == "index":
            shutil.rmtree(cache / "model", ignore_errors=True)
        if step == "index-edit":  # a server holds the model of the content before the edit
            previous = Classifier.train(examples, cache / "model", catalog.synonyms)
        if step.startswith("index-edit"):
            examples = _edited(examples)
    began, cpu = time.perf_counter(), time.process_time()
    child: dict[str, float] = {}
    if step == "index-edit":
        child = _until_stopgap(examples, cache / "model", catalog.synonyms, previous)
        del previous
    elif step.startswith("index"):
        Classifier.train(examples, cache / "model", catalog.synonyms)
    elif step == "parse":
        gc.disable()  # as the loader does while it reads
        for path in sorted(folder.rglob("*.yaml")):
            with contextlib.suppress(YamlSyntaxError):
                read_yaml(path)
        gc.enable()
    else:
        catalog = load_catalog(folder, cache=None if step == "load" else cache)
    result = {
        "wall": child.get("handed", time.perf_counter()) - began,
        "cpu": time.process_time() - cpu + child.get("cpu", 0.0),
        "peak": max(_peak_mib(), child.get("peak", 0.0)),
        "topics": len(list((folder / "topics").glob("*.yaml")))
        if step == "parse"
        else len(catalog.topics),
    }
    if edited is not None:
        edited[0].write_bytes(edited[1])
    return result


def _until_stopgap(
    examples: list[Any], folder: Path, synonyms: Any, previous: Any
) -> dict[str, float]:
    """Train as a server does after an edit until the stop-gap is handed over: then the
    training child's CPU seconds and peak MiB so far, and the time, and the child stopped (its
    full training is the step index-edit-full)."""
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    from bot.content.classifier import Classifier

    found: dict[str, float] = {}

    def handed(model: object) -> None:
        found["handed"] = time.perf_counter()
        (child,) = multiprocessing.active_children()
        assert child.pid is not None
        found.update(_figures_of(child.pid))
        os.kill(child.pid, signal.SIGKILL)

    with contextlib.suppress(BrokenProcessPool):
        Classifier.train(
            examples, folder, synonyms, elsewhere=True, previous=previous, stopgap=handed
        )
    if not found:
        raise SystemExit("no stop-gap was handed over")
    return found


def _figures_of(pid: int) -> dict[str, float]:
    """A running process's CPU seconds and peak MiB."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return {"cpu": (int(fields[11]) + int(fields[12])) / ticks, "peak": int(line.split()[1]) / 1024}


def _child(step: str, folder: Path, cache: Path) -> dict[str, float]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.content_scale",
            "--child",
            step,
            str(folder),
            str(cache),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_ROOT,
    ).stdout
    result: dict[str, float] = json.loads(output.splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="Time loading and indexing scaled content.")
    parser.add_argument("--scales", nargs="*", type=int, default=[1, 10, 100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=list(STEPS))
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return
    print(f"load average before: {os.getloadavg()[0]:.1f} ({os.cpu_count()} cores)")
    with tempfile.TemporaryDirectory(prefix="sportello-scale-") as temporary:
        folders = {}
        for scale in args.scales:
            began = time.perf_counter()
            folders[scale] = write_scaled(Path(temporary) / f"x{scale}", scale)
            print(
                f"{scale:>4}x content written: {_size(folders[scale]) / 2**20:6.1f} MiB of YAML "
                f"in {time.perf_counter() - began:.1f} s"
            )
        runs: dict[tuple[str, int], list[dict[str, float]]] = defaultdict(list)
        for _ in range(args.rounds):
            for scale in args.scales:
                cache = Path(temporary) / f"cache-x{scale}"
                for step in args.steps:
                    if step == "load-warm":  # the cache as a load of the same files leaves it
                        _child("prime", folders[scale], cache)
                    if step.startswith("index-") and "index" not in args.steps:
                        _child("index", folders[scale], cache)
                    runs[step, scale].append(_child(step, folders[scale], cache))
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"\n{'step':<16}{'scale':>6}{'topics':>8}{'cpu min':>10}{'wall p50':>10}"
        f"{'cpu per 1x':>12}{'peak MiB':>10}"
    )
    for step in args.steps:
        base = min(args.scales)
        unit = min(run["cpu"] for run in runs[step, base]) / base
        for scale in args.scales:
            found = runs[step, scale]
            cpu = min(run["cpu"] for run in found)
            wall = statistics.median(run["wall"] for run in found)
            peak = max(run["peak"] for run in found)
            ratio = cpu / scale / unit if unit else 0.0
            print(
                f"{step:<16}{scale:>5}x{int(found[0]['topics']):>8}{cpu:>9.2f}s{wall:>9.2f}s"
                f"{cpu / scale:>9.3f}s ({ratio:.2f}){peak:>8.0f}"
            )
    print("\ncpu per 1x: CPU seconds divided by the scale (in brackets: against the smallest)")
    for step in args.steps:
        print(f"{step}: {STEPS[step]}")


if __name__ == "__main__":
    main()
