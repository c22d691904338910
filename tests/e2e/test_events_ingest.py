"""End-to-end: `events ingest` holds no writer back while its input trickles in, and a
line longer than the cap is reported and skipped without being buffered."""
import os
import resource
import subprocess
import threading
import time

from tests.e2e.harness import BIN, E2E


class EventsIngest(E2E):
    org_args = dict(people=30, seed=7, platforms=("slack",))

    def event(self, i):
        return ('{"ts":"2026-11-24T10:00:%02dZ","from":"slack:U%d","to":"slack:U%d"}\n'
                % (i, i, i + 1))

    def start_ingest(self):
        env = dict(os.environ, PEOPLESYNC_NO_TTY="1")
        return subprocess.Popen([BIN, "-c", self.cfg, "events", "ingest", "-"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)

    def test_slow_pipe_holds_no_writer_back(self):
        self.assertRc(self.ps("reconcile", "--no-prompts"), 0)
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        p = self.start_ingest()

        def trickle():
            for i in range(5):
                p.stdin.write(self.event(i))
                p.stdin.flush()
                time.sleep(1)
            p.stdin.close()
        feeder = threading.Thread(target=trickle)
        feeder.start()
        try:
            time.sleep(1.5)
            for args in (("auto-prompt", "on"), ("reconcile", "--no-prompts")):
                t0 = time.monotonic()
                r = self.ps(*args)
                took = time.monotonic() - t0
                self.assertRc(r, 0)
                self.assertLess(took, 3.0, f"{args} waited {took:.1f} s for the ingest")
        finally:
            feeder.join()
            out, err = p.stdout.read(), p.stderr.read()
            p.wait(timeout=30)
            p.stdout.close()
            p.stderr.close()
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("5 events read", out)

    def test_long_line_is_capped(self):
        self.assertRc(self.ps("auto-prompt", "on"), 0)
        path = os.path.join(self.dir, "big.jsonl")
        with open(path, "w") as f:
            f.write(self.event(1))
            f.write('{"ts":"' + "x" * (8 << 20) + '"}\n')
            f.write(self.event(2))
        small = os.path.join(self.dir, "small.jsonl")
        with open(small, "w") as f:
            f.write(self.event(1))
        self.assertRc(self.ps("events", "ingest", small), 0)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        r = self.ps("events", "ingest", path)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.assertRc(r, 65)
        self.assertIn("big.jsonl:2: line longer than 65536 bytes", r.err)
        self.assertIn("2 events read", r.out)
        self.assertIn("1 bad lines", r.out)
        # ru_maxrss is the largest child so far (KiB), here the same command on one line:
        # the 8 MB line was never held
        self.assertLess(peak - before, 4 << 10, "the long line was buffered")
