"""A fingerprint per state: what the state's rows are a function of.

    fingerprint(state) = sha256(root, code(state), policy reads(state), fingerprints of the states it reads)

- root: the run seed, the world definition (`manifest_fingerprint`: seed CSVs, the preset's
  knobs, tzdata), the package versions and the project files every node runs under
  (dbt_project.yml, profiles.yml, the on-run-start macros that create the SQL RNG).
- code: the files of the state's models and seeds: each one's SQL or Python, its YAML, the
  project macros it calls (and the ones those call), its materialisation, and for a Python
  model every module of python_kernels it imports, transitively.
- policy reads: the policy values the state's code reads, found in the code itself: in Python
  `policies["file"]` or `policies["file"]["section"]`, in SQL `pval('file.section...')`. A read the
  scan cannot pin to a file (a key computed at run time, a direct query of world_policy_params)
  counts as reading every policy, so a state is never reused on a value it may have read, unless
  the node declares what it reads (`meta: {policy_reads: ["file.section", ...]}`).

Same code, same root, same values at every path the code reads and the same inputs give the
same rows: that is what lets a later run reuse a state whose fingerprint is unchanged.
`world_policy_params`, the table of every policy value SQL models read through `pval`, is the
run's parameter table rather than a fact: it belongs to no fingerprint and is rebuilt in every
run (its readers' fingerprints cover the values they read from it).
"""
from __future__ import annotations

import ast
import hashlib
import json
import re
from pathlib import Path

from python_kernels.core.policies import PolicySet, canonical_json
from python_kernels.run import states

PROJECT = "fraud_engine"
PARAMETER_TABLE = "world_policy_params"
EVERY_POLICY = "*"
_PY_READ = re.compile(r"""policies\[\s*["'](\w+)["']\s*\](?:\s*\[\s*["'](\w+)["']\s*\])?""")
_PY_ANY = re.compile(r"\bpolicies\s*(\[|\.values\b)|\bpolicy_rows\(")
# a literal key, or a literal start that names its file and section ('graph.roles.' ~ kind)
_SQL_READ = re.compile(r"""\bpval(?:_list)?\(\s*(['"])([a-z_]+)\.([a-z_]+)(?:[.\[][^'"]*\1|\1\s*\))""")
_SQL_ANY = re.compile(r"\bpval(?:_list)?\(")
_HOOK_MACRO = re.compile(r"\{\{\s*(\w+)\(")
_OWN_MACROS = ("pval", "pval_list")  # the readers themselves: their text is not a read
_LOADER = ("python_kernels/core/policies.py", "python_kernels/core/policy_schema/")  # likewise


def _unique_id(name: str) -> str:
    return f"macro.{PROJECT}.{name}"


class _Scan:
    """Files and policy reads of the project's nodes, from a parsed manifest."""

    def __init__(self, project_dir: Path, manifest: dict):
        self.project_dir, self.macros = project_dir, manifest["macros"]
        self._imports: dict[Path, set[Path]] = {}

    def macro_closure(self, names) -> set[str]:
        seen, todo = set(), [m for m in names if m in self.macros and self.macros[m]["package_name"] == PROJECT]
        while todo:
            uid = todo.pop()
            if uid not in seen:
                seen.add(uid)
                todo += [m for m in self.macros[uid]["depends_on"]["macros"]
                         if m in self.macros and self.macros[m]["package_name"] == PROJECT]
        return seen

    def python_closure(self, path: Path) -> set[Path]:
        """`path` and every python_kernels module it imports, transitively (package __init__s too)."""
        seen, todo = set(), [path]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            todo += sorted(self._imported(p) - seen)
        return seen

    def _imported(self, path: Path) -> set[Path]:
        if path not in self._imports:
            found = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module] + [f"{node.module}.{a.name}" for a in node.names]
                         if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
                for name in names:
                    parts = name.split(".")
                    if parts[0] != "python_kernels":
                        continue
                    for i in range(1, len(parts) + 1):
                        base = self.project_dir.joinpath(*parts[:i])
                        for candidate in (base / "__init__.py", base.with_suffix(".py")):
                            if candidate.is_file():
                                found.add(candidate)
            self._imports[path] = found
        return self._imports[path]

    def node_files_and_texts(self, node: dict) -> tuple[set[Path], list[tuple[str, str]]]:
        """The files a node's rows depend on, and its code texts to scan for policy reads
        as (language, text)."""
        root = self.project_dir
        files = {root / node["original_file_path"]}
        if node.get("patch_path"):
            files.add(root / node["patch_path"].split("://", 1)[1])
        texts = []
        macros = self.macro_closure([*node["depends_on"]["macros"],
                                     _unique_id(f"materialization_{node['config']['materialized']}_duckdb")])
        for uid in sorted(macros):
            files.add(root / self.macros[uid]["original_file_path"])
            if self.macros[uid]["name"] not in _OWN_MACROS:
                texts.append(("sql", self.macros[uid]["macro_sql"]))
        if node["resource_type"] == "model":
            if node["original_file_path"].endswith(".py"):
                closure = self.python_closure(root / node["original_file_path"])
                files |= closure
                texts += [("python", p.read_text(encoding="utf-8")) for p in sorted(closure)
                          if not p.relative_to(root).as_posix().startswith(_LOADER)]
            else:
                texts.append(("sql", node["raw_code"]))
        return files, texts


def policy_reads(texts, declared=None) -> set[str]:
    """The policy keys ("file" or "file.section", or EVERY_POLICY) code texts read. A read the
    scan cannot pin down (a computed key, a direct query of the parameter table) stands for
    the node's declared `meta.policy_reads` when it has them, else for every policy."""
    reads: set[str] = set()
    uncertain = False
    for language, text in texts:
        if language == "python":
            found = list(_PY_READ.finditer(text))
            uncertain |= len(found) < len(_PY_ANY.findall(text))
            reads |= {".".join(x for x in m.groups() if x) for m in found}
        else:
            found = list(_SQL_READ.finditer(text))
            uncertain |= len(found) < len(_SQL_ANY.findall(text)) or PARAMETER_TABLE in _SQL_READ.sub("", text)
            reads |= {m.group(2) + (f".{m.group(3)}" if m.group(3) else "") for m in found}
    if uncertain:
        reads |= set(declared) if declared else {EVERY_POLICY}
    return {r for r in reads if r.split(".")[0] != "preset"}  # the preset's knobs are in the root


def _value(policies: PolicySet, key: str):
    file, _, section = key.partition(".")
    data = policies.values[file]
    return data[section] if section else data


def _sha(obj) -> str:
    return hashlib.sha256(canonical_json(obj).encode()).hexdigest()


def _files_digest(project_dir: Path, files) -> str:
    h = hashlib.sha256()
    for path in sorted(files):
        h.update(path.relative_to(project_dir).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def _root_files(project_dir: Path, scan: _Scan) -> set[Path]:
    import yaml

    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text())
    hooks = [_unique_id(m) for hook in project.get("on-run-start", []) for m in _HOOK_MACRO.findall(hook)]
    return {project_dir / "dbt_project.yml", project_dir / "profiles.yml",
            *(project_dir / scan.macros[uid]["original_file_path"] for uid in scan.macro_closure(hooks))}


def state_fingerprints(project_dir: Path, manifest: dict, policies: PolicySet, root: dict) -> dict[str, dict]:
    """state -> {fingerprint, code, policies: {key: sha256 of its value}, inputs: {state: fingerprint}}
    for every state that has a model or seed; `root` is what every state's rows depend on
    (seed, manifest fingerprint, package versions)."""
    scan = _Scan(project_dir, manifest)
    files: dict[str, set[Path]] = {}
    reads: dict[str, set[str]] = {}
    inputs: dict[str, set[str]] = {}
    for uid, node in manifest["nodes"].items():
        if node["resource_type"] not in ("model", "seed") or node["package_name"] != PROJECT \
                or node["name"] == PARAMETER_TABLE:
            continue
        state = states.declared(node["config"]["meta"])
        node_files, texts = scan.node_files_and_texts(node)
        files.setdefault(state, set()).update(node_files)
        reads.setdefault(state, set()).update(policy_reads(texts, node["config"]["meta"].get("policy_reads")))
        for parent in node["depends_on"].get("nodes", []):
            p = manifest["nodes"].get(parent)
            if p is None or p["resource_type"] not in ("model", "seed") or p["name"] == PARAMETER_TABLE:
                continue
            parent_state = states.declared(p["config"]["meta"])
            if states.state_order(parent_state) > states.state_order(state):
                raise ValueError(f"{uid} (state {state}) reads {parent} of the later state {parent_state}")
            if parent_state != state:
                inputs.setdefault(state, set()).add(parent_state)
    root_digest = _sha({**root, "project_files": _files_digest(project_dir, _root_files(project_dir, scan))})
    out: dict[str, dict] = {}
    for state in sorted(files, key=states.state_order):
        keys = sorted(policies.values) if EVERY_POLICY in reads[state] else sorted(reads[state])
        entry = {
            "code": _files_digest(project_dir, files[state]),
            "policies": {k: _sha(_value(policies, k)) for k in keys},
            "inputs": {s: out[s]["fingerprint"] for s in sorted(inputs.get(state, ()), key=states.state_order)},
        }
        entry["fingerprint"] = _sha({"root": root_digest, **entry})
        entry["root"] = root_digest
        out[state] = entry
    return out


def changes(old: dict | None, new: dict) -> str:
    """Why a state's fingerprint differs from an earlier run's entry, in words."""
    if old is None:
        return "not in the earlier run"
    why = []
    if old.get("root") != new["root"]:
        why.append("seed, world definition, package versions or project files")
    if old.get("code") != new["code"]:
        why.append("code")
    changed = sorted(k for k in {*old.get("policies", {}), *new["policies"]}
                     if old.get("policies", {}).get(k) != new["policies"].get(k))
    if changed:
        why.append("policy " + ", ".join(changed))
    moved = [s for s in new["inputs"] if old.get("inputs", {}).get(s) != new["inputs"][s]]
    if moved:
        why.append("input " + ", ".join(moved))
    return "; ".join(why) or "unchanged"


def load_manifest(path: Path) -> dict:
    return json.loads(path.read_text())
