from datetime import date

from psycopg2 import IntegrityError

from odoo.exceptions import UserError, ValidationError
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from ..models.crm_contract import renewal_dates


@tagged("post_install", "-at_install")
class TestContract(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # pytest-odoo does not flag Odoo 18's test mode: keep assignment notifications queued
        cls.env = cls.env(context=dict(cls.env.context, mail_notify_force_send=False))
        cls.partner = cls.env["res.partner"].create({"name": "ТОО Контракт", "is_company": True})
        cls.owner = cls.env["res.users"].create({"name": "Contract Owner", "login": "contract.owner"})
        cls.expiry_type = cls.env.ref("crm_single_truth.mail_activity_type_contract_expiry")
        cls.Contract = cls.env["crm.contract"]

    def make(self, **values):
        return self.Contract.create(
            {
                "name": values.pop("name", "K-1"),
                "partner_id": self.partner.id,
                "user_id": self.owner.id,
                "date_start": date(2026, 1, 1),
                "date_end": date(2026, 12, 31),
                **values,
            }
        )

    def expiry_activities(self, contracts):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.contract"),
                ("res_id", "in", contracts.ids),
                ("activity_type_id", "=", self.expiry_type.id),
            ]
        )

    def test_reminder_once_then_expiry(self):
        contract = self.make(expiry_reminder_days=30)
        contract.action_activate()
        self.assertEqual(contract.expiry_reminder_date, date(2026, 12, 1))
        self.Contract._cron_check_expiry(date_ref=date(2026, 11, 30))  # 31 days before the end
        self.assertFalse(self.expiry_activities(contract))
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 1))  # 30 days before
        activity = self.expiry_activities(contract)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.owner)
        self.assertEqual(activity.date_deadline, date(2026, 12, 31))
        self.assertTrue(contract.expiry_reminder_sent)
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 1))  # rerun the same day
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 15))  # and later
        self.assertEqual(self.expiry_activities(contract), activity)
        self.assertEqual(contract.state, "active")
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 31))  # last day: still active
        self.assertEqual(contract.state, "active")
        self.Contract._cron_check_expiry(date_ref=date(2027, 1, 1))
        self.assertEqual(contract.state, "expired")
        # the reminder is still the owner's to close (renew, or mark it done)
        self.assertEqual(self.expiry_activities(contract), activity)
        self.Contract._cron_check_expiry(date_ref=date(2027, 1, 2))
        self.assertEqual(self.expiry_activities(contract), activity)
        notes = contract.message_ids.filtered(lambda m: "The contract ended on" in m.body)
        self.assertEqual(len(notes), 1)

    def test_contract_found_late_is_reminded_and_expired(self):
        # activated with 10 days left although reminders start 30 days before: reminded at once
        contract = self.make()
        contract.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 21))
        self.assertEqual(len(self.expiry_activities(contract)), 1)
        # activated after its end: expired, not reminded
        late = self.make(name="K-2")
        late.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2027, 3, 1))
        self.assertEqual(late.state, "expired")
        self.assertFalse(self.expiry_activities(late))

    def test_new_end_date_gets_a_new_reminder(self):
        contract = self.make()
        contract.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 10))
        self.assertEqual(len(self.expiry_activities(contract)), 1)
        contract.date_end = date(2027, 6, 30)  # extended: the old reminder is stale
        self.assertFalse(self.expiry_activities(contract))
        self.assertFalse(contract.expiry_reminder_sent)
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 11))
        self.assertFalse(self.expiry_activities(contract))
        self.Contract._cron_check_expiry(date_ref=date(2027, 5, 31))
        self.assertEqual(self.expiry_activities(contract).date_deadline, date(2027, 6, 30))
        contract.write({"date_end": date(2027, 6, 30), "note": "<p>same end date</p>"})
        self.assertEqual(len(self.expiry_activities(contract)), 1)

    def test_open_ended_and_draft_contracts_are_left_alone(self):
        draft = self.make()
        open_ended = self.make(name="K-2", date_end=False)
        open_ended.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2027, 6, 1))
        self.assertEqual((draft.state, open_ended.state), ("draft", "active"))
        self.assertFalse(self.expiry_activities(draft | open_ended))

    def test_cron_works_in_bounded_batches(self):
        contracts = self.Contract.create(
            [
                {
                    "name": f"B-{i}",
                    "partner_id": self.partner.id,
                    "user_id": self.owner.id,
                    "date_start": date(2026, 1, 1),
                    "date_end": date(2026, 6, 30),
                    "state": "active",
                }
                for i in range(3)
            ]
        )
        self.Contract._cron_check_expiry(date_ref=date(2026, 7, 1), batch_size=2)
        self.assertEqual(contracts.mapped("state"), ["expired", "expired", "active"])
        self.Contract._cron_check_expiry(date_ref=date(2026, 7, 1), batch_size=2)
        self.assertEqual(set(contracts.mapped("state")), {"expired"})

    def test_renewal_continues_for_the_same_length(self):
        contract = self.make(penalty_rate=0.1, penalty_grace_days=5, penalty_cap_percent=10.0, amount=1_000_000)
        contract.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 1))
        action = contract.action_renew()
        renewal = self.Contract.browse(action["res_id"])
        self.assertEqual((action["res_model"], action["views"]), ("crm.contract", [(False, "form")]))
        self.assertEqual(renewal.name, "K-1 (renewal)")
        self.assertEqual((renewal.date_start, renewal.date_end), (date(2027, 1, 1), date(2027, 12, 31)))
        self.assertEqual(renewal.state, "draft")
        self.assertEqual(
            (renewal.penalty_rate, renewal.penalty_grace_days, renewal.penalty_cap_percent, renewal.amount),
            (0.1, 5, 10.0, 1_000_000),
        )
        self.assertEqual((renewal.partner_id, renewal.user_id), (self.partner, self.owner))
        self.assertEqual(contract.renewal_id, renewal)
        self.assertEqual(renewal.renewed_from_id, contract)
        self.assertFalse(renewal.expiry_reminder_sent)
        # the reminder is done, and both chatters tell the story
        self.assertFalse(self.expiry_activities(contract))
        self.assertIn("Renewed by contract <a", contract.message_ids[0].body)
        self.assertIn(f'data-oe-id="{renewal.id}"', contract.message_ids[0].body)
        self.assertIn(f'data-oe-id="{contract.id}"', renewal.message_ids[0].body)
        feedback = contract.message_ids.filtered(lambda m: m.mail_activity_type_id == self.expiry_type)
        self.assertIn("Renewed by contract K-1 (renewal).", feedback.body)
        with self.assertRaisesRegex(UserError, "already renewed"):
            contract.action_renew()
        with self.assertRaisesRegex(UserError, "Only active or expired"):
            renewal.action_renew()
        self.assertEqual(self.partner.crm_contract_count, 2)

    def test_renewal_dates(self):
        self.assertEqual(renewal_dates(date(2026, 1, 1), date(2026, 12, 31)), (date(2027, 1, 1), date(2027, 12, 31)))
        # whole months stay whole months: January -> February, a quarter -> the next quarter
        self.assertEqual(renewal_dates(date(2026, 1, 1), date(2026, 1, 31)), (date(2026, 2, 1), date(2026, 2, 28)))
        self.assertEqual(renewal_dates(date(2026, 1, 1), date(2026, 3, 31)), (date(2026, 4, 1), date(2026, 6, 30)))
        # from mid-month: one month and 9 days, again
        self.assertEqual(renewal_dates(date(2026, 3, 15), date(2026, 4, 23)), (date(2026, 4, 24), date(2026, 6, 1)))
        # a leap year's 366 days are "one year": the next period is one year too
        self.assertEqual(renewal_dates(date(2028, 1, 1), date(2028, 12, 31)), (date(2029, 1, 1), date(2029, 12, 31)))

    def test_bad_input_is_refused(self):
        with self.assertRaisesRegex(ValidationError, "^Contract K-1 ends before it starts.$"):
            self.make(date_end=date(2025, 12, 31))
        # (assertRaises does not roll back a record created before its constraint failed: new numbers)
        self.make(name="K-0", date_end=date(2026, 1, 1))  # a one-day contract is fine
        for fname in ("penalty_rate", "penalty_grace_days", "penalty_cap_percent", "expiry_reminder_days"):
            with self.subTest(fname=fname), self.assertRaisesRegex(ValidationError, "cannot be negative"):
                self.make(name=f"K-{fname}", **{fname: -1})
        with self.assertRaisesRegex(UserError, "no end date"):
            open_ended = self.make(name="K-3", date_end=False)
            open_ended.action_activate()
            open_ended.action_renew()
        contract = self.make(name="K-4")
        contract.action_terminate()
        self.assertEqual(contract.state, "terminated")
        with self.assertRaises(UserError):
            contract.action_activate()
        with self.assertRaises(UserError):
            contract.action_terminate()

    def test_counterparty_is_the_company(self):
        person = self.env["res.partner"].create({"name": "Айгерим", "parent_id": self.partner.id})
        with self.assertRaisesRegex(ValidationError, "choose ТОО Контракт as the counterparty"), self.cr.savepoint():
            self.make(partner_id=person.id)
        individual = self.env["res.partner"].create({"name": "ИП Сейткали"})
        self.assertEqual(self.make(name="K-2", partner_id=individual.id).partner_id, individual)
        # the contact's card counts the company's contracts
        self.make(name="K-3")
        self.assertEqual(person.crm_contract_count, 1)
        self.assertEqual(self.partner.crm_contract_count, 1)
        action = person.action_crm_open_contracts()
        self.assertEqual(action["domain"], [("partner_id", "=", self.partner.id)])
        self.assertEqual(action["context"], {"default_partner_id": self.partner.id})

    def test_number_unique_per_company(self):
        self.make()
        other_company = self.env["res.company"].create({"name": "Second Company"})
        self.make(company_id=other_company.id)  # the same number in another company is fine
        self.assertEqual(self.make(name="K-9").copy().name, "K-9 (copy)")
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.make()

    def test_terminating_drops_the_reminder(self):
        contract = self.make()
        contract.action_activate()
        self.Contract._cron_check_expiry(date_ref=date(2026, 12, 20))
        self.assertEqual(len(self.expiry_activities(contract)), 1)
        contract.action_terminate()
        self.assertFalse(self.expiry_activities(contract))
