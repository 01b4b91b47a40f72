"""Demo journal of crm_exchange_log: exchanges with 1C of ТОО «МашСтрой» (crm_single_truth's demo story)
in one flow - the counterparty and two invoices sent, the last invoice failed after five attempts,
waiting for the integrator. Plain Python, imported only when demo data is loaded
(``ir.module.module._crm_load_demo``)."""

import uuid
from datetime import timedelta

from odoo import fields


def load(env):
    partner = env.ref("crm_single_truth.partner_mashstroy_demo", raise_if_not_found=False)
    system = env.ref("crm_exchange_log.exchange_system_onec", raise_if_not_found=False)
    if not partner or not system or env["crm.exchange.log"].search_count([("system_id", "=", system.id)]):
        return
    company = env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)
    invoices = env["account.move"].search(
        [
            ("partner_id", "=", partner.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
        ],
        order="invoice_date desc, id desc",
        limit=3,
    )
    correlation = str(uuid.uuid4())
    now = fields.Datetime.now()
    Log = env["crm.exchange.log"].sudo()
    common = {
        "system_id": system.id,
        "direction": "out",
        "correlation_id": correlation,
        "company_id": (company or env.company).id,
        "handler": "_crm_onec_push",
    }
    vals = [
        {
            **common,
            "operation": "push_partner",
            "state": "done",
            "res_model": "res.partner",
            "res_id": partner.id,
            "request_payload": {"counterparty": partner.name, "bin": partner.crm_bin},
            "attempt_count": 1,
            "response_payload": {"file_id": str(uuid.uuid4()), "parts": 1},
            "duration_ms": 840,
            "idempotency_key": "onec:demo-1",
            "date_done": now - timedelta(days=2),
        }
    ]
    for index, invoice in enumerate(invoices):
        failed = index == 0
        vals.append(
            {
                **common,
                "operation": "push_invoice",
                "state": "failed" if failed else "done",
                "res_model": "account.move",
                "res_id": invoice.id,
                "attempt_count": 5 if failed else 1,
                "request_payload": {
                    "invoice": invoice.name,
                    "amount": invoice.amount_total,
                    "currency": invoice.currency_id.name,
                },
                "response_payload": False if failed else {"parts": 1},
                "error_message": "1C SOAP fault in PutData: Ошибка формата данных: реквизит «Договор» не заполнен"
                if failed
                else False,
                "duration_ms": 30000 if failed else 1200,
                "idempotency_key": f"onec:demo-{index + 2}",
                "date_done": now - timedelta(hours=index + 1),
            }
        )
    Log.create(vals)
