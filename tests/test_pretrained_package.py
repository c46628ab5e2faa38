"""zoo's own pretrained package (plugins/pretrained), built into a wheel and installed into a
fresh virtual environment beside zoo's wheel, as a user installs it (the plugin environment
installs both).

Marked slow (about a minute): it runs with `pytest --slow`, as in CI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "plugins" / "pretrained"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(plugin_environment):
    return plugin_environment


def installed_model(env, name: str) -> Path:
    probe = ("import zoo; print([m['directory'] for m in zoo.pretrained() "
             f"if m['name'] == {name!r}][0])")
    return Path(env.run("python", "-c", probe).strip())


def test_every_model_is_listed_from_the_installed_wheel(env):
    listed = json.loads(env.run("zoo", "list", "--kind", "pretrained", "--json"))["pretrained"]
    recipes = (PACKAGE / "recipes.toml").read_text("utf-8")
    names = {m["name"] for m in listed if m["distribution"] == "zoo-lm-pretrained"}
    assert names and all(f'name = "{name}"' in recipes for name in names)
    assert recipes.count("[[model]]") == len(names)
    # the installed copy, not the checkout's
    assert "site-packages" in str(installed_model(env, "lstm/tinyshakespeare"))


def test_sample_and_eval_by_name(env):
    text = env.run("zoo", "sample", "gru-tied/tinyshakespeare", "--seed", "0",
                   "--max-new-tokens", "100")
    assert len(text) > 50
    card = (installed_model(env, "lstm/tinyshakespeare") / "MODEL.md").read_text("utf-8")
    evaluated = env.run("zoo", "eval", "lstm/tinyshakespeare")
    loss = next(line.split()[1] for line in evaluated.splitlines() if "loss" in line)
    assert f"val loss **{loss}** nats/token" in card


def test_a_flipped_byte_is_one_line_and_exit_code_2(env):
    weights = installed_model(env, "rnn/tinyshakespeare") / "model.safetensors"
    original = weights.read_bytes()
    damaged = bytearray(original)
    damaged[len(damaged) // 2] ^= 0x01
    weights.write_bytes(bytes(damaged))
    try:
        result = subprocess.run([str(env.bin / "zoo"), "sample", "rnn/tinyshakespeare"],
                                capture_output=True, text=True,
                                env={"PATH": f"{env.bin}:/usr/bin:/bin", "HOME": str(env.root)})
    finally:
        weights.write_bytes(original)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert str(weights) in line and "sha256" in line and "Traceback" not in result.stderr


def test_fine_tuning_never_writes_into_site_packages(env, small_corpus, tmp_path):
    model = installed_model(env, "gru-tied/tinyshakespeare")
    package = model.parents[2]  # site-packages/zoo_pretrained
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in package.rglob("*")}
    subprocess.run(["chmod", "-R", "a-w", str(package)], check=True)
    try:
        out = tmp_path / "fine-tuned"
        env.run("zoo", "train", "gru-tied", "--init-from", "gru-tied/tinyshakespeare",
                "--data", str(small_corpus), "--steps", "50", "--batch-size", "8",
                "--block-size", "64", "--set", "train.eval_interval=50",
                "--set", "train.eval_batches=2", "--out", str(out), "--no-progress")
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(package)], check=True)
    assert json.loads((out / "config.json").read_text())["train"]["init_from"] == \
        "gru-tied/tinyshakespeare"
    # root writes through a+w-less files, so the listing is the proof that holds for anyone
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in package.rglob("*")} == before
