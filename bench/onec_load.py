"""The first load of history from 1C: a message as 1C writes it with N sales
(Документ.РеализацияТоваровУслуг, two rows each, goods and a service) of C counterparties and a
payment (Документ.ПБДСРасчетыСКонтрагентами) for each sale, zipped as 1C sends it, applied by
``crm.onec.connector`` from the zip file as a stream, in chunks (each chunk in its savepoint, each
object journaled). Prints the time of reading alone (parse + schema check of every object), the time
of applying (with the KPI deltas a commit would apply), objects per second, the peak memory of the
process and the load average of the machine; everything is rolled back (``--commit-steps``: each
step committed as the first load's job does, on a copy of a database).

Alone on a database with the suite (crm_exchange_log installed):
``python -m bench.onec_load -c odoo.conf -d DB --sales 1000``."""

import argparse
import io
import os
import resource
import sys
import tempfile
import time
import types
import uuid
import zipfile
from datetime import date, datetime, timedelta
from decimal import Decimal
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


NAMESPACE = uuid.UUID("0b6d0f59-3f8a-4e43-9d41-2f4b4b9e1c11")


def _message(ed, sales, customers, organization, currency):
    """The message as SSL writes it, written to a temporary zip file object by object."""
    namespace = NAMESPACE
    # three years of history up to ten days ago, whatever the count: every sale and its payment (five
    # days later) in the past, as a first load brings them
    start = datetime.combine(date.today() - timedelta(days=3 * 365 + 10), datetime.min.time()) + timedelta(hours=9)
    step = timedelta(days=3 * 365) / max(sales, 1)
    spool = tempfile.TemporaryFile()
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive, archive.open("data.xml", "w") as out:
        out.write(
            b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<Message xmlns:msg="http://www.1c.ru/SSL/Exchange/Message" '
            b'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            b"<msg:Header><msg:Format>" + ed.DATA_NS.encode() + b"</msg:Format>"
            b"<msg:CreationDate>2026-11-30T10:00:00</msg:CreationDate><msg:Confirmation>"
            b"<msg:ExchangePlan>\xd0\xa1\xd0\xb8\xd0\xbd\xd1\x85\xd1\x80\xd0\xbe</msg:ExchangePlan>"
            b"<msg:To>CRM</msg:To><msg:From>BENCH1C</msg:From><msg:MessageNo>1</msg:MessageNo>"
            b"<msg:ReceivedNo>0</msg:ReceivedNo></msg:Confirmation>"
            b"<msg:AvailableVersion>1.8</msg:AvailableVersion></msg:Header>"
            b'<Body xmlns="' + ed.DATA_NS.encode() + b'">'
        )
        from lxml import etree

        payments = tempfile.TemporaryFile()
        for index in range(sales):
            partner = {
                "ref": str(uuid.uuid5(namespace, f"partner-{index % customers}")),
                "name": f"ТОО «Клиент 1С {index % customers:05d}»",
                "is_company": True,
            }
            moment = start + step * index
            amount = Decimal(1000 + index % 97 * 10)
            sale_ref = str(uuid.uuid5(namespace, f"sale-{index}"))
            sale = ed.sale(
                {
                    "ref": sale_ref,
                    "date": moment,
                    "number": f"0000-{index:06d}",
                    "organization": organization,
                    "currency": currency,
                    "amount_total": amount + 500,
                    "price_include": True,
                    "partner": partner,
                    "lines": [
                        {"name": "Станок", "quantity": 2, "amount": amount, "price": amount / 2, "vat_rate": None},
                        {
                            "name": "Монтаж",
                            "service": True,
                            "quantity": 1,
                            "amount": 500,
                            "price": 500,
                            "vat_rate": None,
                        },
                    ],
                }
            )
            payment = ed.payment(
                {
                    "ref": str(uuid.uuid5(namespace, f"payment-{index}")),
                    "date": moment + timedelta(days=5),
                    "number": f"П-{index:06d}",
                    "organization": organization,
                    "currency": currency,
                    "amount": amount + 500,
                    "partner": partner,
                    "rows": [
                        {
                            "amount": amount + 500,
                            "document": {"ref": sale_ref, "number": f"0000-{index:06d}", "date": moment},
                        }
                    ],
                }
            )
            out.write(etree.tostring(sale, encoding="UTF-8"))
            payments.write(etree.tostring(payment, encoding="UTF-8"))
        # SSL exports the registered changes type by type: the sales, then the payments
        payments.seek(0)
        while chunk := payments.read(1024 * 1024):
            out.write(chunk)
        out.write(b"</Body></Message>")
    spool.seek(0)
    return spool


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(env, sales=1000, customers=100, orm_sales=False, commit_steps=False):
    from odoo.addons.crm_exchange_log.services import enterprise_data as ed
    from odoo.addons.crm_exchange_log.services.safe_xml import open_zip_member

    env = env(su=True, context=dict(env.context, tracking_disable=True, mail_notrack=True))
    system = env["crm.exchange.system"]._get_by_code("onec")
    company = system.company_id or env.company
    connector = env["crm.onec.connector"].with_company(company)
    organization = {"name": company.name}
    currency = {"code": company.currency_id.iso_numeric, "name": company.currency_id.name}
    started = time.monotonic()
    spool = _message(ed, sales, customers, organization, currency)
    generated = time.monotonic() - started
    size = spool.seek(0, io.SEEK_END)
    spool.seek(0)
    stream, unzipped = open_zip_member(spool)
    started = time.monotonic()
    objects = 0
    items = ed.iter_message(stream)
    next(items)
    for kind, node in items:
        (ed.read_sale if kind == ed.SALE else ed.read_payment)(node)
        objects += 1
    read = time.monotonic() - started
    spool.seek(0)
    stream, unzipped = open_zip_member(spool)
    exchange = types.SimpleNamespace(vals={"correlation_id": f"bench-{uuid.uuid4()}"})
    before = _peak_mib()
    # the time of the sales' and of the payments' chunks (the rest: journal, KPI deltas, parsing)
    timings = {"_apply_sales_batch": 0.0, "_apply_payments_batch": 0.0}
    Connector = type(connector)

    def timed(name):
        method = getattr(Connector, name)

        def wrapper(self, *args, **kwargs):
            start = time.monotonic()
            try:
                return method(self, *args, **kwargs)
            finally:
                timings[name] += time.monotonic() - start

        return wrapper

    # chunks the set-based writers left to the ORM (they answer None)
    refused = {"sales": 0, "payments": 0}

    def counted(model, name, kind):
        method = getattr(type(env[model]), name)

        def wrapper(self, *args, **kwargs):
            result = method(self, *args, **kwargs)
            refused[kind] += result is None
            return result

        return mock.patch.object(type(env[model]), name, wrapper)

    if orm_sales:
        connector = connector.with_context(crm_onec_orm_sales=True)
    if commit_steps:
        # as the first load's job: each step of 500 objects committed (what is applied stays)
        connector = connector.with_context(crm_onec_commit_steps=True)
    started = time.monotonic()
    with (
        mock.patch.object(Connector, "_apply_sales_batch", timed("_apply_sales_batch")),
        mock.patch.object(Connector, "_apply_payments_batch", timed("_apply_payments_batch")),
        counted("crm.onec.sale.writer", "_write", "sales"),
        counted("crm.onec.payment.writer", "_write_payments", "payments"),
    ):
        _header, result = connector._apply_message(system, stream, exchange)
    # what the commit would still do: the KPI deltas of the last documents (crm_single_truth)
    if "crm.partner.kpi" in env:
        env["crm.partner.kpi"]._crm_apply_pending()
    env.flush_all()
    applied = time.monotonic() - started
    moves = env["account.move"].search_count([("journal_id.code", "=", "1C"), ("company_id", "=", company.id)])
    # the customers' cards (KPI deltas applied chunk by chunk) against their documents
    documents_total = kpi_ltv = None
    if "crm.partner.kpi" in env:
        env.cr.execute(
            """SELECT SUM(m.amount_total_signed),
                      (SELECT SUM(k.ltv) FROM crm_partner_kpi k
                        WHERE k.company_id = %(company)s AND k.partner_id IN (
                              SELECT commercial_partner_id FROM account_move WHERE crm_onec_ref = ANY(%(refs)s)))
                 FROM account_move m WHERE m.company_id = %(company)s AND m.crm_onec_ref = ANY(%(refs)s)""",
            {"company": company.id, "refs": [str(uuid.uuid5(NAMESPACE, f"sale-{index}")) for index in range(sales)]},
        )
        documents_total, kpi_ltv = env.cr.fetchone()
    env.cr.rollback()
    return {
        "sales": sales,
        "customers": customers,
        "objects": objects,
        "zip_bytes": size,
        "xml_bytes": unzipped,
        "generate_s": round(generated, 2),
        "read_s": round(read, 2),
        "apply_s": round(applied, 2),
        "objects_per_s": round(objects / applied, 1) if applied else None,
        "sales_batches_s": round(timings["_apply_sales_batch"], 2),
        "payments_batches_s": round(timings["_apply_payments_batch"], 2),
        "chunks_left_to_the_orm": refused,
        "applied": result["applied"],
        "failed": result["failed"],
        "invoices_in_1c_journal": moves,
        "sales_total": documents_total,
        "kpi_ltv_of_their_customers": kpi_ltv,
        "peak_rss_mib_before": round(before),
        "peak_rss_mib": round(_peak_mib()),
        "load_average": os.getloadavg(),
    }


def arguments(description):
    """The options every first-load benchmark takes (database, sales, customers)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--sales", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=100)
    return parser


def registry_of(args):
    """The registry of ``args.database`` with the configuration file ``args.config``."""
    sys.path.insert(0, ROOT)
    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database])
    return Registry(args.database)


def run_on(registry, args, **options):
    """``run`` on a cursor of ``registry``, as superuser: its figures."""
    import odoo

    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        return run(env, args.sales, args.customers, **options)


def print_figures(figures):
    for key, value in figures.items():
        print(f"{key}: {value}")


def main():
    parser = arguments(__doc__)
    parser.add_argument("--orm-sales", action="store_true", help="the sales through the ORM, not the set-based writer")
    parser.add_argument(
        "--commit-steps",
        action="store_true",
        help="commit each step as the first load's job does: the load stays in the database (use a copy)",
    )
    args = parser.parse_args()
    registry = registry_of(args)
    print_figures(run_on(registry, args, orm_sales=args.orm_sales, commit_steps=args.commit_steps))


if __name__ == "__main__":
    main()
