#!/usr/bin/env python3
"""The agent daemon's benchmark (issue 9), each figure beside a baseline measured in the same run.

  python3 Benchmarks/daemon-benchmark.py [--binary .build/release/loyalty-agent] [--idle-seconds 60] [--awards 2000]
                                         [--keep-code-pages]

- the binary's size, and stripped as the Debian package installs it;

- start to ready: spawn -> sd_notify READY=1 on our $NOTIFY_SOCKET (baseline: `loyalty-agent --help`,
  the same binary starting and exiting);
- idle: context switches per second of every thread of `run --no-scanners` with no head office, and
  with a head office that is down (the sync interval's backoff), over --idle-seconds (baseline: `sleep`);
- resident memory after the idle period (baseline: `loyalty-agent scan`, the CLI blocked in poll);
  `--keep-code-pages` runs the daemons with LOYALTY_AGENT_CODE_PAGES=keep (no CodePageAdvice), to see
  what letting go of the code pages buys;
- API award round trip on loopback, p50/p99 over --awards sales with keep-alive (baseline: the same
  awards in-process, `award-loop --timings`), interleaved in chunks so both see the same disk; paced
  one sale per millisecond on both sides (a till between customers), and back to back.
"""
import argparse, glob, http.client, json, os, socket, statistics, subprocess, sys, tempfile, time


def threads_switches(pid):
    """Context switches so far of each thread of `pid`, by thread id."""
    counts = {}
    for status in glob.glob(f"/proc/{pid}/task/*/status"):
        try:
            total = 0
            for line in open(status):
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    total += int(line.split()[1])
            counts[status.split("/")[4]] = total
        except (FileNotFoundError, ProcessLookupError):
            pass
    return counts


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def anonymous_kib(pid):
    """Private memory (heap, stacks): what the process holds beyond file pages the kernel can drop."""
    for line in open(f"/proc/{pid}/smaps_rollup"):
        if line.startswith("Pss_Anon"):
            return int(line.split()[1])
    return 0


def start_daemon(binary, work, name, extra=(), notify=None):
    env = dict(os.environ)
    env.pop("LOYALTY_HQ_URL", None)
    env.pop("JOURNAL_STREAM", None)
    if notify:
        env["NOTIFY_SOCKET"] = notify
    args = [binary, "run", "--no-scanners", "--listen", "127.0.0.1:0", "--db", f"{work}/{name}.db", *extra]
    out = open(f"{work}/{name}.out", "w+")
    process = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL, env=env)
    for _ in range(400):
        out.seek(0)
        text = out.read()
        if "ready on http://" in text:
            return process, text.split("ready on ")[1].split()[0]
        time.sleep(0.025)
    raise SystemExit(f"{name}: the daemon did not start")


def start_to_ready(binary, work, runs=5):
    figures, baseline = [], []
    for run in range(runs):
        path = f"{work}/notify-{run}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(10)
        begin = time.monotonic()
        process, _ = None, None
        env = dict(os.environ, NOTIFY_SOCKET=path)
        env.pop("LOYALTY_HQ_URL", None)
        process = subprocess.Popen(
            [binary, "run", "--no-scanners", "--listen", "127.0.0.1:0", "--db", f"{work}/ready-{run}.db"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        while True:
            message = sock.recv(4096).decode()
            if "READY=1" in message:
                figures.append((time.monotonic() - begin) * 1000)
                break
        process.terminate(); process.wait(); sock.close()
        begin = time.monotonic()
        subprocess.run([binary, "--help"], stdout=subprocess.DEVNULL, check=True)
        baseline.append((time.monotonic() - begin) * 1000)
    return figures, baseline


def idle(binary, work, seconds, hq_binary):
    quiet, _ = start_daemon(binary, work, "idle")
    processes = {"run (no head office)": quiet}
    hq = None
    if os.path.exists(hq_binary):
        # Head office up: the loop syncs every 30 s (the allowed wake-ups), after a few sales.
        secret = subprocess.run([hq_binary, "stores", "add", "S2", "--db", f"{work}/hq.db"], capture_output=True,
                                text=True, check=True).stdout.strip().split("\n")[-1]
        open(f"{work}/secret-up", "w").write(secret)
        os.chmod(f"{work}/secret-up", 0o600)
        hq_out = open(f"{work}/hq.out", "w+")
        hq = subprocess.Popen([hq_binary, "serve", "--port", "0", "--db", f"{work}/hq.db"], stdout=hq_out,
                              stderr=subprocess.STDOUT)
        for _ in range(200):
            hq_out.seek(0)
            if "listening on" in hq_out.read():
                break
            time.sleep(0.05)
        hq_out.seek(0)
        hq_url = hq_out.read().split("listening on ")[1].split()[0]
        subprocess.run([binary, "init", "--store-id", "S2", "--db", f"{work}/idle-hq-up.db"], stdout=subprocess.DEVNULL,
                       check=True)
        up, up_url = start_daemon(binary, work, "idle-hq-up", ["--hq-url", hq_url, "--store-secret-file",
                                                                f"{work}/secret-up", "--interval", "30"])
        host, port = up_url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port))
        for index in range(3):
            connection.request("POST", "/v1/sales", json.dumps({"card": "2900000777774", "receipt": f"UP-{index}",
                                                                 "amount": "1.00"}), pos_headers(work))
            connection.getresponse().read()
        processes["run (head office up, interval 30 s)"] = up
    # Head office down: the loop tries, backs off (1 s, 2 s, ... with jitter, capped at 300 s) and tries again.
    open(f"{work}/secret", "w").write("x" * 32)
    os.chmod(f"{work}/secret", 0o600)
    subprocess.run([binary, "init", "--store-id", "S1", "--db", f"{work}/idle-hq-down.db"], stdout=subprocess.DEVNULL, check=True)
    down, _ = start_daemon(binary, work, "idle-hq-down", ["--hq-url", "http://127.0.0.1:9", "--store-secret-file",
                                                          f"{work}/secret", "--interval", "30"])
    scan = subprocess.Popen([binary, "scan", "--timeout", str(seconds + 30), "--db", f"{work}/idle.db"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sleeper = subprocess.Popen(["sleep", str(seconds + 30)])
    time.sleep(3)  # past start-up
    processes.update({"run (head office down, interval 30 s)": down, "baseline: scan CLI": scan,
                      "baseline: sleep": sleeper})
    # Sampled every second (reading /proc does not wake the process): a thread that ends between
    # two samples keeps the count it had, one that starts counts from zero.
    first = {name: threads_switches(p.pid) for name, p in processes.items()}
    last = {name: dict(counts) for name, counts in first.items()}
    for _ in range(seconds):
        time.sleep(1)
        for name, p in processes.items():
            last[name].update(threads_switches(p.pid))
    result = {}
    for name, p in processes.items():
        switches = sum(count - first[name].get(tid, 0) for tid, count in last[name].items())
        result[name] = (switches / seconds, rss_kib(p.pid) / 1024, anonymous_kib(p.pid) / 1024)
    for p in processes.values():
        p.terminate(); p.wait()
    if hq:
        hq.terminate(); hq.wait()
    return result


def pos_headers(work):
    """The POS client's headers: a JSON body and the till's API token (the file beside the ledgers)."""
    token = open(f"{work}/api-token").read().strip()
    return {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}


def api_vs_in_process(binary, work, awards, pause_us, chunks=5):
    """Both sides award one sale at a time with `pause_us` between sales (a till between customers);
    0: back to back."""
    card = "2900000777774"
    daemon, url = start_daemon(binary, work, f"api-{pause_us}")
    subprocess.run([binary, "enroll", card, "--db", f"{work}/api-{pause_us}.db"], stdout=subprocess.DEVNULL, check=True)
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port))
    api, local = [], []
    per_chunk = awards // chunks
    for chunk in range(chunks):
        for index in range(per_chunk):
            body = json.dumps({"card": card, "receipt": f"API-{chunk}-{index}", "amount": "1.00"})
            begin = time.perf_counter()
            connection.request("POST", "/v1/sales", body, pos_headers(work))
            response = connection.getresponse(); response.read()
            api.append((time.perf_counter() - begin) * 1e6)
            assert response.status == 200, response.status
            if pause_us:
                time.sleep(pause_us / 1e6)
        lines = subprocess.run(
            [binary, "award-loop", card, "--prefix", f"LOCAL-{pause_us}-{chunk}", "--count", str(per_chunk), "--timings",
             "--pause-microseconds", str(pause_us),
             "--db", f"{work}/local-{pause_us}.db"], capture_output=True, text=True, check=True).stdout.split()
        local += [int(value) for value in lines[1::2]]
    daemon.terminate(); daemon.wait()
    return api, local


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/loyalty-agent")
    parser.add_argument("--hq-binary", default=".build/release/loyalty-hq")
    parser.add_argument("--idle-seconds", type=int, default=60)
    parser.add_argument("--awards", type=int, default=2000, help="0: skip the API award comparison")
    parser.add_argument("--keep-code-pages", action="store_true")
    options = parser.parse_args()
    binary = os.path.abspath(options.binary)
    if options.keep_code_pages:
        os.environ["LOYALTY_AGENT_CODE_PAGES"] = "keep"
    with tempfile.TemporaryDirectory() as work:
        stripped = f"{work}/stripped"
        subprocess.run(["strip", "-o", stripped, binary], check=True)
        print(f"binary: {os.path.getsize(binary) / 2**20:.1f} MiB, stripped {os.path.getsize(stripped) / 2**20:.1f} MiB"
              f"   code pages: {'kept' if options.keep_code_pages else 'released (CodePageAdvice)'}")
        ready, help_ms = start_to_ready(binary, work)
        print(f"start to ready (ms, 5 runs): {min(ready):.1f}-{max(ready):.1f} median {statistics.median(ready):.1f}"
              f"   baseline --help start+exit: {min(help_ms):.1f}-{max(help_ms):.1f}   goal <= 100")
        for name, (switches, rss, anonymous) in idle(binary, work, options.idle_seconds, os.path.abspath(options.hq_binary)).items():
            print(f"idle {options.idle_seconds} s, {name}: {switches:.2f} context switches/s, RSS {rss:.1f} MiB "
                  f"(private {anonymous:.1f} MiB)   goal 0 and <= 20")
        for pause in ((1000, 0) if options.awards else ()):
            api, local = api_vs_in_process(binary, work, options.awards, pause)
            label = f"one sale every {pause} µs + its time" if pause else "back to back"
            print(f"award (µs), {len(api)} each, {label}: API p50 {percentile(api, 50):.0f} p99 {percentile(api, 99):.0f}   "
                  f"in-process p50 {percentile(local, 50):.0f} p99 {percentile(local, 99):.0f}   "
                  f"p99 ratio {percentile(api, 99) / percentile(local, 99):.2f} (goal <= 2)")


if __name__ == "__main__":
    main()
