from datetime import date, datetime, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestDunning(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer.email = "buyer@example.com"
        cls.policy = cls.env.ref("crm_receivables.dunning_policy_default")
        cls.env["crm.dunning.policy"].search([("id", "!=", cls.policy.id)]).is_default = False
        cls.customer.crm_dunning_policy_id = cls.policy
        cls.Policy = cls.env["crm.dunning.policy"]

    def run_on(self, day):
        return self.Policy._cron_run_dunning(date_ref=day)

    def levels_of(self, events):
        return sorted(events.mapped("offset_days"))

    def policy_of(self, invoice):
        """The policy the engine chases ``invoice`` with."""
        self.env.flush_all()
        source = self.env["account.move"]._crm_dunning_source_sql(self.Policy._crm_dunning_days(self.today))
        rows = self.env.execute_query(SQL("SELECT policy_id FROM (%s) s WHERE s.id = %s", source, invoice.id))
        return self.Policy.browse(rows[0][0])

    def customer_emails(self):
        return self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("message_type", "=", "comment"),
            ]
        )

    def test_each_level_day_by_day_once(self):
        invoice = self.invoice(1000.0, days_ago=0, due_days=10)
        due = invoice.invoice_date_due
        acted_on = {}
        for offset in range(-5, 20):
            events = self.run_on(due + timedelta(days=offset)).filtered(lambda e: e.move_id == invoice)
            if events:
                acted_on[offset] = self.levels_of(events)
        self.assertEqual(acted_on, {-3: [-3], 1: [1], 3: [3], 7: [7], 14: [14]})
        self.assertEqual(self.levels_of(invoice.crm_dunning_event_ids), [-3, 1, 3, 7, 14])
        self.assertEqual(self.customer.crm_dunning_event_ids, invoice.crm_dunning_event_ids)  # on the card too
        # a rerun on any day acts on nothing
        self.assertFalse(self.run_on(due + timedelta(days=14)).filtered(lambda e: e.move_id == invoice))
        self.assertEqual(len(self.customer_emails()), 3)  # -3, +1, +7 are emails
        call = invoice.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(len(call), 1)

    def test_late_cron_sends_only_the_highest_level_due(self):
        invoice = self.invoice(1000.0, days_ago=0, due_days=10)
        events = self.run_on(invoice.invoice_date_due + timedelta(days=9)).filtered(lambda e: e.move_id == invoice)
        self.assertEqual(self.levels_of(events), [7])
        self.assertEqual(len(self.customer_emails()), 1)
        self.assertIn("installment plan", self.customer_emails().body)

    def test_one_combined_email_per_customer(self):
        first = self.invoice(1000.0, days_ago=20, due_days=10)
        second = self.invoice(2000.0, days_ago=19, due_days=10)
        day = self.today + timedelta(days=1)
        # first is 11 days late (level 7), second 10 (level 7): one email listing both
        events = self.run_on(day).filtered(lambda e: e.partner_id == self.customer)
        self.assertEqual(events.move_id, first | second)
        emails = self.customer_emails()
        self.assertEqual(len(emails), 1)
        self.assertIn(first.name, emails.body)
        self.assertIn(second.name, emails.body)

    def test_pause_promise_and_do_not_dun(self):
        invoice = self.invoice(1000.0, days_ago=0, due_days=10)
        overdue_day = invoice.invoice_date_due + timedelta(days=2)
        self.customer.crm_dunning_paused_until = overdue_day
        self.assertFalse(self.run_on(overdue_day).filtered(lambda e: e.move_id == invoice))
        self.customer.crm_dunning_paused_until = False
        invoice.crm_dunning_paused_until = overdue_day
        self.assertFalse(self.run_on(overdue_day).filtered(lambda e: e.move_id == invoice))
        invoice.crm_dunning_paused_until = False
        self.customer.category_id = self.env.ref("crm_receivables.tag_do_not_dun")
        self.assertFalse(self.run_on(overdue_day).filtered(lambda e: e.move_id == invoice))
        self.customer.category_id = False
        self.assertEqual(self.levels_of(self.run_on(overdue_day).filtered(lambda e: e.move_id == invoice)), [1])

    def test_paid_invoices_are_not_chased(self):
        invoice = self.invoice(1000.0, days_ago=30, due_days=10)
        self.pay(invoice, days_ago=1)
        self.assertFalse(self.run_on(self.today).filtered(lambda e: e.move_id == invoice))

    def test_send_reminder_now(self):
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late: level +1
        invoice.action_crm_send_reminder_now()
        self.assertEqual(self.levels_of(invoice.crm_dunning_event_ids), [1])
        invoice.action_crm_send_reminder_now()  # already sent: nothing more
        self.assertEqual(len(invoice.crm_dunning_event_ids), 1)
        self.assertEqual(len(self.customer_emails()), 1)

    def test_demo_run_sends_each_reminder_once(self):
        company = self.env.ref("crm_single_truth.company_dala_demo", raise_if_not_found=False)
        if not company:
            self.skipTest("demo data not loaded")
        # the cron runs as the superuser over every company
        Policy = self.env["crm.dunning.policy"].sudo().with_context(allowed_company_ids=[company.id])
        late = self.env.ref("crm_single_truth.partner_late_payer_demo")
        first = Policy._cron_run_dunning(date_ref=self.today)
        self.assertIn(late, first.partner_id)  # its invoice 40 days late: the escalation level
        invoice_events = first.filtered(lambda e: e.partner_id == late and e.res_model == "account.move")
        self.assertEqual(invoice_events.mapped("offset_days"), [14])
        self.assertFalse(Policy._cron_run_dunning(date_ref=self.today))

    def test_one_email_per_run_across_levels(self):
        firm = self.invoice(1000.0, days_ago=21, due_days=10)  # 11 days late: level +7
        mild = self.invoice(2000.0, days_ago=12, due_days=10)  # 2 days late: level +1
        events = self.run_on(self.today).filtered(lambda e: e.partner_id == self.customer)
        self.assertEqual(sorted((e.move_id.id, e.offset_days) for e in events), [(firm.id, 7), (mild.id, 1)])
        emails = self.customer_emails()
        self.assertEqual(len(emails), 1)  # in the words of the firmest level, listing both
        self.assertIn("installment plan", emails.body)
        self.assertIn(firm.name, emails.body)
        self.assertIn(mild.name, emails.body)
        self.assertIn("Overdue reminder", mild.message_ids[:1].body)

    def test_late_cron_does_not_catch_up_lower_levels(self):
        invoice = self.invoice(1000.0, days_ago=0, due_days=10)
        due = invoice.invoice_date_due
        self.assertEqual(self.levels_of(self.run_on(due + timedelta(days=9))), [7])
        for offset in range(9, 14):
            self.assertFalse(self.run_on(due + timedelta(days=offset)).filtered(lambda e: e.move_id == invoice))
        self.assertEqual(
            self.levels_of(self.run_on(due + timedelta(days=14)).filtered(lambda e: e.move_id == invoice)), [14]
        )
        self.assertEqual(self.levels_of(invoice.crm_dunning_event_ids), [7, 14])

    def test_send_reminders_now_from_the_customer(self):
        first = self.invoice(1000.0, days_ago=12, due_days=10)
        second = self.invoice(500.0, days_ago=11, due_days=10)
        self.customer.action_crm_send_reminders_now()
        self.assertEqual((first | second).crm_dunning_event_ids.mapped("offset_days"), [1, 1])
        self.assertEqual(len(self.customer_emails()), 1)

    def test_policy_precedence_contract_customer_company(self):
        def policy(name, offset, **vals):
            return self.Policy.create(
                {
                    "name": name,
                    **vals,
                    "level_ids": [Command.create({"name": name, "offset_days": offset, "action": "activity_manager"})],
                }
            )

        company_policy = policy("Company", 2, company_id=self.env.company.id, is_default=True)
        customer_policy = policy("Customer", 4)
        contract_policy = policy("Contract", 6)
        invoice = self.invoice(1000.0, days_ago=30, due_days=10)  # 20 days late
        self.customer.crm_dunning_policy_id = False
        self.assertEqual(self.policy_of(invoice), company_policy)
        self.customer.crm_dunning_policy_id = customer_policy
        self.assertEqual(self.policy_of(invoice), customer_policy)
        contract = self.env["crm.contract"].create({"name": "D-1", "partner_id": self.customer.id, "state": "active"})
        invoice.crm_contract_id = contract
        self.assertEqual(self.policy_of(invoice), customer_policy)
        contract.crm_dunning_policy_id = contract_policy
        self.assertEqual(self.policy_of(invoice), contract_policy)
        events = self.run_on(self.today).filtered(lambda e: e.move_id == invoice)
        self.assertEqual((events.policy_id, events.offset_days), (contract_policy, 6))
        # the customer's policy is per company: another company's invoices keep their default
        company_2 = self.setup_other_company(name="Dunning Company Two")["company"]
        self.assertFalse(self.customer.with_company(company_2).crm_dunning_policy_id)

    def test_two_companies_each_with_its_default_policy(self):
        company_2 = self.setup_other_company(name="Dunning Company Two")["company"]
        self.env.user.company_ids |= company_2
        policy_2 = self.Policy.create(
            {
                "name": "Company Two",
                "company_id": company_2.id,
                "is_default": True,
                "level_ids": [
                    Command.create(
                        {
                            "name": "Late",
                            "offset_days": 5,
                            "action": "email_customer",
                            "mail_template_id": self.env.ref("crm_receivables.mail_template_dunning_overdue").id,
                        }
                    )
                ],
            }
        )
        self.customer.crm_dunning_policy_id = False
        here = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late
        there = self.invoice(2000.0, days_ago=16, due_days=10, company=company_2)  # 6 days late
        events = self.run_on(self.today).filtered(lambda e: e.move_id in (here | there))
        self.assertEqual(
            sorted((e.move_id.id, e.policy_id.id, e.offset_days) for e in events),
            sorted([(here.id, self.policy.id, 1), (there.id, policy_2.id, 5)]),
        )
        # one email per company, each in the name of the invoice's company
        emails = self.customer_emails()
        self.assertEqual(len(emails), 2)
        self.assertEqual(
            sorted((m.subject, "1,000.00" in m.body, "2,000.00" in m.body) for m in emails),
            sorted(
                [
                    (f"Overdue invoices at {self.env.company.name}", True, False),
                    (f"Overdue invoices at {company_2.name}", False, True),
                ]
            ),
        )

    def test_batches_report_what_truly_remains(self):
        invoices = [self.invoice(100.0 * (n + 1), days_ago=12, due_days=10) for n in range(3)]  # level +1
        progress = []
        Cron = type(self.env["ir.cron"])
        with patch.object(
            Cron,
            "_notify_progress",
            lambda _self, *, done, remaining, deactivate=False: progress.append((done, remaining)),
        ):
            first = self.Policy._cron_run_dunning(date_ref=self.today, batch_size=2, partners=self.customer)
            second = self.Policy._cron_run_dunning(date_ref=self.today, batch_size=2, partners=self.customer)
            third = self.Policy._cron_run_dunning(date_ref=self.today, batch_size=2, partners=self.customer)
        self.assertEqual(progress, [(2, 1), (1, 0), (0, 0)])
        self.assertEqual((first | second).move_id, invoices[0] | invoices[1] | invoices[2])
        self.assertFalse(third)
        # the rerun's selection finds nothing to do
        days = self.Policy._crm_dunning_days(self.today)
        self.assertEqual(self.Policy._crm_dunning_candidates("account.move", days, self.customer.ids), [])

    def test_one_letter_per_customer_and_run_across_batches(self):
        """Batches take whole customers: invoices created in turns for two customers still make
        one letter each, not one per batch a customer's invoices fall in."""
        other = self.env["res.partner"].create(
            {"name": "Second Debtor LLP", "is_company": True, "email": "second@example.com"}
        )
        other.crm_dunning_policy_id = self.policy
        for amount in (100.0, 200.0):  # ids in turns: customer, other, customer, other
            self.invoice(amount, days_ago=12, due_days=10)
            self.invoice(amount, days_ago=12, due_days=10, partner=other)
        acted = self.Policy
        for _call in range(3):
            acted = self.Policy._cron_run_dunning(date_ref=self.today, batch_size=3, partners=self.customer | other)
            if not acted:
                break
        self.assertFalse(acted)
        for partner in (self.customer, other):
            letters = self.env["mail.message"].search(
                [("model", "=", "res.partner"), ("res_id", "=", partner.id), ("message_type", "=", "comment")]
            )
            self.assertEqual(len(letters), 1, partner.name)
            self.assertEqual(len(partner.crm_dunning_event_ids), 2)
            mail = self.env["mail.mail"].search([("mail_message_id", "=", letters.id)])
            self.assertEqual((mail.recipient_ids, mail.state), (partner, "outgoing"))  # the email queued for it
            self.assertEqual(letters.notification_ids.mapped("notification_status"), ["ready"])

    def test_reminder_email_is_laid_out_as_message_post_sends_it(self):
        """The reminder is queued in SQL but the customer receives what ``message_post`` sends:
        the body inside the notification layout (customer's name, company footer, signature)."""
        self.customer.write({"lang": "ru_RU", "name": "ТОО «Тау & Ко» / Алматы"})  # escaped, '/' shown as '-'
        self.env["res.lang"]._activate_lang("ru_RU")
        invoice = self.invoice(100.0, days_ago=12, due_days=10)
        self.run_on(self.today)
        letter = self.customer_emails()
        mail = self.env["mail.mail"].search([("mail_message_id", "=", letter.id)])
        self.assertEqual(len(mail), 1)
        level = self.customer.crm_dunning_event_ids.level_id
        subject, body = self.Policy._render_reminder(mail.recipient_ids, level, invoice)
        self.assertEqual(level.mail_template_id.email_layout_xmlid, "mail.mail_notification_light")
        stock = self.customer.with_context(mail_notify_force_send=False).message_post(
            body=body,
            subject=subject,
            partner_ids=mail.recipient_ids.ids,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid=level.mail_template_id.email_layout_xmlid,  # as message_post_with_source
        )
        stock_mail = self.env["mail.mail"].search([("mail_message_id", "=", stock.id)])
        self.assertEqual((letter.body, mail.body_html), (stock.body, stock_mail.body_html))
        self.assertIn(str(letter.body), mail.body_html)
        self.assertIn("ТОО «Тау &amp; Ко» - Алматы", mail.body_html)
        self.assertIn(self.env.company.name, mail.body_html)
        self.assertNotEqual(mail.body_html, str(letter.body))

    def test_activities_without_an_assignment_email_each(self):
        """A run schedules its activities in one batch, without emailing the assignee once per activity."""
        seller = self.env["res.users"].create({"name": "Busy Seller", "login": "busy.seller", "email": "s@example.com"})
        invoices = [self.invoice(100.0 * (n + 1), days_ago=14, due_days=10) for n in range(3)]  # 4 days late: a call
        for invoice in invoices:
            invoice.invoice_user_id = seller
        self.run_on(self.today)
        calls = self.env["mail.activity"].search(
            [("res_model", "=", "account.move"), ("res_id", "in", [invoice.id for invoice in invoices])]
        )
        self.assertEqual((len(calls), calls.user_id), (3, seller))
        self.assertFalse(
            self.env["mail.message"].search([("partner_ids", "in", seller.partner_id.ids)]),
            "no 'activity assigned to you' email per activity",
        )
        # an invoice only getting an activity needs no link to pay online written on it
        self.assertFalse(invoices[0].access_token)

    def test_several_actions_on_the_same_day(self):
        self.policy.level_ids.filtered(lambda level: level.offset_days == 1).copy(
            {"name": "Call too", "action": "activity_manager", "channel": "activity", "mail_template_id": False}
        )
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late
        events = self.run_on(self.today).filtered(lambda e: e.move_id == invoice)
        self.assertEqual(sorted(events.mapped("action")), ["activity_manager", "email_customer"])
        self.assertEqual(sorted(events.mapped("channel")), ["activity", "email"])
        self.assertFalse(self.run_on(self.today).filtered(lambda e: e.move_id == invoice))

    def test_company_local_date(self):
        """At 02:30 in Almaty it is still the day before in UTC: the cron works on Almaty's date."""
        self.env.company.partner_id.tz = "Asia/Almaty"
        with freeze_time(datetime(2024, 1, 10, 20, 30)):  # 2024-01-11 02:30 in Almaty (UTC+6 then)
            self.assertEqual(self.env.company._crm_today(), date(2024, 1, 11))
            invoice = self.init_invoice(
                "out_invoice", partner=self.customer, invoice_date=date(2024, 1, 1), amounts=[1000.0], taxes=[]
            )
            invoice.write({"invoice_payment_term_id": False, "invoice_date_due": date(2024, 1, 10)})
            invoice.action_post()
            events = self.Policy._cron_run_dunning(partners=self.customer)  # no date_ref: each company's today
        self.assertEqual((events.move_id, events.offset_days, events.date), (invoice, 1, date(2024, 1, 11)))
        self.env.company.partner_id.tz = "UTC"
        self.assertEqual(self.env.company._crm_today(datetime(2024, 1, 10, 20, 30)), date(2024, 1, 10))


@tagged("post_install", "-at_install")
class TestDunningNetsCredits(CrmKpiCommon):
    def test_money_already_credited_is_not_chased(self):
        policy = self.env.ref("crm_receivables.dunning_policy_default")
        self.customer.write({"email": "credited@example.com", "crm_dunning_policy_id": policy.id})
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days overdue
        self.invoice(1000.0, days_ago=1, move_type="out_refund")  # credited in full, not applied
        Policy = self.env["crm.dunning.policy"]
        events = Policy._cron_run_dunning(date_ref=self.today).filtered(lambda e: e.move_id == invoice)
        self.assertFalse(events)
        self.assertEqual(self.customer.crm_overdue_debt, 0.0)
