"""The bundler configurations (installers/tauri.*.bundle.json), merged over
src-tauri/tauri.conf.json as `tauri bundle --config` merges them, are valid against the Tauri
CLI's own configuration schema, so the Windows and macOS ones are checked here too even though
they can only be built on those systems."""

import copy
import json
import os
import unittest

import jsonschema

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
SCHEMA = os.path.join(ROOT, "installers", "node_modules", "@tauri-apps", "cli", "config.schema.json")


def merged(overlay):
    """Tauri's merge: objects merge key by key, anything else replaces."""
    def merge(into, other):
        for key, value in other.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            else:
                into[key] = value
    with open(os.path.join(ROOT, "src-tauri", "tauri.conf.json"), encoding="utf-8") as base:
        config = json.load(base)
    merge(config, overlay)
    return config


class BundleConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(SCHEMA, encoding="utf-8") as schema:  # `npm ci --prefix installers` puts it there
            cls.validator = jsonschema.Draft7Validator(json.load(schema))

    def test_each_platform_config_is_valid(self):
        for platform in ("linux", "windows", "macos"):
            with self.subTest(platform=platform):
                path = os.path.join(ROOT, "installers", f"tauri.{platform}.bundle.json")
                with open(path, encoding="utf-8") as overlay:
                    config = merged(json.load(overlay))
                errors = [f"{list(e.path)}: {e.message}" for e in self.validator.iter_errors(config)]
                self.assertEqual(errors, [], path)
                self.assertTrue(config["bundle"]["active"])

    def test_an_invalid_config_is_caught(self):
        config = merged({"bundle": {"linux": {"deb": {"depends": "docker.io"}}}})
        self.assertTrue(list(self.validator.iter_errors(copy.deepcopy(config))))


if __name__ == "__main__":
    unittest.main()
