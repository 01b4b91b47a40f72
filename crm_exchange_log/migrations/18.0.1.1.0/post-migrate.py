"""Payloads over the threshold were attachments linked to the exchange (readable by whoever could
read it); they become the attachments of the payload file fields, which only integrators and
administrators read."""

from odoo.tools import SQL


def migrate(cr, version):
    for kind in ("request", "response"):
        column = f"{kind}_attachment_id"
        cr.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'crm_exchange_log' AND column_name = %s",
            [column],
        )
        if not cr.fetchone():
            continue
        cr.execute(
            SQL(
                """
            UPDATE ir_attachment a
               SET res_field = %(field)s
              FROM crm_exchange_log l
             WHERE a.id = l.%(column)s AND a.res_model = 'crm.exchange.log' AND a.res_id = l.id
            """,
                field=f"{kind}_payload_file",
                column=SQL.identifier(column),
            )
        )
