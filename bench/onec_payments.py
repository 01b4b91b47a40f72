"""The payment side of the first load from 1C: ``bench.onec_load`` with the time spent applying the
chunks of payments (``crm.onec.connector._apply_payments_batch``) measured apart, by the set-based
writer (default) or by the ORM (``--orm``: the context key ``crm_onec_orm_payments``). Everything is
rolled back.

``python -m bench.onec_payments -c odoo.conf -d DB --sales 1000 [--orm]``."""

import argparse
import sys
import time

from .onec_load import ROOT, run


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--sales", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100)
    parser.add_argument("--orm", action="store_true", help="apply the payments through the ORM")
    args = parser.parse_args()
    sys.path.insert(0, ROOT)
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    registry = Registry(args.database)
    Connector = registry["crm.onec.connector"]
    apply_payments = Connector._apply_payments_batch
    spent = {"payments_s": 0.0, "payment_chunks": 0}

    def timed(connector, company, nodes):
        started = time.monotonic()
        try:
            if args.orm:
                connector = connector.with_context(crm_onec_orm_payments=True)
            return apply_payments(connector, company, nodes)
        finally:
            spent["payments_s"] += time.monotonic() - started
            spent["payment_chunks"] += 1

    Connector._apply_payments_batch = timed
    try:
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            figures = run(env, args.sales, args.customers)
    finally:
        Connector._apply_payments_batch = apply_payments
    figures.update(spent, payments_way="orm" if args.orm else "writer")
    figures["payments_s"] = round(figures["payments_s"], 2)
    figures["ms_per_payment"] = round(1000 * spent["payments_s"] / args.sales, 2) if args.sales else None
    for key, value in figures.items():
        print(f"{key}: {value}")


if __name__ == "__main__":
    main()
