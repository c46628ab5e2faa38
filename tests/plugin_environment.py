"""A fresh virtual environment with zoo installed from its wheel, for plugin packages.

Used by the plugin-package tests (tests/conftest.py) and the ``zoo list``
benchmark. Nothing is downloaded: wheels are built locally without build
isolation, and the heavy dependencies come from the calling environment.
"""

from __future__ import annotations

import site
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class PluginEnvironment:
    """A fresh virtual environment with zoo's wheels installed (``zoo-lm`` and its pretrained
    models, ``zoo-lm-pretrained``), for plugin packages.

    zoo and each plugin are built into wheels and installed with pip, exactly as
    a user installs them; the heavy third-party dependencies (torch, onnx, ...)
    are reached through a ``.pth`` file naming this environment's site-packages,
    so that nothing is downloaded.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.wheels = root / "wheels"
        subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True)
        self.python = root / "venv" / "bin" / "python"
        self.bin = root / "venv" / "bin"
        self.install(REPO)
        # zoo's pretrained package too: the calling environment's (an editable install) is
        # seen through the .pth below, and its module would be missing without this wheel
        self.install(REPO / "plugins" / "pretrained")
        purelib = subprocess.run(
            [str(self.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True, capture_output=True, text=True).stdout.strip()
        outer = [p for p in site.getsitepackages() if Path(p).is_dir()]
        (Path(purelib) / "zoo_test_dependencies.pth").write_text("\n".join(outer) + "\n")

    def install(self, *sources: Path) -> None:
        """Build each source folder into a wheel (no network) and pip-install them together."""
        out = self.wheels / sources[0].name
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                        "--no-build-isolation", "--wheel-dir", str(out), *map(str, sources)],
                       check=True)
        subprocess.run([str(self.python), "-m", "pip", "install", "--quiet", "--no-deps",
                        "--no-index", *map(str, out.glob("*.whl"))], check=True)

    def run(self, *args: str, cwd: Path | None = None) -> str:
        """Run a command of the venv (``zoo``, ``python``, ...); fail with its output."""
        program = args[0] if args[0].startswith("/") else str(self.bin / args[0])
        result = subprocess.run([program, *args[1:]], capture_output=True, text=True, cwd=cwd,
                                env={"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(self.root),
                                     "ZOO_CACHE": str(self.root / "cache")})
        assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
        return result.stdout
