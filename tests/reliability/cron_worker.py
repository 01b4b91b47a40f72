"""Cron workers for the reliability suite, forked from a master that loaded the registry once, as
Odoo's prefork server forks its cron workers.

    python cron_worker.py -c odoo.conf -d DB

The master prints ``READY``, then reads commands from stdin, one JSON object a line:
``{"cron_id": 42, "pause_when": "SELECT ..."}``. For each it forks a worker (``STARTED <pid>``)
that does what Odoo's cron worker does for a ready job (``ir.cron._process_jobs``: acquire the job,
``_process_job`` it - batches committed one by one while the action notifies remaining work),
repeated until the job is no longer ready; the master waits for it and prints
``EXITED <pid> <status>`` (the exit code, or minus the signal that killed it). The worker exits 0
when the job ran to the end without failing, 1 otherwise.

``pause_when``: at the end of the first batch (``_notify_progress``, which the scheduler commits
next) where this query, run on a connection of its own, returns a true value - what the earlier
batches committed - or at the end of the last batch when it never does, the worker prints
``PAUSED <done> <remaining>`` and sleeps, to be killed there."""

import argparse
import json
import os
import sys
import threading
import time
import traceback


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    args = parser.parse_args(argv)

    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=info", "--logfile="])
    registry = Registry(args.database)
    # no connection shared with the forked workers
    odoo.sql_db.close_all()
    print("READY", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        command = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 2
            try:
                code = run_job(registry, command["cron_id"], command.get("pause_when"))
            except BaseException:  # noqa: BLE001 - the worker reports any failure by its exit code
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        print(f"STARTED {pid}", flush=True)
        _pid, status = os.waitpid(pid, 0)
        print(f"EXITED {pid} {os.waitstatus_to_exitcode(status)}", flush=True)
    return 0


def run_job(registry, cron_id, pause_when=None):
    import odoo

    from odoo.addons.base.models.ir_cron import ir_cron

    dbname = registry.db_name
    threading.current_thread().dbname = dbname
    db = odoo.sql_db.db_connect(dbname)
    if pause_when:
        pause_before_commit(ir_cron, db, pause_when)
    while True:
        with db.cursor() as cron_cr:
            job = ir_cron._acquire_one_job(cron_cr, cron_id)
            if not job:
                break
            registry["ir.cron"]._process_job(db, cron_cr, job)
    with db.cursor() as cr:
        cr.execute("SELECT failure_count FROM ir_cron WHERE id = %s", [cron_id])
        (failures,) = cr.fetchone()
    return 1 if failures else 0


def pause_before_commit(ir_cron, db, query):
    """Wrap ``_notify_progress`` (the end of a batch, which the scheduler commits next): print
    PAUSED and sleep until the process is killed, once ``query`` sees what earlier batches
    committed, or at the last batch."""
    original = ir_cron._notify_progress

    def _notify_progress(self, *, done, remaining, deactivate=False):
        result = original(self, done=done, remaining=remaining, deactivate=deactivate)
        with db.cursor() as cr:
            cr.execute(query)
            (committed,) = cr.fetchone()
        if committed or not remaining:
            self.env.flush_all()
            print(f"PAUSED {done} {remaining}", flush=True)
            while True:
                time.sleep(60)
        return result

    ir_cron._notify_progress = _notify_progress


if __name__ == "__main__":
    sys.exit(main())
