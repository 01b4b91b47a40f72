"""Reminders through their channels, to the right person, day by day, each action once."""

from datetime import timedelta
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.crm_single_truth.tests.common import CrmKpiCommon


@tagged("post_install", "-at_install")
class TestDunningChannels(CrmKpiCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for code in ("ru_RU", "kk_KZ"):
            cls.env["res.lang"]._activate_lang(code)
        cls.seller = cls.env["res.users"].create(
            {
                "name": "Dunning Seller",
                "login": "dunning.seller",
                "groups_id": [Command.link(cls.env.ref("base.group_user").id)],
            }
        )
        cls.customer.write({"email": "office@kazlog.example", "user_id": cls.seller.id, "lang": "ru_RU"})
        cls.accountant = cls.env["res.partner"].create(
            {
                "name": "Петрова Анна Сергеевна",
                "parent_id": cls.customer.id,
                "type": "contact",
                "crm_contact_role": "accountant",
                "email": "buh@kazlog.example",
                "crm_whatsapp": "+7 701 555 10 21",
                "lang": "ru_RU",
            }
        )
        cls.director = cls.env["res.partner"].create(
            {
                "name": "Касымов Бауыржан Ерланович",
                "parent_id": cls.customer.id,
                "type": "contact",
                "crm_contact_role": "director",
                "email": "director@kazlog.example",
                "crm_telegram": "kasymov_director",
                "lang": "kk_KZ",
            }
        )
        template = cls.env.ref("crm_receivables.mail_template_dunning_friendly")
        overdue = cls.env.ref("crm_receivables.mail_template_dunning_overdue")
        cls.policy = cls.env["crm.dunning.policy"].create(
            {
                "name": "Channels",
                "level_ids": [
                    Command.create({"name": "Soon", "offset_days": -3, "mail_template_id": template.id}),
                    Command.create(
                        {
                            "name": "Soon: call",
                            "offset_days": -3,
                            "action": "activity_manager",
                            "activity_summary": "Call",
                        }
                    ),
                    Command.create({"name": "Late", "offset_days": 1, "mail_template_id": overdue.id}),
                    Command.create(
                        {
                            "name": "Late: WhatsApp",
                            "offset_days": 3,
                            "channel": "whatsapp",
                            "mail_template_id": overdue.id,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Late: Telegram",
                            "offset_days": 5,
                            "channel": "telegram",
                            "mail_template_id": overdue.id,
                        }
                    ),
                    Command.create({"name": "Escalate", "offset_days": 10, "action": "activity_supervisor"}),
                ],
            }
        )
        cls.customer.crm_dunning_policy_id = cls.policy
        cls.ResPartner = type(cls.env["res.partner"])

    def run_on(self, day, invoice):
        # a real PDF (Odoo renders HTML in tests unless told otherwise)
        Policy = self.env["crm.dunning.policy"].with_context(force_report_rendering=True)
        events = Policy._cron_run_dunning(date_ref=day)
        return events.filtered(lambda e: e.move_id == invoice)

    def customer_messages(self):
        return self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id), ("message_type", "=", "comment")],
            order="id",
        )

    def test_day_by_day_right_person_right_channel_once(self):
        sent = []

        def crm_send_message(partner, channel, body, attachment_ids=None):
            sent.append((partner, channel, body, list(attachment_ids or [])))
            return partner.env["mail.message"]

        invoice = self.invoice(1000.0, days_ago=0, due_days=10)
        due = invoice.invoice_date_due
        acted = {}
        with patch.object(self.ResPartner, "crm_send_message", crm_send_message, create=True):
            for offset in range(-6, 16):
                events = self.run_on(due + timedelta(days=offset), invoice)
                if events:
                    acted[offset] = sorted((e.level_id.name, e.action, e.channel, e.recipient_id.name) for e in events)
                # a second run the same day acts on nothing
                self.assertFalse(self.run_on(due + timedelta(days=offset), invoice))
        self.assertEqual(
            acted,
            {
                -3: [
                    ("Soon", "email_customer", "email", "Петрова Анна Сергеевна"),
                    ("Soon: call", "activity_manager", "activity", False),
                ],
                1: [("Late", "email_customer", "email", "Петрова Анна Сергеевна")],
                3: [("Late: WhatsApp", "email_customer", "whatsapp", "Петрова Анна Сергеевна")],
                # the accountant has no Telegram: the director gets it, in Kazakh
                5: [("Late: Telegram", "email_customer", "telegram", "Касымов Бауыржан Ерланович")],
                10: [("Escalate", "activity_supervisor", "activity", False)],
            },
        )
        # each (document, level, action) exactly once
        events = invoice.crm_dunning_event_ids
        self.assertEqual(len(events), 6)
        self.assertEqual(len({(e.res_id, e.level_id, e.action) for e in events}), 6)
        # two emails, to the accountant, greeting her by name and patronymic, each with the invoice PDF
        emails = self.customer_messages()
        self.assertEqual(len(emails), 2)
        for email in emails:
            self.assertEqual(email.partner_ids, self.accountant)
            self.assertIn("Уважаемая Анна Сергеевна!", email.body)
            self.assertIn(invoice.name, email.body)
            self.assertEqual(email.attachment_ids.mapped("name"), [invoice._get_invoice_report_filename()])
            self.assertEqual(email.attachment_ids.mimetype, "application/pdf")
            self.assertTrue(email.attachment_ids.raw.startswith(b"%PDF"))
        self.assertEqual(invoice.invoice_pdf_report_id.name, invoice._get_invoice_report_filename())
        # the messengers: WhatsApp to the accountant (ru), Telegram to the director (kk), PDF as a document
        self.assertEqual(
            [(p, c) for p, c, _b, _a in sent], [(self.accountant, "whatsapp"), (self.director, "telegram")]
        )
        whatsapp_body, telegram_body = sent[0][2], sent[1][2]
        self.assertTrue(whatsapp_body.startswith("Уважаемая Анна Сергеевна!"), whatsapp_body)
        self.assertTrue(telegram_body.startswith("Құрметті Бауыржан Ерланович!"), telegram_body)
        self.assertIn(invoice.name, telegram_body)
        for _partner, _channel, _body, attachment_ids in sent:
            attachment = self.env["ir.attachment"].browse(attachment_ids)
            self.assertEqual(attachment.name, invoice._get_invoice_report_filename())
            self.assertTrue(attachment.raw.startswith(b"%PDF"))
        # the activities: the salesperson's call, and the supervisor's escalation (no team leader
        # nor supervisor: the salesperson too)
        calls = invoice.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual((len(calls), calls.user_id), (1, self.seller))
        todo = invoice.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_todo")
        )
        self.assertEqual((len(todo), todo.user_id), (1, self.seller))
        self.assertEqual(events.filtered(lambda e: e.action == "activity_supervisor").user_id, self.seller)

    def test_supervisor_is_the_team_leader_then_the_policy_supervisor(self):
        leader = self.env["res.users"].create({"name": "Team Leader", "login": "dunning.leader"})
        supervisor = self.env["res.users"].create({"name": "Supervisor", "login": "dunning.supervisor"})
        self.policy.supervisor_id = supervisor
        team = self.env["crm.team"].create({"name": "Dunning Team", "user_id": leader.id})
        first = self.invoice(1000.0, days_ago=30, due_days=10)  # 20 days late: the escalation
        second = self.invoice(500.0, days_ago=30, due_days=10)
        first.team_id = team
        second.team_id = False
        events = (
            self.env["crm.dunning.policy"]
            ._cron_run_dunning(date_ref=self.today)
            .filtered(lambda e: e.move_id in first | second)
        )
        self.assertEqual(
            sorted((e.move_id.id, e.user_id.id) for e in events),
            sorted([(first.id, leader.id), (second.id, supervisor.id)]),
        )
        self.assertEqual(first.activity_ids.user_id, leader)
        self.assertEqual(second.activity_ids.user_id, supervisor)

    def test_without_contacts_the_company_is_greeted(self):
        (self.accountant | self.director).unlink()
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late: "Late" by email
        events = self.run_on(self.today, invoice)
        self.assertEqual(events.recipient_id, self.customer)
        email = self.customer_messages()
        self.assertEqual(email.partner_ids, self.customer)
        self.assertIn(f"Здравствуйте, {self.customer.name}!", email.body)

    def test_failed_messenger_is_recorded_not_resent(self):
        def refuse(partner, channel, body, attachment_ids=None):
            raise UserError(partner.env._("WhatsApp is not configured"))

        invoice = self.invoice(1000.0, days_ago=13, due_days=10)  # 3 days late: WhatsApp
        with patch.object(self.ResPartner, "crm_send_message", refuse, create=True):
            events = self.run_on(self.today, invoice)
            self.assertEqual(
                (events.channel, events.state, events.error), ("whatsapp", "failed", "WhatsApp is not configured")
            )
            self.assertFalse(self.run_on(self.today, invoice))

    def test_printing_failure_does_not_stop_the_reminder(self):
        invoice = self.invoice(1000.0, days_ago=12, due_days=10)  # 2 days late: "Late" by email
        Report = type(self.env["ir.actions.report"])

        def broken(report, report_ref, res_ids=None, data=None):
            raise ValueError("wkhtmltopdf produced an empty file")

        with (
            patch.object(Report, "_pre_render_qweb_pdf", broken),
            self.assertLogs("odoo.addons.crm_receivables.models.account_move", "WARNING"),
        ):
            events = self.run_on(self.today, invoice)
        self.assertEqual((events.state, events.recipient_id), ("done", self.accountant))
        email = self.customer_messages()
        self.assertEqual((len(email), email.attachment_ids), (1, self.env["ir.attachment"]))
