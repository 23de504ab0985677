#!/usr/bin/env python3
"""Instructions per proxied request, counted by callgrind: a figure that does not depend on
how loaded the machine is, unlike the wall-clock and CPU-time figures of `cargo bench`.

Each proxy runs under `valgrind --tool=callgrind` in front of a fake upstream (1 KB JSON
replies, keep-alive) and is driven with a fixed number of 1 KB chat-completions POSTs over
`--connections` keep-alive connections; it is run twice (`--requests` and twice that) and the
difference of the two totals, divided by the difference in requests, is what one request
costs, start-up and shutdown left out. llmscope's shutdown drains its store, so its writer's
work is counted.

    cargo bench --no-run --bench proxy
    python3 benches/instructions.py --llmscope target/release/llmscope \
        --bare target/release/deps/proxy-HASH [--requests 2000] [--connections 8]

`--bare` is the bench binary: it serves the bare forwarders (`benches/common/bare.rs`):
`bare-reqwest`, `bare-hyper` (hyper-util's pool) and `bare-conn` (each agent connection's own
upstream connection, hyper's `client::conn`).
nginx is measured when on PATH (/usr/sbin is searched too). `--annotate` keeps the callgrind
files of the larger run and prints each one's top inclusive costs per request; `--threads`
counts each thread apart and splits llmscope's figure into its store writer, its log thread
(`record`'s one line per exchange) and the rest (the forwarding tasks).
"""

import argparse
import asyncio
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PATH = "/v1/chat/completions"


def small_body():
    head = b'{"model":"gpt-4o","stream":false,"messages":[{"role":"system","content":"You are a coding agent."},{"role":"user","content":"'
    tail = b'"}],"max_tokens":1024}'
    words = b"please read src/main.rs and fix the failing test "
    filler = 1024 - len(head) - len(tail)
    return head + (words * 30)[:filler] + tail


def json_reply(size=1024):
    before = b'{"id":"chatcmpl-bench","object":"chat.completion","created":1700000000,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"'
    after = b'"},"finish_reason":"stop"}],"usage":{"prompt_tokens":250,"completion_tokens":200,"total_tokens":450}}'
    words = b"the agent reads files and edits code then runs tests "
    body = before + (words * 40)[: size - len(before) - len(after)] + after
    head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % len(body)
    return head + body


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def read_message(reader):
    """Reads one HTTP/1.1 message with a content-length body; returns its head."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return head


async def upstream_conn(reader, writer):
    reply = json_reply()
    try:
        while True:
            await read_message(reader)
            writer.write(reply)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def drive(port, requests, connections):
    body = small_body()
    request = (
        b"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: llmscope-bench\r\nAccept: */*\r\n"
        b"Authorization: Bearer sk-bench-0123456789abcdef\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (PATH.encode(), port, len(body))
    ) + body
    left = [requests]

    async def one():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while left[0] > 0:
            left[0] -= 1
            writer.write(request)
            head = await read_message(reader)
            if not head.startswith(b"HTTP/1.1 200"):
                raise SystemExit(f"not a 200: {head[:80]!r}")
        writer.close()

    await asyncio.gather(*(one() for _ in range(connections)))


def wait_listening(port, proc, limit=120):
    deadline = time.time() + limit
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"exited early with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on {port}")


def nginx_conf(d, port, upstream_port):
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{user}master_process off;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
        "events { worker_connections 4096; }\n"
        f"http {{\n access_log off;\n client_body_temp_path {d}/body;\n proxy_temp_path {d}/proxy;\n"
        f" fastcgi_temp_path {d}/fastcgi;\n uwsgi_temp_path {d}/uwsgi;\n scgi_temp_path {d}/scgi;\n"
        f" upstream fake {{ server 127.0.0.1:{upstream_port}; keepalive 128; keepalive_requests 1000000; }}\n"
        f" server {{\n  listen 127.0.0.1:{port};\n  client_max_body_size 64m;\n  keepalive_requests 1000000;\n"
        "  location / {\n   proxy_pass http://fake;\n   proxy_http_version 1.1;\n"
        '   proxy_set_header Connection "";\n   proxy_buffering off;\n   proxy_request_buffering off;\n  }\n }\n}\n'
    )


def command(name, args, d, port, upstream_port):
    upstream = f"http://127.0.0.1:{upstream_port}"
    if name == "llmscope":
        return [args.llmscope, "record", "--upstream", upstream, "--listen", f"127.0.0.1:{port}",
                "--data-dir", f"{d}/data"], signal.SIGINT
    if name.startswith("bare"):
        flag = {"bare-reqwest": "--serve-bare-forwarder", "bare-hyper": "--serve-bare-hyper-forwarder",
                "bare-conn": "--serve-bare-conn-forwarder"}[name]
        return [args.bare, flag, upstream, str(port)], signal.SIGTERM
    with open(f"{d}/nginx.conf", "w") as f:
        f.write(nginx_conf(d, port, upstream_port))
    return [args.nginx, "-p", d, "-c", f"{d}/nginx.conf", "-e", f"{d}/error.log"], signal.SIGQUIT


# Functions only the store writer's thread, or only the log's, runs (the writer's `run` is
# inlined in some builds, so what it calls is looked for too).
WRITER_MARKS = ("writer_thread::Writer::run", "Store>::record_events")
LOG_MARKS = ("exchange_log::print_exchanges",)


def file_ir(path):
    """A callgrind file's total, and whose thread it is: "writer", "log" or None."""
    total, whose = 0, None
    with open(path) as f:
        for line in f:
            if line.startswith("summary:") or line.startswith("totals:"):
                total = int(line.split()[1])
            elif whose is None and any(mark in line for mark in WRITER_MARKS):
                whose = "writer"
            elif whose is None and any(mark in line for mark in LOG_MARKS):
                whose = "log"
    return total, whose


def total_ir(out_files):
    """The process's total, and (with one file per thread) the store writer's and the log's."""
    total = writer = log = 0
    for path in out_files:
        ir, whose = file_ir(path)
        total += ir
        writer += ir if whose == "writer" else 0
        log += ir if whose == "log" else 0
    return total, writer, log


async def measure_once(name, args, requests, keep):
    d = tempfile.mkdtemp(prefix=f"llmscope-ir-{name}-")
    server = await asyncio.start_server(upstream_conn, "127.0.0.1", 0)
    upstream_port = server.sockets[0].getsockname()[1]
    port = free_port()
    argv, stop = command(name, args, d, port, upstream_port)
    cg = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={d}/cg.%p", "--trace-children=no"]
    if args.threads:
        cg.append("--separate-threads=yes")
    proc = subprocess.Popen(cg + argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=open(f"{d}/stderr.log", "w"))
    await asyncio.get_running_loop().run_in_executor(None, wait_listening, port, proc)
    await drive(port, requests, args.connections)
    proc.send_signal(stop)
    await asyncio.get_running_loop().run_in_executor(None, proc.wait)
    server.close()
    files = glob.glob(f"{d}/cg.*")
    if not files:
        raise SystemExit(f"{name}: no callgrind output; see {d}/stderr.log")
    ir = total_ir(files)
    if not keep:
        shutil.rmtree(d, ignore_errors=True)
    return ir, files


def annotate(files, per, top):
    for path in files:
        out = subprocess.run(["callgrind_annotate", "--inclusive=yes", f"--threshold=99", path],
                             capture_output=True, text=True).stdout
        rows = [l for l in out.splitlines() if l.strip()[:1].isdigit()][:top]
        for row in rows:
            count, _, rest = row.strip().partition(" ")
            n = int(count.replace(",", ""))
            print(f"    {n / per:>10.0f}  {rest.strip()[:150]}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--llmscope")
    p.add_argument("--bare", help="the proxy bench binary (serves the bare forwarders)")
    p.add_argument("--nginx", default=shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin"))
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--only", default="", help="comma-separated: llmscope,bare-reqwest,bare-hyper,bare-conn,nginx")
    p.add_argument("--annotate", type=int, default=0, metavar="TOP")
    p.add_argument("--threads", action="store_true", help="one callgrind file per thread (with --annotate)")
    args = p.parse_args()
    names = [n for n in ["llmscope", "bare-reqwest", "bare-hyper", "bare-conn", "nginx"]
             if (not args.only or n in args.only.split(","))
             and (args.llmscope if n == "llmscope" else args.bare if n.startswith("bare") else args.nginx)]
    results = {}
    for name in names:
        (small, small_w, small_l), _ = asyncio.run(measure_once(name, args, args.requests, False))
        (big, big_w, big_l), files = asyncio.run(
            measure_once(name, args, 2 * args.requests, args.annotate > 0))
        per = (big - small) / args.requests
        results[name] = per
        split = ""
        if args.threads and name == "llmscope":
            writer = (big_w - small_w) / args.requests
            log = (big_l - small_l) / args.requests
            split = (f" (store writer thread {writer:,.0f}, log thread {log:,.0f},"
                     f" the rest {per - writer - log:,.0f})")
        print(f"{name}: {per:,.0f} instructions per request{split}", flush=True)
        if args.annotate:
            annotate(files, 2 * args.requests, args.annotate)
    base = results.get("nginx")
    if base:
        print("| proxy | instructions per request | / nginx |\n|---|---|---|")
        for name, per in results.items():
            print(f"| {name} | {per:,.0f} | {per / base:.2f} |")


if __name__ == "__main__":
    sys.exit(main())
