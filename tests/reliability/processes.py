"""Real Odoo processes for the reliability suite: a prefork server and cron workers, each started as
a subprocess on a database, with its log captured to a file, stopped (or killed) afterwards.

Self-contained (no import from the ``tests`` package) so that ``bench/`` can load it by path."""

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import psycopg2

HERE = os.path.dirname(os.path.abspath(__file__))
CRON_WORKER = os.path.join(HERE, "cron_worker.py")
ODOO_BIN = os.path.join(HERE, "odoo_bin.py")
# a record of Odoo's log: "2025-01-31 10:00:00,123 4242 ERROR db odoo.sql_db: bad query ..."
LOG_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \d+ (?P<level>[A-Z]+) ")


class OdooLog:
    """The log file of one process; ``mark()`` then ``records(since=mark)`` reads what came after."""

    def __init__(self, path):
        self.path = path
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "wb").close()

    def mark(self):
        return os.path.getsize(self.path)

    def text(self, since=0):
        with open(self.path, "rb") as f:
            f.seek(since)
            return f.read().decode("utf-8", "replace")

    def records(self, levels=("ERROR", "CRITICAL"), since=0):
        """Records of these levels, each with the lines that follow it (its traceback)."""
        found, current = [], None
        for line in self.text(since).splitlines():
            match = LOG_RECORD.match(line)
            if match:
                current = [line] if match["level"] in levels else None
                if current is not None:
                    found.append(current)
            elif current is not None:
                current.append(line)
        return ["\n".join(lines) for lines in found]

    def tail(self, lines=40):
        return "\n".join(self.text().splitlines()[-lines:])


class OdooProcess:
    """An Odoo subprocess in a session of its own (the prefork master's children included, so that
    one signal to the group reaches them all), stdout and stderr in its log file."""

    def __init__(self, args, logfile):
        self.args = args
        self.log = OdooLog(logfile)
        self.proc = None

    def spawn(self, stdin=subprocess.DEVNULL, stdout=None):
        with open(self.log.path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args, stdin=stdin, stdout=stdout or log, stderr=log, start_new_session=True
            )
        return self.proc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=30):
        """SIGTERM (a graceful shutdown), then SIGKILL to the group after ``timeout`` seconds."""
        if self.proc is None:
            return
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group (workers, gevent)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)


def end_sessions(dsn, pids, timeout=15):
    """End the PostgreSQL sessions opened by these (dead) processes, and wait until they are gone:
    Odoo names each session ``odoo-<pid>``."""
    names = [f"odoo-{pid}" for pid in pids]
    if not names:
        return
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    try:
        cr = conn.cursor()
        deadline = time.monotonic() + timeout
        while True:
            cr.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ANY(%s)", [names]
            )
            if not cr.fetchall():
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"sessions of {names} still alive after {timeout} s")
            time.sleep(0.1)
    finally:
        conn.close()


def odoo_dsn(dbname):
    """Connection arguments of ``dbname`` as Odoo's own configuration has them."""
    from odoo.tools import config

    dsn = {"dbname": dbname}
    for key in ("host", "port", "user", "password"):
        value = config.get(f"db_{key}")
        if value:
            dsn[key] = value
    return dsn


class PreforkServer(OdooProcess):
    """``odoo --workers=N --max-cron-threads=0`` on a database, listening on a free port of 127.0.0.1
    (and its evented process on another one), log at ``info`` level in ``logfile``.

    ``with PreforkServer(...) as server: server.url("/crm/webhook/telegram")``"""

    def __init__(self, config, db, logfile, workers=2):
        args = [
            sys.executable,
            ODOO_BIN,
            "-c",
            config,
            "-d",
            db,
            f"--db-filter=^{re.escape(db)}$",
            f"--workers={workers}",
            "--max-cron-threads=0",
            "--http-interface=127.0.0.1",
            "--http-port=0",
            "--gevent-port=0",
            "--log-level=info",
            "--logfile=",  # to stderr, that is the log file
        ]
        super().__init__(args, logfile)
        self.db = db
        self.workers = workers
        self.port = None

    def start(self, timeout=120):
        self.spawn()
        deadline = time.monotonic() + timeout
        while self.port is None:
            self._check_running(deadline)
            self.port = self._listening_port()
            time.sleep(0.1)
        # the master preloads the registry before it forks its workers: a worker that answers the
        # health check serves the database
        while True:
            self._check_running(deadline)
            try:
                with urllib.request.urlopen(self.url("/web/health"), timeout=5) as response:
                    if response.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        while len(self.worker_pids()) < self.workers:
            self._check_running(deadline)
            time.sleep(0.1)
        return self

    def _check_running(self, deadline):
        if not self.alive():
            raise RuntimeError(f"the Odoo server exited ({self.proc.returncode}):\n{self.log.tail()}")
        if time.monotonic() > deadline:
            self.stop()
            raise TimeoutError(f"the Odoo server is not ready:\n{self.log.tail()}")

    def _listening_port(self):
        try:
            master = psutil.Process(self.proc.pid)
            connections = master.net_connections("tcp") if hasattr(master, "net_connections") else master.connections()
        except psutil.NoSuchProcess:
            return None
        ports = [c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN]
        return ports[0] if ports else None

    def worker_pids(self):
        """The HTTP workers: children of the master running Odoo's WorkerHTTP (not the gevent one)."""
        pids = []
        try:
            for child in psutil.Process(self.proc.pid).children():
                if "gevent" not in child.cmdline():
                    pids.append(child.pid)
        except psutil.Error:
            pass
        return pids

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class CronWorkers(OdooProcess):
    """Cron workers of ``db`` (``cron_worker.py``): a master that loads the registry once and forks,
    on demand, a worker running one scheduled action with Odoo's own scheduler code
    (``ir.cron._process_job``: batches committed one by one while the action notifies remaining
    work). ``run(cron_id, pause_when=<SQL>)`` stops the worker before the commit of the first batch
    after the query sees committed work (or of its last batch), for the test to kill it there."""

    def __init__(self, config, db, logfile):
        super().__init__([sys.executable, CRON_WORKER, "-c", config, "-d", db], logfile)
        self.buffer = b""
        self.lines = []  # lines of the master and its workers not expected yet

    def start(self, timeout=180):
        self.spawn(stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.expect("READY", timeout)
        return self

    def expect(self, word, timeout):
        """The first line of the master or its workers that starts with ``word`` (or one of them)."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if line.startswith(word):
                    self.lines.remove(line)
                    return line
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {word} from the cron workers in {timeout} s:\n{self.log.tail()}")
            ready, _w, _x = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    raise RuntimeError(f"the cron workers' master ended ({self.proc.wait()}):\n{self.log.tail()}")
                *complete, rest = (self.buffer + chunk).split(b"\n")
                self.buffer = rest
                self.lines += [line.decode(errors="replace") for line in complete]

    def run(self, cron_id, pause_when=None, timeout=300):
        """Fork a worker for the scheduled action ``cron_id``; with ``pause_when``, return once it
        paused ``(pid, "PAUSED <done> <remaining>")``, else its exit status when it ends."""
        self.proc.stdin.write((json.dumps({"cron_id": cron_id, "pause_when": pause_when}) + "\n").encode())
        self.proc.stdin.flush()
        pid = int(self.expect("STARTED", timeout).split()[1])
        if not pause_when:
            try:
                return self.exit_status(pid, timeout)
            except TimeoutError:
                self.kill_worker(pid)
                raise
        try:
            line = self.expect(("PAUSED", f"EXITED {pid} "), timeout)
        except TimeoutError:
            self.kill_worker(pid)
            raise
        if line.startswith("EXITED"):
            raise RuntimeError(f"the cron worker ended ({line}) without reporting a batch:\n{self.log.tail()}")
        return pid, line

    def exit_status(self, pid, timeout):
        return int(self.expect(f"EXITED {pid} ", timeout).split()[2])

    def kill_worker(self, pid, dsn=None):
        """SIGKILL the worker, as a crash would; with ``dsn``, end the PostgreSQL sessions it left
        behind (PostgreSQL notices a dead client only when it next talks to it)."""
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = self.exit_status(pid, 30)
        if dsn is not None:
            end_sessions(dsn, [pid])
        return status

    def stop(self, timeout=30):
        if self.proc is not None and self.alive():
            self.proc.stdin.close()  # the master ends when its input does
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        super().stop(timeout)
