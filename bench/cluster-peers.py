#!/usr/bin/python3
"""Benchmark a peer cluster tool (ipyparallel or dask.distributed) on this machine.

Usage: /usr/bin/python3 bench/cluster-peers.py ipyparallel|dask [--tasks N]

It starts its own cluster on 127.0.0.1 with exactly 2 engines (ipyparallel) or
2 single-threaded worker processes (dask), warms up with 200 no-op tasks, then
measures, through the load-balanced interface unless noted:
  - tasks_per_s: N no-op tasks (one task per item) mapped at once, N / wall time
    from submission to the last result;
  - rtt_ms_median / rtt_ms_p99: 1000 sequential single no-op round trips;
  - mb_per_s: a 100 MB float64 array sent to one engine/worker and back
    (ipyparallel: direct view of engine 0; dask: scatter(direct) + submit,
    scatter included), median of 3, as 100 / seconds; cached copies are
    released between runs, outside the timing;
  - kill_to_result_s: a 0.5 s task writes its pid to a file, and that
    engine/worker process is SIGKILLed; seconds from the kill until the task's
    result arrives from a re-run on the surviving engine (ipyparallel with
    retries=1; dask re-runs by itself). kill_overhead_s = that minus 0.5 s.
    If no result comes within 60 s, both are null and kill_error says why.
It prints exactly one JSON line on stdout; logs go to stderr. A watchdog kills
the cluster processes this script started and exits with code 3 after 240 s.
"""
import argparse, json, logging, os, shutil, signal, statistics, sys, tempfile, threading, time

import numpy as np
import psutil

WATCHDOG_S, WARMUP, RTT_CALLS, KILL_WAIT_S, SLEEP_S = 240, 200, 1000, 60, 0.5
log = logging.getLogger("cluster-peers")


# Task functions. Imports are inside: ipyparallel ships the code, not __main__'s globals.
def noop(x):
    return x


def identity(a):  # a separate name from noop only for readability in the 100 MB test
    return a


def sleeper(marker):
    """Publish our pid atomically in `marker` (so the client knows which process runs us), then sleep."""
    import os, time
    tmp = "%s.%d" % (marker, os.getpid())
    with open(tmp, "w") as f:
        f.write(str(os.getpid()))
    os.replace(tmp, marker)
    time.sleep(0.5)
    return "slept"


class IpyparallelPeer:
    def __init__(self, workdir):
        import ipyparallel
        self.version = ipyparallel.__version__
        self.cluster = ipyparallel.Cluster(
            n=2, controller_ip="127.0.0.1", profile_dir=os.path.join(workdir, "profile"),
            load_profile=False, log_level=logging.WARNING)
        self.rc = None

    def start(self):
        self.rc = self.cluster.start_and_connect_sync()  # waits (60 s at most) for the 2 engines
        self.lview = self.rc.load_balanced_view()
        return len(self.rc.ids)

    def map_noop(self, n):
        return self.lview.map_async(noop, range(n), chunksize=1).get()

    def rtt_once(self, i):
        return self.lview.apply_sync(noop, i)

    def roundtrip(self, arr):
        return self.rc[self.rc.ids[0]].apply_sync(identity, arr)

    def release(self):
        # The client and the Hub's task DB keep every request/result buffer (up to 1 GB);
        # holding several 100 MB copies made later round trips slower and erratic. Dask
        # frees them when the futures are dropped; this is ipyparallel's equivalent.
        self.rc.purge_everything()

    def pids(self):  # {engine id: OS pid}
        return dict(zip(self.rc.ids, self.rc[:].apply_sync(os.getpid)))

    def submit_sleeper(self, marker):  # returns a function(timeout) that waits for the result
        # retries=1: the task is resubmitted to another engine if its engine dies
        with self.lview.temp_flags(retries=1):
            return self.lview.apply_async(sleeper, marker).get

    def stop(self):
        if self.rc is not None:
            self.rc.close()
        self.cluster.stop_cluster_sync()


class DaskPeer:
    def __init__(self, workdir):
        import distributed
        self.version = distributed.__version__
        self.workdir, self.cluster, self.client = workdir, None, None

    def start(self):
        from distributed import Client, LocalCluster
        self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                    host="127.0.0.1", dashboard_address=None,
                                    local_directory=self.workdir, silence_logs=logging.WARNING)
        self.client = Client(self.cluster)
        self.client.wait_for_workers(2, timeout=60)
        return len(self.client.scheduler_info()["workers"])

    def map_noop(self, n):
        return self.client.gather(self.client.map(noop, range(n), pure=False))

    def rtt_once(self, i):
        return self.client.submit(noop, i, pure=False).result()

    def release(self):  # nothing to do: dropping the futures freed the workers' copies
        return

    def roundtrip(self, arr):
        # The array goes straight to a worker (not inside the graph, which is dask's
        # documented anti-pattern). hash=False: no tokenizing of 100 MB and a fresh key
        # each run, so a re-scatter never races the release of the previous run's key.
        f = self.client.scatter(arr, direct=True, hash=False)
        return self.client.submit(identity, f, pure=False).result()

    def pids(self):  # {worker address: OS pid}
        return self.client.run(os.getpid)

    def submit_sleeper(self, marker):  # re-run on worker loss is automatic
        return self.client.submit(sleeper, marker, pure=False).result

    def stop(self):
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def measure_kill(peer, workdir):
    """Return (kill_to_result_s, error string or None)."""
    pids = peer.pids()
    log.info("engine/worker pids: %s", pids)
    marker = os.path.join(workdir, "sleeper.pid")
    wait_result = peer.submit_sleeper(marker)
    deadline = time.monotonic() + 30
    while not os.path.exists(marker):  # wait until the task is running
        if time.monotonic() > deadline:
            return None, "sleep task did not start within 30 s"
        time.sleep(0.002)
    pid = int(open(marker).read())
    victim = [k for k, p in pids.items() if p == pid]
    if not victim:  # never kill a process that is not one of our engines/workers
        raise RuntimeError("task ran in pid %d, not one of the engine pids %s" % (pid, pids))
    log.info("killing %s (pid %d) while it runs the %.1f s task", victim[0], pid, SLEEP_S)
    t0 = time.perf_counter()
    os.kill(pid, signal.SIGKILL)
    try:
        value = wait_result(timeout=KILL_WAIT_S)
    except Exception as e:  # includes a timeout: report null, not a failure of the whole run
        return None, "%s: %s" % (type(e).__name__, str(e)[:300])
    dt = time.perf_counter() - t0
    return (dt, None) if value == "slept" else (None, "unexpected result %r" % (value,))


STARTED = {}  # pid -> psutil.Process: every process this script's cluster started


def note_children():
    """Remember our descendants: some (ipyparallel's nanny) get re-parented to init later."""
    for p in psutil.Process().children(recursive=True):
        STARTED.setdefault(p.pid, p)


def kill_leftovers(grace):
    """Kill processes we started that are still alive after `grace` s. psutil checks the
    creation time before killing, so a recycled pid is never hit."""
    note_children()
    procs = []
    for p in STARTED.values():  # multiprocessing's resource tracker exits by itself with us
        try:
            procs += [] if "resource_tracker" in " ".join(p.cmdline()) else [p]
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            log.warning("killing leftover child pid %d: %s", p.pid, " ".join(p.cmdline())[:120])
            p.kill()
        except psutil.Error:
            pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("peer", choices=["ipyparallel", "dask"])
    ap.add_argument("--tasks", type=int, default=10000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Keep the real stdout for the final JSON line; everything else (our prints, the
    # peers' output, child processes inheriting fd 1) goes to stderr.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    workdir = tempfile.mkdtemp(prefix="cluster-peers-")

    def watchdog():
        log.error("watchdog: %d s exceeded, killing our child processes", WATCHDOG_S)
        kill_leftovers(0)
        shutil.rmtree(workdir, ignore_errors=True)
        os._exit(3)
    timer = threading.Timer(WATCHDOG_S, watchdog)
    timer.daemon = True
    timer.start()

    os.environ["IPYTHONDIR"] = os.path.join(workdir, "ipython")  # keep ~/.ipython untouched
    peer = (IpyparallelPeer if args.peer == "ipyparallel" else DaskPeer)(workdir)
    res = {"peer": args.peer, "version": peer.version, "engines": 2, "tasks": args.tasks}
    log.info("load average at start: %s", " ".join(open("/proc/loadavg").read().split()[:3]))
    try:
        t = time.perf_counter()
        engines = peer.start()
        if engines != 2:
            raise RuntimeError("expected 2 engines/workers, got %d" % engines)
        log.info("cluster up in %.2f s", time.perf_counter() - t)
        note_children()

        if peer.map_noop(WARMUP) != list(range(WARMUP)):
            raise RuntimeError("warm-up returned wrong results")

        t = time.perf_counter()
        got = peer.map_noop(args.tasks)
        dt = time.perf_counter() - t
        if got != list(range(args.tasks)):
            raise RuntimeError("map returned wrong results")
        res["tasks_per_s"] = round(args.tasks / dt, 1)
        log.info("%d no-op tasks in %.2f s", args.tasks, dt)

        rtts = []
        for i in range(RTT_CALLS):
            t = time.perf_counter()
            if peer.rtt_once(i) != i:
                raise RuntimeError("round trip returned a wrong result")
            rtts.append((time.perf_counter() - t) * 1e3)
        rtts.sort()
        res["rtt_ms_median"] = round(statistics.median(rtts), 3)
        res["rtt_ms_p99"] = round(rtts[int(0.99 * len(rtts)) - 1], 3)  # 990th of 1000
        log.info("rtt median %.3f ms, p99 %.3f ms", res["rtt_ms_median"], res["rtt_ms_p99"])

        arr = np.random.default_rng(0).random(12_500_000)  # 100 MB float64
        want = float(arr.sum())
        secs = []
        for _ in range(3):
            t = time.perf_counter()
            back = peer.roundtrip(arr)
            secs.append(time.perf_counter() - t)
            if back.shape != arr.shape or float(back.sum()) != want or not np.array_equal(back, arr):
                raise RuntimeError("100 MB round trip returned a different array")
            del back
            peer.release()  # outside the timing
        res["mb_per_s"] = round(100 / statistics.median(secs), 1)
        log.info("100 MB round trips: %s s", ["%.3f" % s for s in secs])

        note_children()
        kill_s, err = measure_kill(peer, workdir)
        res["kill_to_result_s"] = None if kill_s is None else round(kill_s, 3)
        res["kill_overhead_s"] = None if kill_s is None else round(kill_s - SLEEP_S, 3)
        if err:
            res["kill_error"] = err
            log.error("kill test: %s", err)
        else:
            log.info("kill to result: %.3f s", kill_s)
    finally:
        try:
            peer.stop()
        except Exception:
            log.exception("error while stopping the cluster")
        kill_leftovers(5)
        shutil.rmtree(workdir, ignore_errors=True)
        timer.cancel()
    out.write(json.dumps(res) + "\n")
    out.flush()


if __name__ == "__main__":
    main()
