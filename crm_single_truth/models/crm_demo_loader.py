import logging
import time
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models

_logger = logging.getLogger(__name__)

XMLID = "crm_single_truth.%s"
MASHSTROY_TOTAL = 14_350_000
MASHSTROY_ORDERS = 23
LARGE_SLEEPING = [
    "ТОО «Арман Металл»", "ТОО «Жетысу Агропром»", "АО «Каспий Нефтемаш»", "ТОО «Алтын Дала»",
    "ТОО «Сарыарка Энерго»", "ТОО «Тараз Цемент»", "АО «Павлодар Трубопрокат»", "ТОО «Кокше Транс»",
    "ТОО «Атырау Сервис»", "ТОО «Шымкент Пласт»", "ТОО «Актобе Хромсталь»", "ТОО «Семей Станкострой»",
]


class CrmDemoLoader(models.AbstractModel):
    """Builds the demo story through the ORM: real confirmed orders, posted invoices and
    reconciled payments, dated relative to today so the demo stays alive."""

    _name = "crm.demo.loader"
    _description = "CrmAI Demo Data Loader"

    @api.model
    def _load_demo(self):
        if self.env.ref(XMLID % "company_dala_demo", raise_if_not_found=False):
            return
        started = time.monotonic()
        company = self._demo_company()
        env = self.with_company(company).with_context(
            allowed_company_ids=[company.id], tracking_disable=True, mail_create_nolog=True, mail_notrack=True
        ).env
        loader = self.with_env(env)
        loader._demo_story(company)
        _logger.info("CrmAI demo data loaded in %.1f s", time.monotonic() - started)

    # ------------------------------------------------------------------ company
    def _demo_company(self):
        """The Kazakh demo company on the stock l10n_kz chart (its own demo company when l10n_kz
        was installed with demo data), tenge; made the admin's current company."""
        kz = self.env.ref("base.kz")
        kzt = self.env.ref("base.KZT")
        kzt.active = True
        company = self.env.ref("base.demo_company_kz", raise_if_not_found=False)
        if company and company.chart_template == "kz":
            company.write({"name": "ТОО «Дала Техника»"})
        else:
            company = self.env["res.company"].create({"name": "ТОО «Дала Техника»", "country_id": kz.id, "currency_id": kzt.id})
            l10n_kz = self.env["ir.module.module"].search([("name", "=", "l10n_kz"), ("state", "=", "installed")])
            self.env["account.chart.template"]._load("kz" if l10n_kz else "generic_coa", company, install_demo=False)
            company.currency_id = kzt
        company.partner_id.write({"city": "Алматы", "country_id": kz.id, "crm_bin": "040840001320", "vat": False})
        admin = self.env.ref("base.user_admin")
        admin.write({"company_ids": [Command.link(company.id)], "company_id": company.id})
        self.env.ref("base.user_root").write({"company_ids": [Command.link(company.id)]})
        self._demo_xmlid("company_dala_demo", company)
        return company

    def _demo_xmlid(self, name, record):
        self.env["ir.model.data"]._update_xmlids([{"xml_id": XMLID % name, "record": record, "noupdate": True}])

    # ------------------------------------------------------------------ story
    def _demo_story(self, company):
        today = fields.Date.context_today(self)
        admin = self.env.ref("base.user_admin")
        Partner = self.env["res.partner"]
        kz = self.env.ref("base.kz")
        products = self.env["product.product"].create([
            {"name": name, "type": "service", "list_price": price, "taxes_id": [Command.clear()], "company_id": company.id}
            for name, price in (("Токарный станок", 600000), ("Сервисное обслуживание", 150000), ("Запчасти", 45000), ("Онлайн-курс, месяц", 45000))
        ])
        term_30 = self.env.ref("account.account_payment_term_30days")

        # ТОО «МашСтрой»: 23 orders over three years, paid on time, the last one 30 days ago
        mash = Partner.create({
            "name": "ТОО «МашСтрой»", "is_company": True, "user_id": admin.id, "country_id": kz.id,
            "city": "Караганда", "street": "ул. Ерубаева, 48", "crm_bin": "950124400901",
            "crm_legal_address": "100012, Казахстан, г. Караганда, ул. Ерубаева, 48, офис 305",
            "crm_actual_address": "100019, Казахстан, г. Караганда, Промышленная зона, 12",
            "email": "info@mashstroy.kz", "phone": "+7 7212 41 15 20",
        })
        self._demo_xmlid("partner_mashstroy_demo", mash)
        contacts = Partner.create([
            {"name": name, "parent_id": mash.id, "crm_contact_role": role, "function": function, "email": email, "phone": phone}
            for name, role, function, email, phone in (
                ("Ержан Сапаров", "purchaser", "Начальник отдела снабжения", "saparov@mashstroy.kz", "+7 701 555 1020"),
                ("Гульнара Ахметова", "accountant", "Главный бухгалтер", "buh@mashstroy.kz", "+7 701 555 1021"),
                ("Бауыржан Касымов", "director", "Генеральный директор", "director@mashstroy.kz", "+7 701 555 1022"),
                ("Алексей Ким", "engineer", "Главный инженер", "kim@mashstroy.kz", "+7 701 555 1023"),
            )
        ])
        for contact, role in zip(contacts, ("purchaser", "accountant", "director", "engineer")):
            self._demo_xmlid(f"partner_mashstroy_{role}_demo", contact)
        amounts = [600000 + ((i * 37) % 9 - 4) * 25000 for i in range(MASHSTROY_ORDERS - 1)]
        amounts.append(MASHSTROY_TOTAL - sum(amounts))
        orders = [
            (today - timedelta(days=30 + (MASHSTROY_ORDERS - 1 - i) * 47), amount)
            for i, amount in enumerate(amounts)
        ]
        self._demo_sale_orders(mash, contacts[0], orders, products[0], term_30, paid_after_days=20)

        # a dozen large customers that have not bought for more than six months
        for index, name in enumerate(LARGE_SLEEPING):
            customer = Partner.create({"name": name, "is_company": True, "user_id": admin.id, "country_id": kz.id})
            last = 200 + index * 45
            invoices = [(today - timedelta(days=last + step * 90), 250000 + index * 10000) for step in range(3)]
            self._demo_invoices(customer, invoices, products[1], term_30, paid_after_days=[25, 25, 25])
            self._demo_xmlid(f"partner_sleeping_{index + 1}_demo", customer)

        # a habitual late payer (one invoice overdue now) and an occasional one
        late = Partner.create({
            "name": "ТОО «КазЛогистик»", "is_company": True, "user_id": admin.id, "country_id": kz.id,
            "city": "Астана", "crm_bin": "040840001320",
        })
        self._demo_xmlid("partner_late_payer_demo", late)
        self._demo_invoices(
            late,
            [(today - timedelta(days=days), amount) for days, amount in
             ((300, 180000), (240, 220000), (180, 160000), (120, 240000), (70, 310000))],
            products[2], term_30, paid_after_days=[55, 60, 75, 50, None],
        )
        occasional = Partner.create({"name": "ТОО «Степной Агро»", "is_company": True, "user_id": admin.id, "country_id": kz.id})
        self._demo_xmlid("partner_occasional_late_demo", occasional)
        self._demo_invoices(
            occasional,
            [(today - timedelta(days=days), 120000) for days in (260, 200, 140, 80, 20)],
            products[2], term_30, paid_after_days=[25, 28, 40, 20, None],
        )

        # a customer with an open deal, and a lost one
        prospect = Partner.create({"name": "ТОО «Нурлы Строй»", "is_company": True, "user_id": admin.id, "country_id": kz.id})
        self._demo_xmlid("partner_open_deal_demo", prospect)
        Lead = self.env["crm.lead"]
        stage = self.env.ref("crm.stage_lead3", raise_if_not_found=False)
        deal = Lead.create({
            "name": "Поставка двух токарных станков", "type": "opportunity", "partner_id": prospect.id,
            "user_id": admin.id, "expected_revenue": 2400000, "stage_id": stage.id if stage else False,
            "date_deadline": today + timedelta(days=20),
        })
        self._demo_xmlid("lead_open_deal_demo", deal)
        lost = Lead.create({
            "name": "Сервисный контракт на 2026 год", "type": "opportunity", "partner_id": prospect.id,
            "user_id": admin.id, "expected_revenue": 900000,
        })
        lost.action_set_lost()

        # a student paying an online school monthly; this month's invoice is not due yet
        student = Partner.create({
            "name": "Айдана Серикова", "crm_iin": "870526300565", "country_id": kz.id, "city": "Алматы",
            "email": "aidana.serikova@example.kz", "user_id": admin.id,
        })
        self._demo_xmlid("partner_student_demo", student)
        months = [(today - relativedelta(months=k), 45000) for k in range(7, -1, -1)]
        self._demo_invoices(student, months, products[3], term_30, paid_after_days=[5] * 7 + [None])

        # contracts
        Contract = self.env["crm.contract"]
        Contract.create([
            {
                "name": "ДП-2023/041", "partner_id": mash.id, "contract_type": "framework", "user_id": admin.id,
                "date_start": today - timedelta(days=1100), "date_end": today + timedelta(days=300),
                "payment_term_id": term_30.id, "state": "active", "company_id": company.id,
            },
            {
                "name": "ДП-2025/112", "partner_id": late.id, "contract_type": "framework", "user_id": admin.id,
                "date_start": today - timedelta(days=320), "date_end": today + timedelta(days=20),
                "payment_term_id": term_30.id, "penalty_rate": 0.1, "penalty_grace_days": 5,
                "penalty_cap_percent": 10.0, "state": "active", "company_id": company.id,
            },
        ])

    # ------------------------------------------------------------------ documents
    def _demo_sale_orders(self, partner, contact, orders, product, term, paid_after_days):
        SaleOrder = self.env["sale.order"]
        sale_orders = SaleOrder.create([
            {
                "partner_id": contact.id, "partner_invoice_id": partner.id, "payment_term_id": term.id,
                "order_line": [Command.create({
                    "product_id": product.id, "product_uom_qty": 1, "price_unit": amount, "tax_id": [Command.clear()],
                })],
            }
            for _day, amount in orders
        ])
        sale_orders.action_confirm()
        for order, (day, _amount) in zip(sale_orders, orders):
            order.date_order = fields.Datetime.to_datetime(day) + timedelta(hours=9)
        invoices = sale_orders._create_invoices(grouped=True)
        for order in sale_orders:
            order.invoice_ids.invoice_date = order.date_order.date()
        invoices.action_post()
        for order in sale_orders:
            self._demo_pay(order.invoice_ids, order.date_order.date() + timedelta(days=paid_after_days))

    def _demo_invoices(self, partner, invoices, product, term, paid_after_days):
        moves = self.env["account.move"].create([
            {
                "move_type": "out_invoice", "partner_id": partner.id, "invoice_date": day,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [Command.create({
                    "product_id": product.id, "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()],
                })],
            }
            for day, amount in invoices
        ])
        moves.action_post()
        for move, delay in zip(moves, paid_after_days):
            if delay is not None:
                self._demo_pay(move, move.invoice_date + timedelta(days=delay))
        return moves

    def _demo_pay(self, invoice, day):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=invoice.ids
        ).create({"payment_date": day})._create_payments()
