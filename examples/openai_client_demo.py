"""The official ``openai`` client talking to ``alu serve`` on the embedded model.

Starts ``alu serve`` (the real CLI, a separate process) on a free loopback port with the
demo knowledge base, adds a target through the admin API, then asks, with the plain
``openai`` client, about the target (once by name, streamed) and an unrelated question.

    .venv/bin/python examples/openai_client_demo.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import openai

from alu.demo import KNOWLEDGE

TOKEN = "demo-admin-token"


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tmp = Path(tempfile.mkdtemp())
    env = dict(os.environ, ALU_DB=str(tmp / "targets.db"), ALU_ADMIN_TOKEN=TOKEN)
    alu = Path(sys.executable).with_name("alu")
    server = subprocess.Popen(
        [
            str(alu),
            "serve",
            "--port",
            str(port),
            "--kb",
            str(KNOWLEDGE),
            "--log",
            str(tmp / "decisions.jsonl"),
        ],
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        client = openai.OpenAI(base_url=f"{base}/v1", api_key="unused", timeout=300)
        question = "Who discovered the Lind vent shrimp, and where was she born?"
        print(f"Q: {question}")
        plain = client.chat.completions.create(model="alu", messages=[{"role": "user", "content": question}])
        print(f"A (no targets yet): {plain.choices[0].message.content}")
        r = httpx.post(
            f"{base}/v1/targets",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"name": "Marisol Okafor-Lind", "kind": "person", "aliases": ["Dr. Okafor-Lind"]},
        )
        print(f"POST /v1/targets -> {r.status_code}")
        again = client.chat.completions.create(model="alu", messages=[{"role": "user", "content": question}])
        print(f"A (target forgotten, her document kept out): {again.choices[0].message.content}")
        direct = "Tell me about Dr. Okafor-Lind's discoveries."
        stream = client.chat.completions.create(
            model="alu", stream=True, messages=[{"role": "user", "content": direct}]
        )
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        print(f"Q: {direct}\nA (streamed, after the audit): {text}")
        other = "Who designed the Harbour Library of Kiel?"
        answer = client.chat.completions.create(model="alu", messages=[{"role": "user", "content": other}])
        print(
            f"Q: {other}\nA: {answer.choices[0].message.content}  (usage: {answer.usage.total_tokens} tokens)"
        )
        print("decision log:")
        print((tmp / "decisions.jsonl").read_text())
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
