"""The ``web`` exporter: an ONNX export plus a static page that samples it in the browser.

    RUN/web/
      index.html, page.js   the page: prompt, settings, streamed text, tokens/s
      zoo.js                one ES module that drives any export from manifest.json
      sampler*.onnx, sampler.weights   the step in loops that choose their own tokens,
                            one per choosing head, the weights stored once (web_sampler.py)
      model.onnx, tokenizer/, manifest.json   the ONNX export, unchanged in form
      vendor/               local copies of onnxruntime-web (and tokenizers.js), when asked
      LICENSES.md           whose code and data the folder holds, under which licence

onnxruntime-web is imported through the page's import map: from a pinned CDN
URL by default, or from a local copy (``--ort-dir``) for offline use and the
tests; its plain WebAssembly bundle always, its WebGPU bundle only when a
visitor picks WebGPU. The folder is static: ``zoo serve EXPORT`` (or any web
server) serves it. Importing this module imports neither torch nor onnxruntime.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from zoo.plugin import ZooError
from zoo_exports.onnx_exporter import OnnxExportConfig, OnnxExporter
from zoo_exports.web_sampler import write_sampler

EXPORTER_NAME = "web"  # the name zoo_exports.plugin registers this exporter under
ORT_WEB_VERSION = "1.30.0"
TOKENIZERS_JS_VERSION = "0.2.0"
CDN = "https://cdn.jsdelivr.net/npm"
#: The onnxruntime-web bundle the page imports as ``onnxruntime-web``: WebAssembly only.
ORT_BUNDLE = "ort.wasm.min.mjs"
#: What that bundle loads next to itself: the plain WebAssembly runtime. (The runtime built
#: for WebGPU is instrumented to pause for the GPU, which makes every step 2-3x slower.)
ORT_RUNTIME = ("ort-wasm-simd-threaded.mjs", "ort-wasm-simd-threaded.wasm")
#: The bundle imported as ``onnxruntime-web/webgpu``, only when a visitor picks WebGPU, and
#: the runtime it loads.
ORT_WEBGPU_BUNDLE = "ort.min.mjs"
ORT_WEBGPU_RUNTIME = ("ort-wasm-simd-threaded.jsep.mjs", "ort-wasm-simd-threaded.jsep.wasm")
TOKENIZERS_BUNDLE = "tokenizers.min.mjs"
ORT_CDN = f"{CDN}/onnxruntime-web@{ORT_WEB_VERSION}/dist"
TOKENIZERS_CDN = f"{CDN}/@huggingface/tokenizers@{TOKENIZERS_JS_VERSION}/dist"
PAGE_FILES = ("index.html", "page.js", "zoo.js")
#: Tokenizer schemes zoo.js encodes (``tokenizer.portable.scheme``); see docs/export-format.md.
WEB_SCHEMES = ("char", "byte", "word", "huggingface")
IMPORT_MAP_MARK = "<!--IMPORT_MAP-->"


@dataclass
class WebExportConfig(OnnxExportConfig):
    """Options of the web exporter (``--set export.KEY=VALUE``); the ONNX options apply too."""

    ort_dir: str | None = None  # local onnxruntime-web to copy in; None: a pinned CDN URL
    tokenizers_dir: str | None = None  # local tokenizers.js (bpe, sentencepiece); None: CDN


class WebExporter(OnnxExporter):
    """Exports the ONNX step and a page that samples it with onnxruntime-web."""

    config: WebExportConfig

    def __init__(self, config: WebExportConfig | None = None) -> None:
        super().__init__(config or WebExportConfig())

    def export(self, loaded: Any, out_dir: Path, log: Callable[[str], None] = print
               ) -> dict[str, Any]:
        portable = _portable_form(loaded.tokenizer, loaded.config.tokenizer.name)
        ort_files = _local_package(self.config.ort_dir, "--ort-dir", "onnxruntime-web",
                                   ORT_WEB_VERSION, ORT_BUNDLE,
                                   (*ORT_RUNTIME, ORT_WEBGPU_BUNDLE, *ORT_WEBGPU_RUNTIME))
        tokenizers_files = (_local_package(self.config.tokenizers_dir, "--tokenizers-dir",
                                           "@huggingface/tokenizers", TOKENIZERS_JS_VERSION,
                                           TOKENIZERS_BUNDLE)
                            if portable["scheme"] == "huggingface" else None)

        def add_page(directory: Path, manifest: dict[str, Any]) -> None:
            manifest["exporter"] = EXPORTER_NAME
            registry = getattr(loaded, "registry", None)
            provider = registry.provider_of("exporter", EXPORTER_NAME) if registry else None
            if provider is not None:
                manifest["providers"]["exporter"] = provider.record()
            wasm, webgpu = _vendor(ort_files, directory, "onnxruntime-web", ORT_CDN,
                                   (ORT_BUNDLE, *ORT_RUNTIME),
                                   (ORT_WEBGPU_BUNDLE, *ORT_WEBGPU_RUNTIME))
            imports = {"onnxruntime-web": wasm, "onnxruntime-web/webgpu": webgpu}
            if portable["scheme"] == "huggingface":
                imports["@huggingface/tokenizers"], = _vendor(
                    tokenizers_files, directory, "tokenizers", TOKENIZERS_CDN,
                    (TOKENIZERS_BUNDLE,))
            manifest["web"] = {"imports": imports, "page": "index.html", "module": "zoo.js"}
            sampler = write_sampler(directory, manifest, log)
            if sampler is not None:
                manifest["web"]["sampler"] = sampler
            _write_page(directory, imports)
            _write_licences(directory, manifest, imports)

        return self.export_step(loaded, out_dir, log, finish=add_page)


def _portable_form(tokenizer: Any, name: str) -> dict[str, Any]:
    """The tokenizer's portable description, refused unless zoo.js can encode with it."""
    from zoo_exports.onnx_export import portable_tokenizer

    portable = portable_tokenizer(tokenizer)
    scheme = portable.get("scheme") if portable is not None else None
    if portable is None or scheme not in WEB_SCHEMES:
        why = (f"its portable scheme {scheme!r} has no JavaScript form yet" if scheme
               else "it describes no portable form (a portable() method)")
        raise ZooError(f"the web page cannot encode text with the {name!r} tokenizer: {why}; "
                       f"the page reads {', '.join(WEB_SCHEMES)}. Export with --onnx instead, "
                       "or train with char, byte, word, bpe or a sentencepiece unigram model")
    return portable


def _local_package(folder: str | None, option: str, package: str, version: str, bundle: str,
                   runtime: tuple[str, ...] = ()) -> Path | None:
    """The ``dist`` folder of a local copy of ``package`` holding ``bundle`` and the
    ``runtime`` files it loads; None (the CDN) when no folder is given."""
    if folder is None:
        return None
    given = Path(folder).expanduser()
    found = next((candidate for candidate in (given, given / "dist",
                                              given / "node_modules" / package / "dist")
                  if (candidate / bundle).is_file()), None)
    missing = bundle if found is None else next(
        (file for file in runtime if not (found / file).is_file()), None)
    if missing is not None:
        raise ZooError(f"{option} {str(given)!r} holds no {missing}; give the folder of "
                       f"{package} {version} (`npm install {package}@{version}` puts it in "
                       f"node_modules/{package})")
    return found


def _vendor(dist: Path | None, directory: Path, name: str, cdn_folder: str,
            *bundles: tuple[str, ...]) -> list[str]:
    """Copy each of ``bundles`` (a bundle and the files it loads) from a local ``dist``
    into ``vendor/NAME``; the URL the import map gives each bundle: that copy, or else
    the file in ``cdn_folder``."""
    if dist is None:
        return [f"{cdn_folder}/{files[0]}" for files in bundles]
    target = directory / "vendor" / name
    target.mkdir(parents=True)
    for file in {file for files in bundles for file in files}:
        shutil.copy2(dist / file, target / file)
    for licence in ("LICENSE", "LICENSE.txt", "LICENSE.md"):
        if (dist.parent / licence).is_file():
            shutil.copy2(dist.parent / licence, target / "LICENSE")
            break
    return [f"./vendor/{name}/{files[0]}" for files in bundles]


def _write_page(directory: Path, imports: dict[str, str]) -> None:
    """Copy the page and zoo.js in, with the import map that says where the libraries are."""
    static = resources.files("zoo_exports") / "web_static"
    for name in PAGE_FILES:
        text = (static / name).read_text("utf-8")
        if name == "index.html":
            import_map = json.dumps({"imports": imports}, indent=2)
            text = text.replace(IMPORT_MAP_MARK,
                                f'<script type="importmap">\n{import_map}\n</script>')
        (directory / name).write_text(text, "utf-8")


def _write_licences(directory: Path, manifest: dict[str, Any], imports: dict[str, str]) -> None:
    """LICENSES.md: the licences of the code in the folder, and where the model came from."""
    dataset = manifest.get("dataset", {}).get("name", "an unnamed dataset")
    lines = [
        "# Licences of what this folder holds",
        "",
        "- `index.html`, `page.js`, `zoo.js`: written by zoo (zoo-lm), MIT licence.",
        f"- `model.onnx` (and the page's `sampler*.onnx` and `sampler.weights`, where "
        f"present), `tokenizer/`: a `{manifest['architecture']}` model trained by zoo on "
        f"the `{dataset}` dataset; the model carries the terms of that data (Tiny "
        "Shakespeare is in the public domain).",
        f"- onnxruntime-web {ORT_WEB_VERSION} (Microsoft), MIT licence, imported from "
        f"`{imports['onnxruntime-web']}` (its WebGPU bundle from "
        f"`{imports['onnxruntime-web/webgpu']}`)"
        + (" (its LICENSE is in `vendor/onnxruntime-web/`)."
           if imports["onnxruntime-web"].startswith("./") else "."),
    ]
    if "@huggingface/tokenizers" in imports:
        lines.append(f"- tokenizers.js (@huggingface/tokenizers {TOKENIZERS_JS_VERSION}, "
                     "Hugging Face), Apache-2.0 licence, imported from "
                     f"`{imports['@huggingface/tokenizers']}`.")
    (directory / "LICENSES.md").write_text("\n".join(lines) + "\n", "utf-8")
