"""CrmAI benchmarks: create the databases, generate the dataset, check it, run the benchmarks and
print the table. Run through ``bench/run`` (see bench/README.md)."""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE = [ROOT]
BASE_NOTES = []
CORE = ["crm_single_truth", "crm_receivables", "crm_segments"]
OPTIONAL = ["crm_installments", "crm_exchange_log"]
STOCK = ["l10n_kz", "sale_management"]


def log(msg, *args):
    print(("[bench] " + msg) % args, flush=True)


class pg_connect:
    """Autocommit connection as a context manager that closes it."""

    def __init__(self, dbname="postgres"):
        import psycopg2

        self.conn = psycopg2.connect(dbname=dbname)
        self.conn.autocommit = True

    def __enter__(self):
        return self.conn

    def __exit__(self, *exc):
        self.conn.close()


def drop_db(name):
    with pg_connect() as conn:
        conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def source_tree(spec, tmp):
    """The addons to measure: the working tree (``.``) or a snapshot of a git revision (default
    HEAD: what is committed, untouched by edits in progress), extracted with git archive."""
    if spec == ".":
        return ROOT, "working tree"
    sha = subprocess.check_output(["git", "-C", ROOT, "rev-parse", spec], text=True).strip()
    dest = os.path.join(tmp, "src", sha[:12])
    if not os.path.isdir(dest):
        os.makedirs(dest + ".tmp", exist_ok=True)
        archive = subprocess.Popen(["git", "-C", ROOT, "archive", sha], stdout=subprocess.PIPE)
        subprocess.check_call(["tar", "-x", "-C", dest + ".tmp"], stdin=archive.stdout)
        if archive.wait():
            raise SystemExit(f"git archive {sha} failed")
        os.rename(dest + ".tmp", dest)
    return dest, f"git {spec} = {sha[:12]}"


def write_conf(path, addons_root):
    import odoo

    addons = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "addons")
    paths = [addons] if os.path.isdir(addons) else []
    # OCA addons installed with pip (queue_job for crm_exchange_log) live in site-packages/odoo/addons
    import importlib.util

    spec = importlib.util.find_spec("odoo.addons.queue_job")
    if spec:
        paths.append(os.path.dirname(os.path.dirname(spec.origin)))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("[options]\n")
        f.write(f"addons_path = {','.join(paths + [addons_root])}\n")
        f.write(f"data_dir = {os.path.join(os.path.dirname(path), 'data')}\n")
        f.write(f"db_host = {os.environ.get('PGHOST', '127.0.0.1')}\n")
        f.write(f"db_port = {os.environ.get('PGPORT', '5432')}\n")
        f.write(f"db_user = {os.environ.get('PGUSER', os.environ.get('USER', 'odoo'))}\n")
        f.write(f"db_password = {os.environ.get('PGPASSWORD', 'False')}\n")
        f.write("http_port = 8569\n")
    return path


def odoo_install(conf, db, modules, logfile):
    """Install modules with Odoo in a subprocess; returns the WARNING/ERROR lines of its log."""
    if os.path.exists(logfile):
        os.remove(logfile)
    cmd = [
        sys.executable,
        "-m",
        "odoo",
        "-c",
        conf,
        "-d",
        db,
        "-i",
        ",".join(modules),
        "--without-demo=all",
        "--stop-after-init",
        "--log-level=info",
        f"--logfile={logfile}",
    ]
    rc = subprocess.call(cmd)
    bad = []
    if os.path.exists(logfile):
        with open(logfile) as f:
            bad = [
                line.rstrip()
                for line in f
                if (" WARNING " in line or " ERROR " in line or " CRITICAL " in line)
                and "Running as user 'root'" not in line
            ]
    return rc, bad


def module_states(db, names):
    with pg_connect(db) as conn:
        cr = conn.cursor()
        cr.execute("SELECT name, state FROM ir_module_module WHERE name = ANY(%s)", [names])
        return dict(cr.fetchall())


def installable(name):
    manifest = os.path.join(SOURCE[0], name, "__manifest__.py")
    if not os.path.exists(manifest):
        return False
    import ast

    with open(manifest) as f:
        return ast.literal_eval(f.read()).get("installable", True)


def env_for(db):
    import odoo
    from odoo import SUPERUSER_ID, api

    registry = odoo.modules.registry.Registry.new(db)
    cr = registry.cursor()
    env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US", "tz": "UTC"})
    return registry, cr, env


def release(db):
    """Close this process's connections to ``db`` (a template must have none)."""
    import odoo

    odoo.modules.registry.Registry.delete(db)
    odoo.sql_db.close_db(db)


def create_db(conf, db, suite, logdir, copy_from=None):
    """A fresh database with the stock modules (no demo data) on the Kazakh chart of accounts,
    and the suite's addons that exist and install (or a copy of ``copy_from``)."""
    drop_db(db)
    if copy_from:
        with pg_connect() as conn:
            conn.cursor().execute(f'CREATE DATABASE "{db}" TEMPLATE "{copy_from}"')
        log("  database %s copied from %s", db, copy_from)
        return []
    with pg_connect() as conn:
        conn.cursor().execute(f'CREATE DATABASE "{db}"')
    start = time.perf_counter()
    rc, bad = odoo_install(conf, db, STOCK, os.path.join(logdir, f"{db}-stock.log"))
    if rc or module_states(db, STOCK).get("sale_management") != "installed":
        raise SystemExit(f"installing {STOCK} on {db} failed: {bad[:10]}")
    _registry, cr, env = env_for(db)
    from .generate import Generator

    Generator(env, "small").setup_company()
    cr.commit()
    cr.close()
    release(db)
    notes = []
    if suite:
        core = [m for m in CORE if installable(m)]
        rc, bad = odoo_install(conf, db, core, os.path.join(logdir, f"{db}-suite.log"))
        states = module_states(db, core)
        if rc or any(states.get(m) != "installed" for m in core):
            raise SystemExit(f"installing {core} on {db} failed: {bad[:10]}")
        if bad:
            notes.append(f"warnings while installing {core}: {bad[:5]}")
        for name in OPTIONAL:
            if not installable(name):
                notes.append(f"{name} is not installable: skipped")
                continue
            rc, bad = odoo_install(conf, db, [name], os.path.join(logdir, f"{db}-{name}.log"))
            state = module_states(db, [name]).get(name)
            if rc or state != "installed":
                notes.append(f"{name} did not install ({state}): skipped; {bad[:3]}")
                with pg_connect(db) as conn:
                    conn.cursor().execute(
                        "UPDATE ir_module_module SET state = 'uninstalled' WHERE name = %s "
                        "AND state IN ('to install', 'to upgrade')",
                        [name],
                    )
            elif bad:
                notes.append(f"warnings while installing {name}: {bad[:3]}")
    for note in notes:
        log("  note: %s", note)
    log("  database %s ready in %.0f s", db, time.perf_counter() - start)
    return notes


def run_scale(args, conf, scale, logdir, stock_from=None):
    """Generate, check and benchmark one scale; ``stock_from``: an existing stock-only database
    (with its dataset) to post in instead of making one for this scale."""
    from .benchmarks import POSTING_RUNS, Bench, posting_times
    from .checks import run_checks
    from .generate import Generator

    db = args.db if (args.db and scale == args.scale) else f"bench_{scale}"
    stock_db = stock_from or f"{db}_stock"
    out = {"scale": scale, "db": db, "stock_db": stock_db, "notes": []}
    if not args.reuse:
        log("creating %s (suite) and %s (stock only)", db, stock_db)
        out["notes"] += create_db(conf, db, True, logdir, args.copy_suite) or BASE_NOTES
        if not stock_from:
            create_db(conf, stock_db, False, logdir, args.copy_stock)
        if args.install_only:
            log("databases %s and %s installed, nothing generated (--install-only)", db, stock_db)
            raise SystemExit(0)

    # ----------------------------------------------------------- suite database
    _registry, cr, env = env_for(db)
    try:
        gen = Generator(env, scale)
        gen.company = env.company
        if not args.reuse:
            log("generating the dataset in %s", db)
            out["generation"] = gen.run()
            log("checking the dataset")
            run_checks(env, gen)
            cr.commit()
        else:
            gen.has_kpi = "crm.partner.kpi" in env
        out["size"] = gen.size
        out["modules"] = sorted(m for m in CORE + OPTIONAL if m in env.registry._init_modules)
        cr.execute("SELECT COUNT(*) FROM res_partner WHERE id IN (SELECT id FROM bench_partner)")
        counts = {"partners": cr.fetchone()[0]}
        for key, query in (
            ("invoices", "SELECT COUNT(*) FROM account_move WHERE move_type = 'out_invoice' AND state = 'posted'"),
            ("credit_notes", "SELECT COUNT(*) FROM account_move WHERE move_type = 'out_refund' AND state = 'posted'"),
            ("payments", "SELECT COUNT(*) FROM bench_doc WHERE pay_date IS NOT NULL"),
            ("journal_items", "SELECT COUNT(*) FROM account_move_line"),
            ("sale_orders", "SELECT COUNT(*) FROM sale_order WHERE state = 'sale'"),
        ):
            cr.execute(query)
            counts[key] = cr.fetchone()[0]
        if "crm.installment.line" in env:
            cr.execute(
                "SELECT (SELECT COUNT(*) FROM crm_installment_plan), (SELECT COUNT(*) FROM crm_installment_line)"
            )
            counts["installment_plans"], counts["installment_lines"] = cr.fetchone()
        cr.execute("SELECT fate, COUNT(*) FROM bench_doc GROUP BY 1 ORDER BY 1")
        counts["fates"] = dict(cr.fetchall())
        out["counts"] = counts
        log("dataset: %s", counts)

        # benchmarks run as the administrator (a CRM manager), not as the superuser
        admin = env.ref("base.user_admin")
        group = env.ref("crm_single_truth.group_crm_manager", raise_if_not_found=False)
        if group and group not in admin.groups_id:
            admin.groups_id = [(4, group.id)]
        cr.commit()
        uenv = env(user=admin.id, su=False)
        bench = Bench(uenv, gen, scale)
        log("benchmarks (%s)", scale)
        for name in (
            [n for n in args.only if n not in ("posting", "burst")]
            if args.only
            else [
                "card",
                "search",
                "kpi_delta",
                "dashboard",
                "segments",
                "penalties",
                "dunning",
                "exchange_log",
                "onec_load",
            ]
        ):
            getattr(bench, name)()
            cr.commit()
        if not args.only or "burst" in args.only:
            from .burst import burst_benchmark

            burst_benchmark(bench, conf, logdir)
        want_posting = not args.only or "posting" in args.only
        out["info"] = bench.info
        if want_posting:
            # the stock-only twin with the same data, posting alternately in both databases
            _sregistry, scr, senv = env_for(stock_db)
            try:
                sgen = Generator(senv, scale)
                sgen.company = senv.company
                if not args.reuse and not stock_from:
                    log("generating the same dataset in %s (stock modules only)", stock_db)
                    sgen.run()
                    scr.commit()
                sadmin = senv.ref("base.user_admin")
                posting = posting_times({"suite": uenv, "stock": senv(user=sadmin.id, su=False)}, gen)
            finally:
                scr.rollback()
                scr.close()
            ratio = posting["suite"] / posting["stock"]
            bench.add(
                "posting",
                "post one customer invoice (action_post + flush + pre-commit hooks), suite vs stock",
                posting["suite"],
                posting["stock"],
                "the same in the stock-only database with "
                + ("the small dataset" if stock_from else "the same data")
                + ", alternately",
                "<= 15% slower",
                ratio <= 1.15,
                note=f"{(ratio - 1) * 100:+.0f}%",
                runs=POSTING_RUNS,
            )
    finally:
        cr.rollback()
        cr.close()

    out["results"] = [r.as_dict() for r in bench.results]
    if not args.keep:
        drop_db(db)
        if not stock_from and not args.keep_stock:
            drop_db(stock_db)
    return out


def fmt(seconds):
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds:.2f} s"


def table(out, growth=None):
    lines = [
        "| benchmark | figure | baseline | speed-up (baseline / figure) | target | result |",
        "|---|---|---|---|---|---|",
    ]
    for r in out["results"]:
        ratio = ""
        if r["figure"] is not None and r["baseline"]:
            ratio = f"{r['baseline'] / r['figure']:.1f}x" if r["key"] != "posting" else r["note"]
        base = fmt(r["baseline"]) + (f" ({r['baseline_label']})" if r["baseline_label"] else "")
        result = "-" if r["ok"] is None else ("pass" if r["ok"] else "**MISS**")
        note = f" - {r['note']}" if r["note"] and r["key"] != "posting" else ""
        lines.append(f"| {r['what']}{note} | {fmt(r['figure'])} | {base} | {ratio} | {r['target']} | {result} |")
    if growth:
        lines += [
            "",
            "Growth from the small to the default scale (time ratio / data ratio; 1.0 = linear, 1/data ratio = flat):",
            "",
            "| benchmark | small | default | time ratio | data ratio | growth |",
            "|---|---|---|---|---|---|",
        ]
        lines += growth
    return "\n".join(lines)


def growth_rows(small, default):
    rows = []
    data_ratio = default["counts"]["invoices"] / small["counts"]["invoices"]
    by_key = {r["key"]: r for r in small["results"]}
    for r in default["results"]:
        s = by_key.get(r["key"])
        if not s or s["figure"] is None or r["figure"] is None:
            continue
        ratio = r["figure"] / s["figure"]
        rows.append(
            f"| {r['key']} | {fmt(s['figure'])} | {fmt(r['figure'])} | {ratio:.2f} | {data_ratio:.1f} | "
            f"{ratio / data_ratio:.2f} |"
        )
    return rows


def machine():
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    load = os.getloadavg()
    return {
        "nproc": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "load": f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}",
    }


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--scale", choices=["small", "default"], default="small")
    parser.add_argument("--db", help="database name (default bench_<scale>; the stock one gets _stock appended)")
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse databases kept by an earlier --keep run")
    parser.add_argument(
        "--copy-suite",
        metavar="DB",
        help="copy this database (installed by an earlier run, before generation) instead of installing the suite",
    )
    parser.add_argument("--copy-stock", metavar="DB", help="same for the stock-only database")
    parser.add_argument(
        "--install-only",
        action="store_true",
        help="only create the databases (to copy them later with --copy-suite/--copy-stock)",
    )
    parser.add_argument("--no-growth", action="store_true", help="at the default scale, skip the small run")
    parser.add_argument(
        "--tree",
        default="HEAD",
        help="git revision of the addons to measure (default HEAD, "
        "extracted to $TMPDIR); '.' measures the working tree as it is",
    )
    parser.add_argument(
        "--only",
        nargs="*",
        help="run only these benchmarks (card search kpi_delta dashboard segments penalties dunning"
        " exchange_log onec_load burst posting)",
    )
    parser.add_argument("--json", help="write the results as JSON to this file")
    parser.add_argument("--markdown", help="write the results as a markdown report to this file")
    args = parser.parse_args(argv)
    args.keep_stock = False

    tmp = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"crmai-bench-{os.getuid()}")
    source, source_label = source_tree(args.tree, tmp)
    SOURCE[0] = source
    conf = write_conf(os.path.join(tmp, f"odoo-{os.path.basename(source)}.conf"), source)
    logdir = os.path.join(tmp, "logs")
    os.makedirs(logdir, exist_ok=True)
    import odoo

    odoo.tools.config.parse_config(["-c", conf, "--log-level=warn"])

    started = datetime.now(timezone.utc)
    info = machine()
    log("machine: %s; start %s; addons from %s", info, started.strftime("%Y-%m-%d %H:%M UTC"), source_label)
    scales = ["small", "default"] if args.scale == "default" and not args.no_growth else [args.scale]
    outs = {}
    made_base = False
    if len(scales) > 1 and not args.reuse and not args.copy_suite:
        # install once, then copy for each scale
        base = (args.db or "bench") + "_base"
        log("installing %s and %s_stock, copied for each scale", base, base)
        BASE_NOTES.extend(create_db(conf, base, True, logdir))
        create_db(conf, base + "_stock", False, logdir)
        args.copy_suite, args.copy_stock, made_base = base, base + "_stock", True
    args.keep_stock = len(scales) > 1
    for scale in scales:
        t0 = time.perf_counter()
        # the default scale posts against the small stock-only database of the same run
        stock_from = outs["small"]["stock_db"] if scale == "default" and "small" in outs else None
        outs[scale] = run_scale(args, conf, scale, logdir, stock_from)
        outs[scale]["wall"] = time.perf_counter() - t0
    if args.keep_stock and not args.keep:
        drop_db(outs["small"]["stock_db"])
    if made_base and not args.keep:
        drop_db(args.copy_suite)
        drop_db(args.copy_stock)
    main_out = outs[args.scale]
    growth = growth_rows(outs["small"], outs["default"]) if len(outs) == 2 else None
    info["load_end"] = machine()["load"]
    text = table(main_out, growth)
    print()
    print(text)
    report = {
        "started": started.isoformat(),
        "machine": info,
        "source": source_label,
        "argv": sys.argv[1:],
        "runs": outs,
    }
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(markdown(report, text))
    return 0 if all(r["ok"] is not False for r in main_out["results"]) else 1


def markdown(report, text):
    out = report["runs"]
    main_run = out.get("default") or out.get("small")
    gen = main_run.get("generation", {})
    lines = [
        f"# Benchmark results ({main_run['scale']} scale)",
        "",
        f"- date: {report['started'][:16].replace('T', ' ')} UTC",
        f"- machine: {report['machine']['nproc']} cores, {report['machine']['memory']} memory, Python "
        f"{report['machine']['python']}; load average at start {report['machine']['load']}, at the end "
        f"{report['machine']['load_end']} (shared with other jobs)",
        f"- command: `bench/run {' '.join(report['argv'])}`",
        f"- addons measured: {report['source']}",
        f"- modules: {', '.join(main_run.get('modules', []))}",
        f"- dataset: {main_run['counts']}",
        f"- generation: {gen.get('total', 0):.0f} s ("
        + ", ".join(f"{k} {v:.0f} s" for k, v in gen.items() if k != "total")
        + ")",
        "",
        text,
        "",
    ]
    for note in main_run.get("notes", []):
        lines.append(f"- note: {note}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
