"""The reliability burst: duplicate Telegram deliveries against a prefork server (2 workers, no
cron), each message sent many times at once; requests per second and p50/p95 latency seen by the
senders, every message checked recorded exactly once and the server log checked for ERROR lines.

Called by ``bench/main.py`` (benchmark ``burst``), or alone on a database with the suite:
``python -m bench.burst -c odoo.conf -d DB``. The server and the senders come from the reliability
suite (``tests/reliability/``), loaded by path."""

import argparse
import importlib.util
import os
import secrets
import statistics
import tempfile
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# ROUNDS bursts of MESSAGES distinct messages, each sent COPIES times at once: 16 requests in flight,
# the listen backlog of a prefork server with 2 workers (Odoo listens with 8 x workers)
ROUNDS, MESSAGES, COPIES = 10, 2, 8


def _load(name):
    path = os.path.join(ROOT, "tests", "reliability", f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"crmai_reliability_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_burst(env, config_file, rounds=ROUNDS, messages=MESSAGES, copies=COPIES, workers=2, logdir=None):
    """Run the bursts on ``env``'s database (the fixture is committed on ``env.cr`` and removed
    afterwards); returns the figures."""
    processes, burst = _load("processes"), _load("burst")
    env = env(su=True)
    token = uuid.uuid4().hex[:10]
    secret = secrets.token_urlsafe(24)
    params = env["ir.config_parameter"]
    former = params.get_param("crm_single_truth.telegram_secret_token")
    params.set_param("crm_single_truth.telegram_secret_token", secret)
    username = f"bench{token}"
    customer = env["res.partner"].create({"name": f"Burst {token}", "is_company": True, "crm_telegram": username})
    # the exchange journal (crm_exchange_log) records every delivery: what the burst adds is removed
    journal = env["crm.exchange.log"] if "crm.exchange.log" in env else None
    last_entry = journal.search([], order="id desc", limit=1).id if journal is not None else 0
    env.cr.commit()
    logfile = os.path.join(logdir or tempfile.gettempdir(), f"burst-{env.cr.dbname}-{token}.log")
    server = processes.PreforkServer(config_file, env.cr.dbname, logfile, workers=workers)
    latencies, wall, failures, texts = [], 0.0, [], []
    try:
        try:
            server.start()
            # one warm-up request per worker (the first request of a worker fills its caches)
            warm = [burst.telegram_update(1 + n, 1 + n, 4242, username, f"warm {token} {n}") for n in range(workers)]
            burst.send_concurrently([burst.telegram_request(server, update, secret) for update in warm])
            texts += [f"warm {token} {n}" for n in range(workers)]
            since = server.log.mark()
            for r in range(rounds):
                batch = []
                for m in range(messages):
                    text = f"burst {token} {r}-{m}"
                    texts.append(text)
                    n = r * messages + m
                    update = burst.telegram_update(10_000 + n, 1000 + n, 4242, username, text)
                    batch += [burst.telegram_request(server, update, secret)] * copies
                answers, seconds = burst.send_concurrently(batch)
                wall += seconds
                latencies += [latency for _status, _content, latency in answers]
                failures += [(status, content) for status, content, _latency in answers if status != 200]
            errors = server.log.records(since=since)
        finally:
            server.stop()
        env.invalidate_all()
        received = env["crm.messenger.message"].search([("channel", "=", "telegram"), ("body", "in", texts)])
        counts = {text: 0 for text in texts}
        for message in received:
            counts[message.body] += 1
        posted = env["mail.message"].search_count(
            [("model", "=", "res.partner"), ("res_id", "=", customer.id), ("body", "like", f"burst {token}")]
        )
        figures = {
            "requests": len(latencies),
            "rounds": rounds,
            "messages": rounds * messages,
            "copies": copies,
            "workers": workers,
            "wall": wall,
            "rps": len(latencies) / wall if wall else None,
            "p50": statistics.median(latencies),
            "p95": burst.percentile(latencies, 0.95),
            "non_200": len(failures),
            "failures": failures[:5],
            "exactly_once": set(counts.values()) == {1} and posted == rounds * messages,
            "errors": errors,
            "log": logfile,
        }
    finally:
        env.invalidate_all()
        env["crm.messenger.message"].search([("body", "like", token)]).unlink()
        customer.unlink()
        if journal is not None:
            journal.search([("id", ">", last_entry)]).unlink()
        params.set_param("crm_single_truth.telegram_secret_token", former or False)
        env.cr.commit()
    return figures


def describe(figures):
    return (
        f"p95 {figures['p95'] * 1000:.0f} ms, {figures['rps']:.1f} requests/s over {figures['wall']:.1f} s; "
        f"{figures['messages']} messages recorded exactly once: {'yes' if figures['exactly_once'] else 'NO'}; "
        f"answers other than 200: {figures['non_200']}; ERROR lines in the server log: {len(figures['errors'])}"
    )


def burst_benchmark(bench, config_file, logdir=None):
    """The row of ``bench/run``: p50 latency of a duplicate delivery, the rest in the note."""
    figures = run_burst(bench.env, config_file, logdir=logdir)
    bench.info["burst"] = {key: value for key, value in figures.items() if key != "errors"} | {
        "errors": figures["errors"][:5]
    }
    ok = figures["exactly_once"] and not figures["errors"] and not figures["non_200"]
    return bench.add(
        "burst",
        f"reliability burst: {figures['requests']} duplicate Telegram deliveries ({figures['rounds']} bursts of "
        f"{figures['messages'] // figures['rounds']} messages x {figures['copies']} copies at once) against a "
        f"prefork server ({figures['workers']} workers), p50 latency",
        figures["p50"],
        target="each message once, every answer 200, no ERROR line",
        ok=ok,
        note=describe(figures),
        runs=1,
    )


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.burst", description=__doc__)
    parser.add_argument("-c", "--config", required=True, help="Odoo configuration file")
    parser.add_argument("-d", "--database", required=True, help="a database with crm_single_truth installed")
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    parser.add_argument("--messages", type=int, default=MESSAGES)
    parser.add_argument("--copies", type=int, default=COPIES)
    args = parser.parse_args(argv)
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "--log-level=warn"])
    start = time.perf_counter()
    with Registry(args.database).cursor() as cr:
        figures = run_burst(api.Environment(cr, SUPERUSER_ID, {}), args.config, args.rounds, args.messages, args.copies)
    print(f"p50 {figures['p50'] * 1000:.0f} ms; {describe(figures)} ({time.perf_counter() - start:.0f} s in all)")
    for failure in figures["failures"]:
        print("answer:", failure)
    for error in figures["errors"][:5]:
        print(error)
    return 0 if figures["exactly_once"] and not figures["errors"] and not figures["non_200"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
