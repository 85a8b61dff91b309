"""HTTP routes: OpenAI-compatible /v1/chat/completions, /v1/completions, /v1/embeddings, /v1/models, plus
/health (the process answers) and /ready (the model is loaded)."""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse

from .engine import Engine, Generation, Sampling
from .protocol import (
    ApiError,
    ChatCompletionRequest,
    CompletionRequest,
    Document,
    EmbeddingRequest,
    _Generate,
)
from .settings import ServeSettings

# How a RAG endpoint puts retrieved passages in front of the question. Numbered so answers can cite [n].
RAG_PREAMBLE = "Answer using only the documents below; cite them as [n].\n\n{documents}\n\n"


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        if err.get("type") == "json_invalid":
            return "the request body is not valid JSON"
        parts.append(f"{where or 'body'}: {err.get('msg', 'invalid')}")
    return "invalid request: " + "; ".join(parts)


def create_app(settings: ServeSettings, engine: Engine) -> FastAPI:
    app = FastAPI(title="llmops model server", docs_url=None, redoc_url=None, openapi_url=None)
    created = int(time.time())

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(ApiError(400, _validation_message(exc)).body(), status_code=400)

    def require_ready() -> None:
        if not engine.ready:
            raise ApiError(503, "the model is still loading", kind="service_unavailable", code="model_loading")

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/ready")
    def ready() -> JSONResponse:
        if engine.ready:
            return JSONResponse({"status": "ready", "model": settings.model_name})
        return JSONResponse({"status": "loading", "model": settings.model_name}, status_code=503)

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "id": settings.model_name,
                    "object": "model",
                    "created": created,
                    "owned_by": "llmops",
                    "serve_target": settings.serve_target,
                    "max_input_tokens": settings.max_input_tokens,
                    "max_output_tokens": settings.max_output_tokens,
                    "max_position_embeddings": engine.max_positions,
                    "ready": engine.ready,
                }
            ],
        }

    def documents_of(req: _Generate) -> list[Document]:
        if not req.documents:
            return []
        if settings.serve_target != "RAG":
            raise ApiError(400, "documents are accepted by RAG endpoints only", param="documents")
        return [d if isinstance(d, Document) else Document(text=d) for d in req.documents]

    def rag_context(docs: list[Document]) -> str:
        listed = "\n".join(f"[{i + 1}] {d.text}" for i, d in enumerate(docs))
        return RAG_PREAMBLE.format(documents=listed)

    def plan(req: _Generate, prompt: str, param: str) -> tuple[list[int], Sampling]:
        """Counts the prompt with the model's tokenizer and checks it and max_tokens against the limits."""
        if req.n != 1:
            raise ApiError(400, "n must be 1: this server returns one choice per prompt", param="n")
        ids = engine.encode(prompt)
        limit_in = settings.max_input_tokens
        if limit_in is not None and len(ids) > limit_in:
            raise ApiError(
                400,
                f"the prompt has {len(ids)} tokens, more than this endpoint's limit of {limit_in} input tokens "
                "(max_input_tokens)",
                param=param,
                code="context_length_exceeded",
            )
        positions = engine.max_positions
        if positions is not None and len(ids) >= positions:
            raise ApiError(
                400,
                f"the prompt has {len(ids)} tokens; the model reads at most {positions} (max_position_embeddings)",
                param=param,
                code="context_length_exceeded",
            )
        asked = req.max_completion_tokens or req.max_tokens
        limit_out = settings.max_output_tokens
        if asked is not None and limit_out is not None and asked > limit_out:
            raise ApiError(
                400,
                f"max_tokens is {asked}, more than this endpoint's limit of {limit_out} output tokens "
                "(max_output_tokens)",
                param="max_tokens",
                code="max_tokens_exceeded",
            )
        wanted = asked or limit_out or 256
        room = positions - len(ids) if positions is not None else wanted
        return ids, Sampling(min(wanted, room), req.temperature, req.top_p, req.stop_list())

    def usage(g: Generation) -> dict[str, int]:
        return {
            "prompt_tokens": g.prompt_tokens,
            "completion_tokens": g.completion_tokens,
            "total_tokens": g.prompt_tokens + g.completion_tokens,
        }

    def sse(chunks: Iterator[dict[str, Any]]) -> StreamingResponse:
        def body() -> Iterator[str]:
            try:
                for chunk in chunks:
                    yield f"data: {json.dumps(chunk, separators=(',', ':'))}\n\n"
            except Exception as e:  # noqa: BLE001 — the status line is sent: report the failure in the stream
                yield f"data: {json.dumps(ApiError(500, f'generation failed: {e}', kind='server_error').body())}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(body(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"})

    def documents_field(docs: list[Document]) -> dict[str, Any]:
        return {"documents": [{"index": i + 1, "id": d.id} for i, d in enumerate(docs)]} if docs else {}

    @app.post("/v1/chat/completions")
    def chat(req: ChatCompletionRequest) -> Any:
        require_ready()
        messages = [{"role": m.role if m.role != "developer" else "system", "content": m.text()} for m in req.messages]
        docs = documents_of(req)
        if docs:
            messages.insert(0, {"role": "system", "content": rag_context(docs).rstrip()})
        ids, sampling = plan(req, engine.chat_prompt(messages), "messages")
        rid, now = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        base = {"id": rid, "created": now, "model": settings.model_name}
        if not req.stream:
            g = engine.generate(ids, sampling)
            return {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": g.text},
                        "finish_reason": g.finish_reason,
                    }
                ],
                "usage": usage(g),
                **documents_field(docs),
            }
        include_usage = bool(req.stream_options and req.stream_options.include_usage)

        def chunks() -> Iterator[dict[str, Any]]:
            head = {**base, "object": "chat.completion.chunk"}
            yield {
                **head,
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
            }
            for piece, done in engine.stream(ids, sampling):
                if done is None:
                    yield {**head, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                    continue
                yield {
                    **head,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": done.finish_reason}],
                    **documents_field(docs),
                }
                if include_usage:
                    yield {**head, "choices": [], "usage": usage(done)}

        return sse(chunks())

    @app.post("/v1/completions")
    def completions(req: CompletionRequest) -> Any:
        require_ready()
        prompts = [req.prompt] if isinstance(req.prompt, str) else req.prompt
        if not prompts:
            raise ApiError(400, "prompt must not be empty", param="prompt")
        docs = documents_of(req)
        prefix = rag_context(docs) if docs else ""
        if req.stream and len(prompts) != 1:
            raise ApiError(400, "streaming takes one prompt", param="prompt")
        plans = [plan(req, prefix + p, "prompt") for p in prompts]
        rid, now = f"cmpl-{uuid.uuid4().hex}", int(time.time())
        base = {"id": rid, "object": "text_completion", "created": now, "model": settings.model_name}
        if not req.stream:
            results = [engine.generate(ids, sampling) for ids, sampling in plans]
            total = Generation(
                "", sum(g.prompt_tokens for g in results), sum(g.completion_tokens for g in results), "stop"
            )
            return {
                **base,
                "choices": [
                    {
                        "index": i,
                        "text": (prompts[i] if req.echo else "") + g.text,
                        "logprobs": None,
                        "finish_reason": g.finish_reason,
                    }
                    for i, g in enumerate(results)
                ],
                "usage": usage(total),
                **documents_field(docs),
            }
        ids, sampling = plans[0]
        include_usage = bool(req.stream_options and req.stream_options.include_usage)

        def chunks() -> Iterator[dict[str, Any]]:
            if req.echo:
                yield {**base, "choices": [{"index": 0, "text": prompts[0], "logprobs": None, "finish_reason": None}]}
            for piece, done in engine.stream(ids, sampling):
                if done is None:
                    yield {**base, "choices": [{"index": 0, "text": piece, "logprobs": None, "finish_reason": None}]}
                    continue
                yield {
                    **base,
                    "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": done.finish_reason}],
                    **documents_field(docs),
                }
                if include_usage:
                    yield {**base, "choices": [], "usage": usage(done)}

        return sse(chunks())

    @app.post("/v1/embeddings")
    def embeddings(req: EmbeddingRequest) -> dict[str, Any]:
        require_ready()
        inputs = [req.input] if isinstance(req.input, str) else req.input
        if not inputs:
            raise ApiError(400, "input must not be empty", param="input")
        encoded = []
        for i, text in enumerate(inputs):
            ids = engine.encode(text)
            limit = settings.max_input_tokens
            if limit is not None and len(ids) > limit:
                raise ApiError(
                    400,
                    f"input {i} has {len(ids)} tokens, more than this endpoint's limit of {limit} input tokens "
                    "(max_input_tokens)",
                    param="input",
                    code="context_length_exceeded",
                )
            if engine.max_positions is not None and len(ids) > engine.max_positions:
                raise ApiError(
                    400,
                    f"input {i} has {len(ids)} tokens; the model reads at most {engine.max_positions}",
                    param="input",
                    code="context_length_exceeded",
                )
            encoded.append(ids)
        data = []
        for i, ids in enumerate(encoded):
            vector = engine.embed(ids)
            value: Any = vector
            if req.encoding_format == "base64":
                value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
            data.append({"object": "embedding", "index": i, "embedding": value})
        tokens = sum(len(ids) for ids in encoded)
        return {
            "object": "list",
            "data": data,
            "model": settings.model_name,
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }

    return app
