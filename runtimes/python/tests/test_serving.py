"""The model server as the platform runs it: a child process on a free loopback port serving the tiny trained
model, spoken to over HTTP in the OpenAI wire format."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import Run
from llmops_runtime.serving.main import EXIT_BAD_MODEL

MAX_IN = 40
MAX_OUT = 12


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    stderr_path: Path

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


def start_server(model_dir: str, work: Path, *args: str, timeout: float = 60) -> Server:
    work.mkdir(parents=True, exist_ok=True)
    port_file = work / "port"
    stderr_path = work / "stderr.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmops_runtime", "serve", "--model", model_dir, "--port", "0"]
        + ["--port-file", str(port_file), *args],
        stdout=subprocess.DEVNULL,
        stderr=stderr_path.open("w"),
        text=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"server exited {proc.returncode}: {stderr_path.read_text()}"
        if port_file.exists():
            url = f"http://127.0.0.1:{port_file.read_text().strip()}"
            try:
                if get(url + "/ready")[0] == 200:
                    return Server(proc, url, stderr_path)
            except OSError:
                pass
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"server not ready in {timeout} s: {stderr_path.read_text()}")


def get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post(url: str, body: Any, raw: bytes | None = None) -> tuple[int, Any]:
    data = raw if raw is not None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def post_stream(url: str, body: Any) -> tuple[str, list[str]]:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        content_type = r.headers["Content-Type"]
        lines = [line.decode().rstrip("\n") for line in r]
    return content_type, [line for line in lines if line]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, base_model: tuple[str, Run]) -> Iterator[Server]:
    s = start_server(
        base_model[0],
        tmp_path_factory.mktemp("serve"),
        "--model-name",
        "tiny",
        "--max-input-tokens",
        str(MAX_IN),
        "--max-output-tokens",
        str(MAX_OUT),
    )
    yield s
    s.stop()


def chat(content: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], "temperature": 0, **extra}


def test_health_ready_and_models(server: Server) -> None:
    assert get(server.url + "/health") == (200, {"status": "alive"})
    assert get(server.url + "/ready") == (200, {"status": "ready", "model": "tiny"})
    status, body = get(server.url + "/v1/models")
    assert status == 200
    [model] = body["data"]
    assert model["id"] == "tiny" and model["object"] == "model"
    assert (model["max_input_tokens"], model["max_output_tokens"]) == (MAX_IN, MAX_OUT)


def test_chat_completion_is_greedy_at_temperature_0_and_counts_tokens_with_the_model_tokenizer(
    server: Server, base_model: tuple[str, Run]
) -> None:
    from transformers import AutoTokenizer

    from llmops_runtime.tokenizer import DEFAULT_CHAT_TEMPLATE

    first = post(server.url + "/v1/chat/completions", chat("the red fox", max_tokens=6))
    second = post(server.url + "/v1/chat/completions", chat("the red fox", max_tokens=6))
    assert first[0] == 200, first
    body = first[1]
    assert body["object"] == "chat.completion" and body["model"] == "tiny"
    assert body["choices"][0]["message"]["role"] == "assistant"
    assert body["choices"][0]["message"]["content"] == second[1]["choices"][0]["message"]["content"]
    assert body["choices"][0]["message"]["content"].strip()
    # The tiny pretrained model has no template of its own: the documented default one is applied.
    tok = AutoTokenizer.from_pretrained(base_model[0])
    prompt = tok.apply_chat_template(
        [{"role": "user", "content": "the red fox"}],
        tokenize=False,
        add_generation_prompt=True,
        chat_template=DEFAULT_CHAT_TEMPLATE,
    )
    usage = body["usage"]
    assert usage["prompt_tokens"] == len(tok(prompt)["input_ids"])
    assert 1 <= usage["completion_tokens"] <= 6
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_defaults_to_the_output_limit(server: Server) -> None:
    status, body = post(server.url + "/v1/completions", {"prompt": "the cat sees", "temperature": 0})
    assert status == 200, body
    assert body["object"] == "text_completion"
    # The tiny model rarely ends on its own; either way it never writes more than the limit.
    assert body["usage"]["completion_tokens"] <= MAX_OUT
    if body["choices"][0]["finish_reason"] == "length":
        assert body["usage"]["completion_tokens"] == MAX_OUT


def test_streaming_sends_sse_chunks_then_done_with_the_same_text_as_without(server: Server) -> None:
    body = {"prompt": "the blue owl", "temperature": 0, "max_tokens": 8}
    plain = post(server.url + "/v1/completions", body)[1]["choices"][0]["text"]
    content_type, lines = post_stream(
        server.url + "/v1/completions", {**body, "stream": True, "stream_options": {"include_usage": True}}
    )
    assert content_type.startswith("text/event-stream")
    assert all(line.startswith("data: ") for line in lines)
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[len("data: ") :]) for line in lines[:-1]]
    text = "".join(c["choices"][0]["text"] for c in chunks if c["choices"])
    assert text == plain
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] in ("stop", "length")
    assert chunks[-1]["usage"]["completion_tokens"] <= 8

    _, chat_lines = post_stream(server.url + "/v1/chat/completions", chat("the owl", stream=True, max_tokens=4))
    chat_chunks = [json.loads(line[len("data: ") :]) for line in chat_lines[:-1]]
    assert chat_lines[-1] == "data: [DONE]"
    assert chat_chunks[0]["object"] == "chat.completion.chunk"
    assert chat_chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chat_chunks[-1]["choices"][0]["finish_reason"] in ("stop", "length")


def test_a_prompt_over_max_input_tokens_is_refused_naming_the_count_and_the_limit(server: Server) -> None:
    prompt = "the red fox sees the owl near the barn. " * 8
    status, body = post(server.url + "/v1/completions", {"prompt": prompt})
    assert status == 400
    err = body["error"]
    assert err["code"] == "context_length_exceeded" and err["param"] == "prompt"
    assert f"limit of {MAX_IN} input tokens" in err["message"]
    assert int(err["message"].split(" has ")[1].split(" tokens")[0]) > MAX_IN
    status, body = post(server.url + "/v1/chat/completions", chat(prompt))
    assert status == 400 and body["error"]["param"] == "messages"


def test_max_tokens_over_max_output_tokens_is_refused(server: Server) -> None:
    status, body = post(server.url + "/v1/chat/completions", chat("hi", max_tokens=MAX_OUT + 1))
    assert status == 400
    assert body["error"]["code"] == "max_tokens_exceeded" and body["error"]["param"] == "max_tokens"
    assert f"max_tokens is {MAX_OUT + 1}" in body["error"]["message"]
    assert f"limit of {MAX_OUT} output tokens" in body["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "raw", "fragment"),
    [
        ("/v1/chat/completions", None, b'{"messages": [', "not valid JSON"),
        ("/v1/chat/completions", {"messages": []}, None, "messages"),
        ("/v1/chat/completions", {"messages": [{"role": "wizard", "content": "x"}]}, None, "role"),
        ("/v1/chat/completions", chat("x", n=2), None, "n must be 1"),
        ("/v1/completions", {"prompt": 3}, None, "prompt"),
        ("/v1/completions", {"prompt": "x", "temperature": 5}, None, "temperature"),
        ("/v1/embeddings", {"input": []}, None, "input must not be empty"),
        ("/v1/completions", {"prompt": "x", "documents": ["a passage"]}, None, "RAG endpoints only"),
    ],
)
def test_malformed_requests_get_400_with_a_message(
    server: Server, path: str, body: Any, raw: bytes | None, fragment: str
) -> None:
    status, answer = post(server.url + path, body, raw)
    assert status == 400, answer
    assert answer["error"]["type"] == "invalid_request_error"
    assert fragment in answer["error"]["message"]


def test_embeddings_are_mean_pooled_unit_vectors(server: Server, base_model: tuple[str, Run]) -> None:
    hidden = json.loads((Path(base_model[0]) / "config.json").read_text())["hidden_size"]
    status, body = post(server.url + "/v1/embeddings", {"input": ["the red fox", "a green owl", "the red fox"]})
    assert status == 200, body
    vectors = [d["embedding"] for d in body["data"]]
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert all(len(v) == hidden for v in vectors)
    assert all(math.isclose(math.sqrt(sum(x * x for x in v)), 1.0, rel_tol=1e-4) for v in vectors)
    assert vectors[0] == vectors[2] and vectors[0] != vectors[1]
    assert body["usage"]["prompt_tokens"] > 0
    status, b64 = post(server.url + "/v1/embeddings", {"input": "the red fox", "encoding_format": "base64"})
    assert status == 200 and isinstance(b64["data"][0]["embedding"], str)


def test_a_rag_endpoint_puts_documents_into_the_prompt_and_names_them_in_the_answer(
    tmp_path: Path, base_model: tuple[str, Run]
) -> None:
    s = start_server(base_model[0], tmp_path, "--serve-target", "rag", "--max-output-tokens", "4")
    try:
        plain = post(s.url + "/v1/chat/completions", chat("which animal?"))[1]
        status, body = post(
            s.url + "/v1/chat/completions",
            chat("which animal?", documents=[{"id": "doc-7", "text": "the fox is red."}, "the owl is blue."]),
        )
        assert status == 200, body
        assert body["documents"] == [{"index": 1, "id": "doc-7"}, {"index": 2, "id": None}]
        assert body["usage"]["prompt_tokens"] > plain["usage"]["prompt_tokens"]
        status, emb = post(s.url + "/v1/embeddings", {"input": "the fox is red."})
        assert status == 200 and len(emb["data"]) == 1
    finally:
        # SIGTERM is a graceful stop; uvicorn then ends by the same signal, as the shell convention wants.
        assert s.stop() == -signal.SIGTERM


def test_a_missing_model_folder_exits_at_once_with_a_message_and_the_documented_code(tmp_path: Path) -> None:
    began = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_runtime", "serve", "--model", str(tmp_path / "nope"), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == EXIT_BAD_MODEL == 30
    assert f"model folder {tmp_path / 'nope'} does not exist" in proc.stderr
    assert time.monotonic() - began < 30


def test_a_corrupt_model_folder_exits_with_a_message_instead_of_hanging(
    tmp_path: Path, base_model: tuple[str, Run]
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(base_model[0], broken)
    weights = broken / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_runtime", "serve", "--model", str(broken), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == EXIT_BAD_MODEL
    assert f"cannot load the model in {broken}" in proc.stderr
    os.remove(broken / "config.json")
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_runtime", "serve", "--model", str(broken)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == EXIT_BAD_MODEL
    assert "has no config.json" in proc.stderr


def test_bad_arguments_exit_2_with_usage(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "llmops_runtime", "serve", "--model", str(tmp_path), "--max-input-tokens", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "--max-input-tokens: expected a positive integer, got 0" in proc.stderr


def test_accepted_connections_send_without_waiting_for_acks() -> None:
    """asyncio turns Nagle's algorithm off only on sockets whose protocol is TCP; the listening socket
    must say so, or every answer written in two pieces on a kept-alive connection waits ~40 ms."""
    import asyncio
    import socket

    from llmops_runtime.serving.main import _bind
    from llmops_runtime.serving.settings import parse_settings

    listener = _bind(parse_settings(["--model", "unused", "--host", "127.0.0.1", "--port", "0"]))
    client = socket.create_connection(listener.getsockname())
    conn, _ = listener.accept()

    async def transport_nodelay() -> int:
        transport, _ = await asyncio.get_running_loop().connect_accepted_socket(asyncio.Protocol, conn)
        try:
            return transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            transport.close()

    try:
        assert asyncio.run(transport_nodelay()) != 0
    finally:
        client.close()
        listener.close()
