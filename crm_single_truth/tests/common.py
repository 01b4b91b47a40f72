import json
from datetime import timedelta

from odoo import Command, fields
from odoo.tests import new_test_user

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CrmKpiCommon(AccountTestInvoicingCommon):
    """Customers with invoices, credit notes, sale orders and payments, in tax-free amounts so
    that every expected figure can be written down exactly."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # one calendar at any hour: the card counts days in the user's time zone, the crons in the
        # company's; the test company (US) and its user would otherwise disagree from 23:00 to 05:00 UTC
        cls.env.user.tz = cls.env.company.partner_id.tz = "Asia/Almaty"
        cls.today = cls.env.company._crm_today()
        cls.currency = cls.env.company.currency_id
        cls.customer = cls.env["res.partner"].create({"name": "KPI Customer LLP", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Aigerim Purchaser", "parent_id": cls.customer.id, "type": "contact"}
        )

    @classmethod
    def setup_access_users(cls, prefix, sales_groups, manager_groups):
        """The users of the RPC access tests: ``<prefix>.portal``, ``.seller`` (``sales_groups``) and
        ``.manager`` of the test company, and ``.stranger``, a manager of a second company alone."""
        company = cls.env.company
        cls.company_2 = cls.setup_other_company(name=f"{prefix} Access Company Two")["company"]
        cls.portal = new_test_user(cls.env, login=f"{prefix}.portal", groups="base.group_portal", company_id=company.id)
        cls.seller = new_test_user(cls.env, login=f"{prefix}.seller", groups=sales_groups, company_id=company.id)
        cls.manager = new_test_user(cls.env, login=f"{prefix}.manager", groups=manager_groups, company_id=company.id)
        cls.stranger = new_test_user(
            cls.env,
            login=f"{prefix}.stranger",
            groups=manager_groups,
            company_id=cls.company_2.id,
            company_ids=[Command.set(cls.company_2.ids)],
        )

    @classmethod
    def days_ago(cls, days):
        return cls.today - timedelta(days=days)

    @classmethod
    def invoice(cls, amount, days_ago=0, partner=None, move_type="out_invoice", post=True, due_days=0, **kwargs):
        move = cls.init_invoice(
            move_type,
            partner=partner or cls.customer,
            invoice_date=cls.days_ago(days_ago),
            amounts=[amount],
            taxes=[],
            **kwargs,
        )
        if due_days:
            move.invoice_payment_term_id = False
            move.invoice_date_due = cls.days_ago(days_ago) + timedelta(days=due_days)
        if post:
            move.action_post()
        return move

    @classmethod
    def pay(cls, moves, amount=None, days_ago=0, **values):
        wizard = (
            cls.env["account.payment.register"]
            .with_context(active_model="account.move", active_ids=moves.ids)
            .create({"payment_date": cls.days_ago(days_ago), **({"amount": amount} if amount else {}), **values})
        )
        return wizard._create_payments()

    @classmethod
    def sale_order(cls, amount, days_ago=0, partner=None, confirm=True):
        order = cls.env["sale.order"].create(
            {
                "partner_id": (partner or cls.customer).id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": cls.product_a.id,
                            "product_uom_qty": 1,
                            "price_unit": amount,
                            "tax_id": [Command.clear()],
                        }
                    )
                ],
            }
        )
        if confirm:
            order.action_confirm()
            order.date_order = fields.Datetime.to_datetime(cls.days_ago(days_ago)) + timedelta(hours=12)
        return order


def call_kw(case, login, model, method, args=(), kwargs=None):
    """``call_kw`` as the web client sends it, logged in as ``login`` (password = login) in the
    HttpCase ``case``: the JSON-RPC answer (``result`` or ``error``)."""
    case.authenticate(login, login)
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs or {}},
    }
    response = case.url_open(
        f"/web/dataset/call_kw/{model}/{method}",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
    )
    case.assertEqual(response.status_code, 200)
    return response.json()
