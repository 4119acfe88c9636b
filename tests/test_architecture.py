"""The import rules of docs/architecture.md, checked on the source (no imports executed)."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "autopreset"
SHARED = {"errors", "_atomic", "_duration", "_signals", "_faults", "reporting", "_notices",
          "__init__"}
LIBRARY = {"space", "searchers", "schedulers", "executors", "journal", "tuner", "simulator",
           "_optimize"}
ALLOWED = {
    "space": set(), "searchers": {"space"}, "schedulers": {"space", "searchers"},
    "executors": set(), "journal": set(), "tuner": {"executors", "journal", "schedulers"},
    "simulator": {"executors", "space"}, "_optimize": {"searchers"},
    "data": set(), "backbones": {"data"}, "tasks": {"data", "backbones"},
    "training": {"data", "backbones", "tasks"}, "report": set(),
    "portfolio": {"space", "report", "backbones"}, "presets": {"space", "portfolio", "backbones"},
    "model": {"data", "backbones", "_export", "report"}, "_export": set(), "datasets": set(),
    "cli": {"pipeline", "model", "portfolio", "datasets", "zoo", "backbones"}, "__main__": {"cli"},
    "demo": set(), "estimator": {"pipeline", "data", "report"},
    # the zoo records curves with the trainer, prepares tasks like fit, builds presets (starting
    # from the hand-curated ones in presets/), and replays whole fit strategies on the simulator
    "zoo": {"data", "training", "backbones", "tasks", "portfolio", "presets", "space", "datasets",
            "pipeline", "schedulers", "searchers", "simulator", "tuner", "executors"},
}


def _part(path: Path) -> str:
    rel = path.relative_to(ROOT).parts
    return rel[0].removesuffix(".py")


def _imports(path: Path):
    """(part imported, top-level?) for every import of an autopreset module in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level:
            base = list(path.relative_to(ROOT).parent.parts)
            base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
            names = [".".join(base + ([node.module] if node.module else []))]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autopreset"):
            names = [node.module.removeprefix("autopreset").lstrip(".")]
        elif isinstance(node, ast.Import):
            names = [a.name.removeprefix("autopreset").lstrip(".") for a in node.names
                     if a.name.startswith("autopreset")]
        for name in names:
            yield (name.split(".")[0] or "__init__"), id(node) in top


def test_every_part_imports_only_what_the_architecture_allows():
    broken = []
    for path in sorted(ROOT.rglob("*.py")):
        me = _part(path)
        if me == "pipeline":
            allowed = set(ALLOWED) - {"cli", "__main__"}
        else:
            assert me in ALLOWED or me in SHARED, f"{path}: part {me!r} is not in docs/architecture.md"
            allowed = ALLOWED.get(me, set())
        for part, _ in _imports(path):
            if part != me and part not in allowed | SHARED:
                broken.append(f"{path.relative_to(ROOT.parent)} imports {part}")
    assert not broken, "\n".join(broken)


def test_library_parts_do_not_import_torch_at_module_level():
    heavy = []
    for path in sorted(ROOT.rglob("*.py")):
        if _part(path) not in LIBRARY:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            mods = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            heavy += [f"{path.name}: {m}" for m in mods if m.split(".")[0] in ("torch", "timm")]
    assert not heavy, heavy
