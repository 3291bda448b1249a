"""The live path measured from outside, as gateways use it: a real `vakhsh run` process,
real TCP, figures read from its own /metrics and /v1/latency.

    python3 benches/live.py gateway target/release/vakhsh config/default.toml [RUNS]
    python3 benches/live.py flood   target/release/vakhsh config/default.toml [RUNS]

`gateway` keeps one connection open and sends 10 lines a second for 20 s: how many lines
were taken while it stayed open, and the ingest → decision latency of the decisions they
made due. `flood` sends from 3 connections as fast as they can for 10 s: events accepted
per second, the daemon's CPU time per event, and resident memory. Each run prints one JSON line. The machine is shared, so
compare medians of several runs, alternating the two builds being compared. Loopback
only; the daemon's outputs go to a temporary directory.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone


def now():
    t = datetime.now(timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def start(binary, config, out):
    env = dict(
        os.environ,
        RUST_LOG="vakhsh=info",
        VAKHSH__SIMULATOR__ENABLED="false",
        VAKHSH__TCP__ADDRESS="127.0.0.1:0",
        VAKHSH__HTTP__ADDRESS="127.0.0.1:0",
        VAKHSH__LOG__DIR=f"{out}/log",
        VAKHSH__LOG__SYNC="100ms",
        VAKHSH__OUTPUT__DECISIONS=f"{out}/decisions.jsonl",
        VAKHSH__OUTPUT__DEAD_LETTER=f"{out}/dead-letter.jsonl",
    )
    daemon = subprocess.Popen(
        [binary, "run", "--config", config], env=env, stderr=subprocess.PIPE, text=True
    )
    tcp = http = None
    while tcp is None or http is None:
        line = daemon.stderr.readline()
        if not line:
            raise SystemExit(f"{binary} exited before listening")
        if "address=" in line:
            host, port = line.split("address=")[1].split()[0].rsplit(":", 1)
            if "listening for JSON-line" in line:
                tcp = (host, int(port))
            elif "serving /metrics" in line:
                http = f"{host}:{port}"
    threading.Thread(target=lambda: [None for _ in daemon.stderr], daemon=True).start()
    return daemon, tcp, http


def metric(http, name):
    text = urllib.request.urlopen(f"http://{http}/metrics").read().decode()
    samples = (l.rsplit(" ", 1) for l in text.splitlines() if not l.startswith("#"))
    return sum(float(v) for series, v in samples if series.split("{")[0] == name)


def demand(ts, load, mw, source, seq):
    return (
        f'{{"type":"demand","ts":"{ts}","load":"{load}","mw":{mw},'
        f'"source":"{source}","seq":{seq}}}\n'
    )


def gateway(http, tcp, seconds=20, rate=10):
    connection = socket.create_connection(tcp)
    began, sent = time.time(), 0
    while time.time() - began < seconds:
        sent += 1
        connection.sendall(demand(now(), "talco", 200 + sent, "gw", sent).encode())
        time.sleep(1 / rate)
    time.sleep(0.5)
    taken = metric(http, "vakhsh_events_accepted_total")
    latency = json.loads(urllib.request.urlopen(f"http://{http}/v1/latency").read())
    total = latency["stages"]["ingest_to_decision"]["since_start"]
    ms = lambda us: us and us / 1000
    connection.close()
    return dict(
        sent=sent,
        taken_while_open=taken,
        decisions=metric(http, "vakhsh_decisions_total"),
        ingest_to_decision_p50_ms=ms(total["p50_us"]),
        ingest_to_decision_p99_ms=ms(total["p99_us"]),
    )


def flood(http, tcp, seconds=10, connections=3):
    stop = time.time() + seconds

    def send(k):
        connection, seq = socket.create_connection(tcp), 0
        while time.time() < stop:
            ts, lines = now(), []
            for _ in range(200):
                seq += 1
                lines.append(demand(ts, "talco", 100 + seq % 50, f"flood-{k}", seq))
            connection.sendall("".join(lines).encode())
        connection.close()

    senders = [threading.Thread(target=send, args=(k,)) for k in range(connections)]
    began = time.time()
    for s in senders:
        s.start()
    for s in senders:
        s.join()
    accepted = metric(http, "vakhsh_events_accepted_total")
    cpu = metric(http, "process_cpu_seconds_total")
    return dict(
        accepted=accepted,
        accepted_per_s=round(accepted / (time.time() - began)),
        # The daemon's own CPU per event: unlike the rate, not shared with the senders.
        cpu_us_per_event=round(cpu * 1e6 / max(accepted, 1), 3),
        resident_mb=round(metric(http, "process_resident_memory_bytes") / 1e6, 1),
    )


if __name__ == "__main__":
    kind, binary, config = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    measure = {"gateway": gateway, "flood": flood}[kind]
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            daemon, tcp, http = start(binary, config, out)
            try:
                print(kind, binary, json.dumps(measure(http, tcp)), flush=True)
            finally:
                daemon.terminate()
                daemon.wait()
