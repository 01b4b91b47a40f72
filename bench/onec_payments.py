"""The payment side of the first load from 1C: ``bench.onec_load`` with the time spent applying the
chunks of payments (``crm.onec.connector._apply_payments_batch``) measured apart, by the set-based
writer (default) or by the ORM (``--orm``: the context key ``crm_onec_orm_payments``). Everything is
rolled back.

``python -m bench.onec_payments -c odoo.conf -d DB --sales 1000 [--orm]``."""

import time

from .onec_load import arguments, print_figures, registry_of, run_on


def main():
    parser = arguments(__doc__)
    parser.add_argument("--orm", action="store_true", help="apply the payments through the ORM")
    args = parser.parse_args()
    registry = registry_of(args)
    Connector = registry["crm.onec.connector"]
    apply_payments = Connector._apply_payments_batch
    spent = {"payments_s": 0.0, "payment_chunks": 0}

    def timed(connector, company, nodes, payments=None):
        started = time.monotonic()
        try:
            if args.orm:
                connector = connector.with_context(crm_onec_orm_payments=True)
            return apply_payments(connector, company, nodes, payments)
        finally:
            spent["payments_s"] += time.monotonic() - started
            spent["payment_chunks"] += 1

    Connector._apply_payments_batch = timed
    try:
        figures = run_on(registry, args)
    finally:
        Connector._apply_payments_batch = apply_payments
    figures.update(spent, payments_way="orm" if args.orm else "writer")
    figures["payments_s"] = round(figures["payments_s"], 2)
    figures["ms_per_payment"] = round(1000 * spent["payments_s"] / args.sales, 2) if args.sales else None
    print_figures(figures)


if __name__ == "__main__":
    main()
