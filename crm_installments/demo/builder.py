"""Demo data of crm_installments, for the demo company of crm_single_truth: an installment plan of
ТОО «КазЛогистик» under its contract with a late line and its penalty, and the student's running
subscription. Built through the ORM, dated relative to today; does nothing without the demo company
or when built already. Plain Python, imported only when demo data is loaded
(``ir.module.module._crm_load_demo``)."""

from datetime import timedelta

from dateutil.relativedelta import relativedelta

MODULE = "crm_installments"


def load(env):
    company = env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)
    if not company or env.ref(f"{MODULE}.installment_plan_late_demo", raise_if_not_found=False):
        return
    env = env(
        context=dict(
            env.context,
            allowed_company_ids=[company.id],
            tracking_disable=True,
            mail_create_nolog=True,
            mail_create_nosubscribe=True,
            mail_notrack=True,
        )
    )
    create_demo(env, company)


def create_demo(env, company):
    today = company._crm_today()  # the demo company's date, as its crons see it
    admin = env.ref("base.user_admin")
    late = env.ref("crm_single_truth.partner_late_payer_demo")
    contract = env.ref("crm_single_truth.contract_late_payer_demo")
    student = env.ref("crm_single_truth.partner_student_demo")
    Plan = env["crm.installment.plan"]
    # 1,200,000 ₸ of equipment in 40,000 ₸ down and 4 monthly installments, the first one
    # 35 days late and half paid, the second 5 days late (in the grace period)
    first = today - relativedelta(months=1) - timedelta(days=5)
    plan = Plan.create(
        {
            "partner_id": late.id,
            "contract_id": contract.id,
            "company_id": company.id,
            "currency_id": company.currency_id.id,
            "user_id": admin.id,
            "amount_total": 1_200_000,
            "down_payment": 40_000,
            "date_down_payment": first - relativedelta(months=1),
            "installment_count": 4,
            "interval": "month",
            "date_first": first,
        }
    )
    plan.action_confirm()
    plan.register_payment(40_000, first - relativedelta(months=1))
    plan.register_payment(150_000, first + timedelta(days=20))
    Plan.sudo().with_context(allowed_company_ids=[company.id])._cron_accrue_penalties(date_ref=today)

    # the student's monthly course becomes a subscription: 45,000 ₸ a month; the invoices of
    # the story are its billed periods, the next one is billed by the cron next month
    invoices = env["account.move"].search(
        [
            ("partner_id", "=", student.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("company_id", "=", company.id),
        ],
        order="invoice_date, id",
    )
    course = invoices.invoice_line_ids.product_id[:1]
    start = invoices[:1].invoice_date or today
    subscription = env["crm.subscription"].create(
        {
            "name": "Онлайн-курс «Оператор станков с ЧПУ»",
            "partner_id": student.id,
            "company_id": company.id,
            "product_id": course.id,
            "amount": 45_000,
            "interval": "month",
            "date_start": start,
            "user_id": admin.id,
            "state": "running",
        }
    )
    env["crm.subscription.period"].create(
        [
            {
                "subscription_id": subscription.id,
                "date": start + relativedelta(months=index),
                "amount": 45_000,
                "company_id": company.id,
                "move_id": invoice.id,
            }
            for index, invoice in enumerate(invoices)
        ]
    )
    env["ir.model.data"]._update_xmlids(
        [
            {"xml_id": f"{MODULE}.installment_plan_late_demo", "record": plan, "noupdate": True},
            {"xml_id": f"{MODULE}.subscription_student_demo", "record": subscription, "noupdate": True},
        ]
    )
