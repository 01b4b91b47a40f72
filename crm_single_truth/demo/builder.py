"""The demo story of CrmAI, built through the ORM and dated relative to today so that it stays alive:
a Kazakh company on the stock chart of accounts, ТОО «МашСтрой» and its three years of history,
sleeping large customers, late payers, deals, a student paying monthly, conversations and calls.

Every document is real: confirmed sale orders, posted invoices and posted payments reconciled with
them, created in batches (one create, one post, one reconciliation plan). Plain Python, imported only
when demo data is loaded (``demo/crm_single_truth_demo.xml`` calls ``ir.module.module._crm_load_demo``):
a database without demo data never loads it. Main records get XML ids such as
``crm_single_truth.partner_mashstroy_demo``.
"""

import base64
import io
import logging
import math
import struct
import time
import wave
from datetime import timedelta, timezone

from dateutil.relativedelta import relativedelta

from odoo import Command, fields

_logger = logging.getLogger(__name__)

MODULE = "crm_single_truth"
COMPANY_XMLID = f"{MODULE}.company_dala_demo"
COMPANY_NAME = "ТОО «Дала Техника»"

# ТОО «МашСтрой»: 23 orders of (lathes, service visits, spare-part sets) over three years
MASHSTROY_TOTAL = 14_350_000
MASHSTROY_ORDERS = (
    (1, 1, 0),
    (0, 0, 10),
    (0, 2, 0),
    (0, 0, 16),
    (0, 1, 8),
    (0, 0, 14),
    (1, 0, 0),
    (0, 2, 0),
    (0, 0, 20),
    (0, 1, 10),
    (0, 0, 9),
    (0, 3, 0),
    (0, 0, 15),
    (1, 1, 0),
    (0, 0, 12),
    (0, 2, 4),
    (0, 0, 18),
    (0, 1, 0),
    (0, 0, 14),
    (0, 2, 8),
    (0, 0, 11),
    (0, 1, 6),
    (0, 0, 15),
)
MASHSTROY_FIRST_DAYS_AGO = 1060
MASHSTROY_LAST_DAYS_AGO = 30

# twelve large customers that stopped buying more than six months ago: (name, city, BIN)
SLEEPING_CUSTOMERS = (
    ("ТОО «Арман Металл»", "Астана", "110240004150"),
    ("ТОО «Жетысу Агропром»", "Талдыкорган", "031240006033"),
    ("АО «Каспий Нефтемаш»", "Актау", "990640007499"),
    ("ТОО «Алтын Дала»", "Костанай", "140540001628"),
    ("ТОО «Сарыарка Энерго»", "Караганда", "060840003876"),
    ("ТОО «Тараз Цемент»", "Тараз", "120340002516"),
    ("АО «Павлодар Трубопрокат»", "Павлодар", "081140004369"),
    ("ТОО «Кокше Транс»", "Кокшетау", "020940005783"),
    ("ТОО «Атырау Сервис»", "Атырау", "100740006946"),
    ("ТОО «Шымкент Пласт»", "Шымкент", "160140001230"),
    ("ТОО «Актобе Хромсталь»", "Актобе", "090440008421"),
    ("ТОО «Семей Станкострой»", "Семей", "130640003775"),
)


def load(env):
    """Build the story once: nothing happens when the demo company exists already."""
    if env.ref(COMPANY_XMLID, raise_if_not_found=False) or env["res.company"].search_count(
        [("name", "=", COMPANY_NAME)], limit=1
    ):
        return
    started = time.monotonic()
    company = create_company(env)
    story_env = env(
        context=dict(
            env.context,
            allowed_company_ids=[company.id],
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
    )
    create_story(story_env, company)
    env.flush_all()
    _logger.info("CrmAI demo data loaded in %.1f s", time.monotonic() - started)


# ------------------------------------------------------------------ helpers
def set_xmlids(env, records_by_name):
    """Make demo records addressable as ``crm_single_truth.<name>`` (names end in _demo)."""
    env["ir.model.data"]._update_xmlids(
        [{"xml_id": f"{MODULE}.{name}", "record": record, "noupdate": True} for name, record in records_by_name.items()]
    )


# ------------------------------------------------------------------ company
def create_company(env):
    """ТОО «Дала Техника»: a new company in tenge on the stock Kazakh chart of accounts,
    the admin's default company."""
    kzt = env.ref("base.KZT")
    if not kzt.active:
        kzt.active = True
    Company = env["res.company"]
    # partner_autocomplete (auto-installed with the web client) would look the new company
    # up on Odoo's IAP servers: a demo company has nothing to be enriched with
    no_enrich = {"iap_enrich_auto_done": True} if "iap_enrich_auto_done" in Company._fields else {}
    # the chart is loaded just below: no automatic l10n install nor chart loading at commit
    company = Company.with_context(chart_template_load=True).create(
        {
            **no_enrich,
            "name": COMPANY_NAME,
            "country_id": env.ref("base.kz").id,
            "currency_id": kzt.id,
            "street": "пр. Абая, 150",
            "zip": "050046",
            "city": "Алматы",
            "phone": "+7 727 355 40 40",
            "email": "info@dalatechnika.kz",
            "website": "https://dalatechnika.kz",
        }
    )
    company.partner_id.write(
        {
            "crm_bin": "050340003122",
            "crm_legal_address": "050046, Казахстан, г. Алматы, пр. Абая, 150, офис 12",
        }
    )
    set_xmlids(env, {"company_dala_demo": company, "partner_dala_demo": company.partner_id})
    chart = env["account.chart.template"]
    # try_loading() only warns when the registry is not fully loaded yet, as during the
    # install of this addon; everything the chart needs (account, l10n_kz) is loaded by then
    load_chart = chart.try_loading if env.registry.loaded else chart._load
    load_chart(chart_template(env), company, install_demo=False)
    if company.currency_id != kzt:
        company.currency_id = kzt
    admin = env.ref("base.user_admin")
    admin.write({"company_ids": [Command.link(company.id)], "company_id": company.id})
    env.ref("base.user_root").write({"company_ids": [Command.link(company.id)]})
    return company


def chart_template(env):
    """The stock Kazakh chart when l10n_kz is installed, the generic one otherwise (loading
    "kz" without l10n_kz would install the module in the middle of this one's install)."""
    l10n_kz = env["ir.module.module"].search_count([("name", "=", "l10n_kz"), ("state", "=", "installed")])
    return "kz" if l10n_kz else "generic_coa"


# ------------------------------------------------------------------ story
def create_story(env, company):
    today = company._crm_today()  # the demo company's date, as its crons see it
    admin = env.ref("base.user_admin")
    kz = env.ref("base.kz")
    term_30 = env.ref("account.account_payment_term_30days")
    term_15 = env.ref("account.account_payment_term_15days")
    Partner = env["res.partner"]

    lathe, service, parts, course = env["product.product"].create(
        [
            {
                "name": name,
                "type": product_type,
                "invoice_policy": "order",
                "list_price": price,
                "taxes_id": [Command.clear()],
                "company_id": company.id,
            }
            for name, product_type, price in (
                ("Токарный станок с ЧПУ ДТ-16", "consu", 2_350_000),
                ("Сервисное обслуживание станка", "service", 150_000),
                ("Комплект запчастей", "consu", 25_000),
                ("Онлайн-курс «Оператор станков с ЧПУ», месяц", "service", 45_000),
            )
        ]
    )
    pricelist = env["product.pricelist"].create(
        {
            "name": "Прайс-лист (тенге)",
            "currency_id": company.currency_id.id,
            "company_id": company.id,
        }
    )

    def days_ago(days):
        return today - timedelta(days=days)

    def customer(name, city, bin_number, **values):
        return {
            "name": name,
            "is_company": True,
            "country_id": kz.id,
            "city": city,
            "crm_bin": bin_number,
            "user_id": admin.id,
            "property_payment_term_id": term_30.id,
            **values,
        }

    # ---- customers
    mash, late, occasional, prospect, *sleeping = Partner.create(
        [
            customer(
                "ТОО «МашСтрой»",
                "Караганда",
                "950140009013",
                street="ул. Ерубаева, 48",
                zip="100012",
                email="info@mashstroy.kz",
                phone="+7 7212 41 15 20",
                crm_legal_address="100012, Казахстан, г. Караганда, ул. Ерубаева, 48, офис 305",
                crm_actual_address="100019, Казахстан, г. Караганда, Промышленная зона, 12",
            ),
            customer(
                "ТОО «КазЛогистик»",
                "Астана",
                "981140005277",
                email="office@kazlogistic.kz",
                crm_legal_address="010000, Казахстан, г. Астана, ул. Кенесары, 40",
            ),
            customer("ТОО «Степной Агро»", "Кокшетау", "010640001188", email="agro@stepnoy.kz"),
            customer("ТОО «Нурлы Строй»", "Шымкент", "071040002219", email="tender@nurlystroy.kz"),
            *(customer(name, city, bin_number) for name, city, bin_number in SLEEPING_CUSTOMERS),
        ]
    )
    roles = ("purchaser", "accountant", "director", "engineer")
    contacts = Partner.create(
        [
            {
                "name": name,
                "parent_id": mash.id,
                "type": "contact",
                "crm_contact_role": role,
                "function": function,
                "email": email,
                "phone": phone,
                "mobile": mobile,
            }
            for name, role, function, email, phone, mobile in (
                (
                    "Ержан Сапаров",
                    "purchaser",
                    "Начальник отдела снабжения",
                    "saparov@mashstroy.kz",
                    "+7 7212 41 15 21",
                    "+7 701 555 10 20",
                ),
                (
                    "Гульнара Ахметова",
                    "accountant",
                    "Главный бухгалтер",
                    "buh@mashstroy.kz",
                    "+7 7212 41 15 22",
                    "+7 701 555 10 21",
                ),
                (
                    "Бауыржан Касымов",
                    "director",
                    "Генеральный директор",
                    "director@mashstroy.kz",
                    "+7 7212 41 15 23",
                    "+7 701 555 10 22",
                ),
                (
                    "Алексей Ким",
                    "engineer",
                    "Главный инженер",
                    "kim@mashstroy.kz",
                    "+7 7212 41 15 24",
                    "+7 701 555 10 23",
                ),
            )
        ]
    )
    student = Partner.create(
        {
            "name": "Айдана Серикова",
            "crm_iin": "030914601232",
            "country_id": kz.id,
            "city": "Алматы",
            "email": "aidana.serikova@example.kz",
            "mobile": "+7 707 123 45 67",
            "user_id": admin.id,
            "property_payment_term_id": term_15.id,
        }
    )
    set_xmlids(
        env,
        {
            "partner_mashstroy_demo": mash,
            **{f"partner_mashstroy_{role}_demo": contact for role, contact in zip(roles, contacts, strict=False)},
            "partner_late_payer_demo": late,
            "partner_occasional_late_demo": occasional,
            "partner_open_deal_demo": prospect,
            "partner_student_demo": student,
            **{f"partner_sleeping_{index}_demo": partner for index, partner in enumerate(sleeping, start=1)},
        },
    )

    # ---- documents: (partner, date, [(product, qty, price)], payment term, days to payment or None)
    orders, invoices = [], []
    # МашСтрой: 23 orders from ~1060 to 30 days ago, each paid 10 to 30 days after it (term: 30)
    step = (MASHSTROY_FIRST_DAYS_AGO - MASHSTROY_LAST_DAYS_AGO) / (len(MASHSTROY_ORDERS) - 1)
    for index, (lathes, visits, sets) in enumerate(MASHSTROY_ORDERS):
        lines = [
            (product, qty, product.list_price)
            for product, qty in ((lathe, lathes), (service, visits), (parts, sets))
            if qty
        ]
        day = days_ago(round(MASHSTROY_FIRST_DAYS_AGO - index * step))
        orders.append((mash, contacts[0], day, lines, term_30, 10 + (index * 7) % 21))
    # sleeping customers: 2-4 purchases each (orders and plain invoices), the last one
    # 200-695 days ago, every one paid on time
    for index, partner in enumerate(sleeping):
        last = 200 + index * 45
        for k in range(2 + index % 3):
            day = days_ago(last + k * (75 + index * 5))
            lines = [(service, 1 + (index + k) % 3, service.list_price), (parts, 6 + index, parts.list_price)]
            document = (partner, partner, day, lines, term_30, 12 + (index + k) % 15)
            (orders if index % 2 == 0 else invoices).append(document)
    # a habitual late payer: 20-45 days late, one invoice overdue by 40 days now
    for days, sets, paid_after in ((300, 7, 55), (240, 9, 60), (180, 6, 75), (120, 10, 50), (70, 12, None)):
        invoices.append((late, late, days_ago(days), [(parts, sets, parts.list_price)], term_30, paid_after))
    # an occasional late payer: on time but once (10 days late); the last invoice not due yet
    for days, paid_after in ((260, 25), (200, 28), (140, 40), (80, 20), (20, None)):
        invoices.append((occasional, occasional, days_ago(days), [(service, 1, 120_000)], term_30, paid_after))
    # the student: one invoice a month for 8 months, paid within days; this month's not due yet
    for months in range(7, -1, -1):
        day = today - relativedelta(months=months)
        invoices.append((student, student, day, [(course, 1, 45_000)], term_15, 3 if months else None))

    create_documents(env, company, admin, pricelist, orders, invoices)

    # ---- deals
    stage = env.ref("crm.stage_lead3", raise_if_not_found=False) or env["crm.stage"].search(
        [("is_won", "=", False)], order="sequence desc", limit=1
    )
    deal, lost = env["crm.lead"].create(
        [
            {
                "name": "Поставка двух токарных станков ДТ-16",
                "type": "opportunity",
                "partner_id": prospect.id,
                "user_id": admin.id,
                "company_id": company.id,
                "expected_revenue": 4_700_000,
                "probability": 60,
                "stage_id": stage.id,
                "date_deadline": today + timedelta(days=20),
            },
            {
                "name": "Сервисный контракт на год",
                "type": "opportunity",
                "partner_id": prospect.id,
                "user_id": admin.id,
                "company_id": company.id,
                "expected_revenue": 900_000,
            },
        ]
    )
    lost_reason = env.ref("crm.lost_reason_1", raise_if_not_found=False)
    lost.action_set_lost(**({"lost_reason_id": lost_reason.id} if lost_reason else {}))

    # ---- contracts
    mash_contract, late_contract = env["crm.contract"].create(
        [
            {
                "name": "ДП-2023/041",
                "partner_id": mash.id,
                "contract_type": "framework",
                "state": "active",
                "user_id": admin.id,
                "company_id": company.id,
                "payment_term_id": term_30.id,
                "date_start": days_ago(MASHSTROY_FIRST_DAYS_AGO + 10),
                "date_end": today + timedelta(days=300),
                "expiry_reminder_days": 45,
            },
            {
                "name": "ДП-2025/112",
                "partner_id": late.id,
                "contract_type": "framework",
                "state": "active",
                "user_id": admin.id,
                "company_id": company.id,
                "payment_term_id": term_30.id,
                "date_start": days_ago(320),
                "date_end": today + timedelta(days=45),
                "penalty_rate": 0.1,
                "penalty_grace_days": 5,
                "penalty_cap_percent": 10.0,
            },
        ]
    )
    set_xmlids(
        env,
        {
            "lead_open_deal_demo": deal,
            "lead_lost_deal_demo": lost,
            "contract_mashstroy_demo": mash_contract,
            "contract_late_payer_demo": late_contract,
        },
    )
    create_interactions(env, company, admin, mash, contacts, prospect)


# ------------------------------------------------------------------ interactions
def create_interactions(env, company, user, mash, contacts, prospect):
    """МашСтрой's conversations: messages on both messengers received through the same code
    as the webhooks, calls (one with a recording), a won and an open deal; plus an unknown
    WhatsApp sender who became a lead."""
    now = fields.Datetime.now()
    purchaser, accountant = contacts[0], contacts[1]
    purchaser.write({"crm_whatsapp": purchaser.mobile, "crm_telegram": "saparov_mashstroy"})
    accountant.crm_telegram = "buh_mashstroy"
    Message = env["crm.messenger.message"].sudo()
    for channel, partner, hours_ago, body in (
        (
            "whatsapp",
            purchaser,
            30 * 24,
            "Добрый день! Пришлите, пожалуйста, КП на два станка ДТ-16 с доставкой в Караганду.",
        ),
        ("telegram", accountant, 20 * 24, "Акт сверки за квартал получили, подписали, отправили оригинал почтой."),
        (
            "whatsapp",
            purchaser,
            6 * 24,
            "Станки приняли, всё в порядке. Нужен выезд наладчика на следующей неделе.",
        ),
        ("telegram", purchaser, 26, "Счёт на запчасти оплатим в пятницу."),
    ):
        date = now - timedelta(hours=hours_ago)
        if channel == "telegram":
            Message._crm_process_telegram(telegram_update(partner, date, body))
            continue
        Message._crm_receive(
            channel,
            f"demo-{channel}-{hours_ago}",
            date,
            body,
            sender=partner.crm_whatsapp,
            sender_name=partner.name,
            partner=partner,
        )
    Message._crm_receive(
        "whatsapp",
        "demo-whatsapp-new-lead",
        now - timedelta(hours=3),
        "Здравствуйте, у вас есть фрезерные станки в наличии?",
        sender="+77075550199",
        sender_name="Марат",
    )
    Call = env["crm.call"]
    calls = Call.create(
        [
            {
                "partner_id": purchaser.id,
                "user_id": user.id,
                "company_id": company.id,
                "direction": "outbound",
                "date": now - timedelta(days=29, hours=3),
                "duration": 412,
                "phone": purchaser.mobile,
                "summary": "Обсудили КП на два станка ДТ-16: скидка 3% при оплате в течение 10 дней, "
                "доставка за наш счёт.",
                "recording": ringback_wav(),
                "recording_filename": "call-2026-saparov.wav",
            },
            {
                "partner_id": accountant.id,
                "user_id": user.id,
                "company_id": company.id,
                "direction": "inbound",
                "date": now - timedelta(days=12, hours=5),
                "duration": 95,
                "phone": accountant.phone,
                "summary": "Бухгалтер запросила акт сверки за квартал, отправили на почту.",
            },
        ]
    )
    won_stage = env["crm.stage"].search([("is_won", "=", True)], limit=1)
    won, opened = env["crm.lead"].create(
        [
            {
                "name": "Модернизация цеха: 2 станка ДТ-16",
                "type": "opportunity",
                "partner_id": mash.id,
                "user_id": user.id,
                "company_id": company.id,
                "expected_revenue": 4_700_000,
                "stage_id": won_stage.id,
            },
            {
                "name": "Годовое сервисное обслуживание станочного парка",
                "type": "opportunity",
                "partner_id": mash.id,
                "user_id": user.id,
                "company_id": company.id,
                "expected_revenue": 1_800_000,
                "probability": 40,
            },
        ]
    )
    set_xmlids(
        env,
        {
            "call_mashstroy_recorded_demo": calls[0],
            "lead_mashstroy_won_demo": won,
            "lead_mashstroy_open_demo": opened,
        },
    )


# ------------------------------------------------------------------ documents
def create_documents(env, company, user, pricelist, orders, invoices):
    """Confirm the orders and invoice them, post every invoice in date order and pay them.

    ``orders`` and ``invoices`` are lists of (invoiced partner, ordering partner, date,
    [(product, quantity, price)], payment term, days from the invoice to its payment or None).
    """
    sale_orders = env["sale.order"].create(
        [
            {
                "partner_id": ordering.id,
                "partner_invoice_id": partner.id,
                "partner_shipping_id": partner.id,
                "user_id": user.id,
                "company_id": company.id,
                "pricelist_id": pricelist.id,
                "payment_term_id": term.id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "price_unit": price,
                            "tax_id": [Command.clear()],
                        }
                    )
                    for product, qty, price in lines
                ],
            }
            for partner, ordering, _day, lines, term, _paid_after in orders
        ]
    )
    sale_orders.action_confirm()
    # confirming dates an order today: give each order its day in the story back
    for order, (_partner, _ordering, day, *_rest) in zip(sale_orders, orders, strict=False):
        order.date_order = fields.Datetime.to_datetime(day) + timedelta(hours=10)
    order_invoices = sale_orders._create_invoices(grouped=True)
    for order, (_partner, _ordering, day, *_rest) in zip(sale_orders, orders, strict=False):
        order.invoice_ids.invoice_date = day

    plain_invoices = env["account.move"].create(
        [
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": day,
                "invoice_user_id": user.id,
                "company_id": company.id,
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "quantity": qty,
                            "price_unit": price,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, qty, price in lines
                ],
            }
            for partner, _ordering, day, lines, term, _paid_after in invoices
        ]
    )
    # one post: numbers follow the invoice dates
    all_invoices = order_invoices | plain_invoices
    all_invoices.action_post()

    paid_after = [document[-1] for document in orders] + [document[-1] for document in invoices]
    by_order = {order.id: order.invoice_ids for order in sale_orders}
    documents = [by_order[order.id] for order in sale_orders] + list(plain_invoices)
    pay_invoices(
        env,
        company,
        [
            (invoice, invoice.invoice_date + timedelta(days=delay))
            for invoice, delay in zip(documents, paid_after, strict=False)
            if delay is not None
        ],
    )


def pay_invoices(env, company, invoice_dates):
    """Register a full payment of each invoice on its date, as the payment register wizard
    does, in batch: create and post the payments, then reconcile each with its invoice."""
    journal = env["account.journal"].search(
        [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")], limit=1
    )
    payments = env["account.payment"].create(
        [
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": invoice.commercial_partner_id.id,
                "amount": invoice.amount_residual,
                "currency_id": invoice.currency_id.id,
                "date": day,
                "journal_id": journal.id,
                "company_id": company.id,
                "memo": invoice.name,
                "invoice_ids": [Command.set(invoice.ids)],
            }
            for invoice, day in invoice_dates
        ]
    )
    payments.action_post()
    plan = [
        (payment.move_id.line_ids | invoice.line_ids).filtered(
            lambda line: line.account_id.account_type == "asset_receivable" and not line.reconciled
        )
        for payment, (invoice, _day) in zip(payments, invoice_dates, strict=False)
    ]
    env["account.move.line"]._reconcile_plan(plan)
    return payments


# Telegram users of the story: a private chat is known to the Bot API by the user's numeric id, which
# is the chat_id replies go to; the username (the contacts' handle on the card) is only a name
TELEGRAM_USERS = {
    "saparov_mashstroy": (5208471936, "Ержан", "Сапаров"),
    "buh_mashstroy": (5310284417, "Гульнара", "Ахметова"),
}


def telegram_update(partner, date, text):
    """The Bot API ``Update`` of a message that ``partner`` wrote to the bot at ``date`` (UTC)."""
    user_id, first_name, last_name = TELEGRAM_USERS[partner.crm_telegram]
    moment = int(date.replace(tzinfo=timezone.utc).timestamp())
    user = {"id": user_id, "first_name": first_name, "last_name": last_name, "username": partner.crm_telegram}
    return {
        "update_id": 804110000 + moment % 10000,
        "message": {
            "message_id": moment % 100000,
            "from": {**user, "is_bot": False, "language_code": "ru"},
            "chat": {**user, "type": "private"},
            "date": moment,
            "text": text,
        },
    }


def ringback_wav(seconds=2, rate=8000):
    """A short WAV (two tones, like a ringback) so that the demo call has something to play."""
    frames = bytearray()
    for index in range(seconds * rate):
        tone = 425 if (index // (rate // 2)) % 2 == 0 else 0
        value = int(8000 * math.sin(2 * math.pi * tone * index / rate))
        frames += struct.pack("<h", value)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(bytes(frames))
    return base64.b64encode(buffer.getvalue())
