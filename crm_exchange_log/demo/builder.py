"""Demo journal of crm_exchange_log, written by the code that journals real exchanges (plain Python,
imported only when demo data is loaded, ``ir.module.module._crm_load_demo``):

* a website order of a new customer goes the real way - the website adapter creates the customer,
  the deal and the quotation under the order's correlation id, the quotation is confirmed and
  invoiced, and the invoice's push to 1C is journaled by the connector's own mapping and journal
  helpers, so the whole flow shares the correlation id the documents carry (no hand-made link);
* the pushes of ТОО «МашСтрой» (crm_single_truth's demo story): its counterparty and two invoices
  sent, the last invoice failed after five attempts, waiting for the integrator."""

from datetime import timedelta

from odoo import fields

WEBSITE_ORDER = {
    "order_id": "SHOP-2025-0417",
    "customer": {
        "name": "ТОО «Сарыарка Металл»",
        "email": "zakup@saryarka-metall.kz",
        "bin": "190340010014",
        "phone": "+7 7212 50 40 30",
        "is_company": True,
    },
    "lines": [{"sku": "DT16-CNC", "quantity": 1, "price": 2350000}],
    "note": "Доставка в Темиртау",
}
LATHE = "Токарный станок с ЧПУ ДТ-16"


def _journal_push(env, system, record, operation, **outcome):
    """Journal a push to 1C as the connector does (``_enqueue_push``: the message its mapping
    writes, the next message number, the flow of the document), with its demo outcome."""
    Connector, Log = env["crm.onec.connector"], env["crm.exchange.log"].sudo()
    message_no = int(env["ir.sequence"].sudo().next_by_code("crm_exchange_log.onec_message") or "1")
    objects, _notes = Connector._objects(record)
    vals = Log._prepare_log_vals(
        system,
        "out",
        operation,
        record=record,
        request=Connector._message(message_no, objects).decode("utf-8"),
        idempotency_key=f"onec:{message_no}",
        handler="_crm_onec_push",
        **outcome,
    )
    return Log.create(vals)


def _website_flow(env, company, onec):
    website = env.ref("crm_exchange_log.exchange_system_website", raise_if_not_found=False)
    lathe = env["product.product"].search([("name", "=", LATHE), ("company_id", "=", company.id)], limit=1)
    if not website or not lathe:
        return
    lathe.default_code = lathe.default_code or "DT16-CNC"
    data = dict(WEBSITE_ORDER, lines=[dict(WEBSITE_ORDER["lines"][0], sku=lathe.default_code)])
    answer = env["crm.exchange.website"].with_company(company)._process_order(website, data)
    if answer.get("status") != "ok":
        return
    order = env["sale.order"].browse(answer["sale_order_id"]).with_company(company)
    order.action_confirm()
    invoice = order._create_invoices()
    invoice.action_post()
    _journal_push(
        env,
        onec,
        invoice,
        "push_invoice",
        state="done",
        attempt_count=1,
        response_payload={"parts": 1},
        duration_ms=950,
        date_done=fields.Datetime.now() - timedelta(minutes=30),
    )


def load(env):
    partner = env.ref("crm_single_truth.partner_mashstroy_demo", raise_if_not_found=False)
    system = env.ref("crm_exchange_log.exchange_system_onec", raise_if_not_found=False)
    if not partner or not system or env["crm.exchange.log"].search_count([("system_id", "=", system.id)]):
        return
    company = env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False) or env.company
    env = env(context=dict(env.context, tracking_disable=True, mail_create_nolog=True, mail_notrack=True))
    _website_flow(env, company, system)
    invoices = env["account.move"].search(
        [
            ("partner_id", "=", partner.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ],
        order="invoice_date desc, id desc",
        limit=3,
    )
    now = fields.Datetime.now()
    _journal_push(
        env,
        system,
        partner,
        "push_partner",
        company_id=company.id,
        state="done",
        attempt_count=1,
        response_payload={"parts": 1},
        duration_ms=840,
        date_done=now - timedelta(days=2),
    )
    for index, invoice in enumerate(invoices):
        failed = index == 0
        _journal_push(
            env,
            system,
            invoice,
            "push_invoice",
            state="failed" if failed else "done",
            attempt_count=5 if failed else 1,
            response_payload=False if failed else {"parts": 1},
            error_message="1C SOAP fault in PutData: Ошибка формата данных: реквизит «Договор» не заполнен"
            if failed
            else False,
            duration_ms=30000 if failed else 1200,
            date_done=now - timedelta(hours=index + 1),
        )
