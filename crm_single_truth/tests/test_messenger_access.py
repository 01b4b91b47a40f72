from odoo.tests import HttpCase, new_test_user, tagged

from .common import call_kw


@tagged("post_install", "-at_install")
class TestMessengerAccess(HttpCase):
    """The public methods of conversations and calls, called through RPC as the web client does, by
    a portal user, a salesperson of the customer, another salesperson, a user of another company
    and a manager. Hiding a button is not a permission."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("crm_single_truth.whatsapp_token", "")
        cls.other_company = cls.env["res.company"].create({"name": "ТОО «Другая Компания»"})
        cls.owner = new_test_user(cls.env, login="conv.owner", groups="base.group_user,sales_team.group_sale_salesman")
        cls.colleague = new_test_user(
            cls.env, login="conv.colleague", groups="base.group_user,sales_team.group_sale_salesman"
        )
        cls.manager = new_test_user(
            cls.env, login="conv.manager", groups="base.group_user,sales_team.group_sale_salesman_all_leads"
        )
        cls.stranger = new_test_user(
            cls.env,
            login="conv.stranger",
            groups="base.group_user,sales_team.group_sale_salesman_all_leads",
            company_id=cls.other_company.id,
            company_ids=[cls.other_company.id],
        )
        cls.portal = new_test_user(cls.env, login="conv.portal", groups="base.group_portal")
        company = cls.env.company
        cls.customer = cls.env["res.partner"].create(
            {"name": "ТОО «Доступ»", "is_company": True, "user_id": cls.owner.id, "company_id": company.id}
        )
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Айгерим",
                "parent_id": cls.customer.id,
                "crm_whatsapp": "+7 701 555 00 11",
                "company_id": company.id,
            }
        )
        cls.inbound = (
            cls.env["crm.messenger.message"]
            .sudo()
            ._crm_receive(
                "whatsapp", "wamid.ACCESS1", "2026-11-28 10:00:00", "Добрый день", "+77015550011", partner=cls.contact
            )
        )
        cls.call = cls.env["crm.call"].create(
            {"partner_id": cls.contact.id, "user_id": cls.owner.id, "recording_url": "https://pbx.example.kz/1.mp3"}
        )
        cls.call.sudo().write({"recording_state": "failed", "recording_ref": "r1"})

    def rpc(self, login, model, method, args, **kwargs):
        return call_kw(self, login, model, method, args, kwargs)

    def assertDenied(self, answer, error="odoo.exceptions.AccessError"):  # noqa: N802 - unittest style
        self.assertIn("error", answer, answer)
        self.assertEqual(answer["error"]["data"]["name"], error)

    def test_send_message(self):
        args = [[self.contact.id], "whatsapp", "Здравствуйте"]
        for login in ("conv.portal", "conv.colleague", "conv.stranger"):
            self.assertDenied(self.rpc(login, "res.partner", "crm_send_message", args))
        self.assertFalse(self.env["crm.messenger.message"].search([("direction", "=", "out")]))
        for login, user in (("conv.owner", self.owner), ("conv.manager", self.manager)):
            answer = self.rpc(login, "res.partner", "crm_send_message", args)
            message = self.env["crm.messenger.message"].browse(answer["result"])
            self.assertEqual((message.direction, message.user_id, message.partner_id), ("out", user, self.contact))

    def test_send_message_cannot_attach_documents_the_caller_cannot_read(self):
        theirs = self.env["res.partner"].create(
            {"name": "ТОО «Чужой»", "is_company": True, "user_id": self.colleague.id}
        )
        their_call = self.env["crm.call"].create({"partner_id": theirs.id, "user_id": self.colleague.id})
        private = self.env["ir.attachment"].create(
            {"name": "their-contract.pdf", "raw": b"%PDF", "res_model": "crm.call", "res_id": their_call.id}
        )
        answer = self.rpc(
            "conv.owner", "res.partner", "crm_send_message", [[self.contact.id], "whatsapp", "x", [private.id]]
        )
        self.assertDenied(answer)
        self.assertFalse(self.env["crm.messenger.message"].search([("direction", "=", "out")]))

    def test_reply_actions(self):
        for method in ("action_crm_reply_whatsapp", "action_crm_reply_telegram"):
            for login in ("conv.portal", "conv.colleague", "conv.stranger"):
                self.assertDenied(self.rpc(login, "res.partner", method, [[self.contact.id]]))
            answer = self.rpc("conv.owner", "res.partner", method, [[self.contact.id]])
            self.assertEqual(answer["result"]["res_model"], "crm.messenger.reply.wizard")
        for login in ("conv.portal", "conv.colleague", "conv.stranger"):
            self.assertDenied(self.rpc(login, "crm.messenger.message", "action_reply", [[self.inbound.id]]))
        answer = self.rpc("conv.owner", "crm.messenger.message", "action_reply", [[self.inbound.id]])
        self.assertEqual(answer["result"]["context"]["default_reply_to_id"], self.inbound.id)
        event = self.env["crm.timeline.event"].search(
            [("res_model", "=", "crm.messenger.message"), ("res_id", "=", self.inbound.id)]
        )
        self.assertEqual(len(event), 1)
        for login in ("conv.portal", "conv.colleague", "conv.stranger"):
            self.assertDenied(self.rpc(login, "crm.timeline.event", "action_reply", [[event.id]]))
            self.assertDenied(self.rpc(login, "crm.timeline.event", "action_open_document", [[event.id]]))
        self.assertEqual(
            self.rpc("conv.owner", "crm.timeline.event", "action_reply", [[event.id]])["result"]["target"], "new"
        )

    def test_reply_wizard(self):
        values = {"partner_id": self.contact.id, "channel": "whatsapp", "body": "Добрый день"}
        self.assertDenied(self.rpc("conv.portal", "crm.messenger.reply.wizard", "create", [values]))
        for login in ("conv.colleague", "conv.stranger"):
            answer = self.rpc(login, "crm.messenger.reply.wizard", "create", [values])
            if "result" in answer:
                read = self.rpc(login, "crm.messenger.reply.wizard", "read", [[answer["result"]], ["recipient"]])
                self.assertFalse(read["result"][0]["recipient"], "nothing about another's customer's conversations")
                self.assertDenied(self.rpc(login, "crm.messenger.reply.wizard", "action_send", [[answer["result"]]]))
        wizard_id = self.rpc("conv.owner", "crm.messenger.reply.wizard", "create", [values])["result"]
        self.assertEqual(
            self.rpc("conv.owner", "crm.messenger.reply.wizard", "action_send", [[wizard_id]])["result"]["type"],
            "ir.actions.act_window_close",
        )

    def test_fetch_recording(self):
        for login in ("conv.portal", "conv.colleague", "conv.stranger"):
            self.assertDenied(self.rpc(login, "crm.call", "action_fetch_recording", [[self.call.id]]))
        self.assertTrue(self.rpc("conv.owner", "crm.call", "action_fetch_recording", [[self.call.id]])["result"])

    def test_reading_conversations_follows_the_customer_and_the_company(self):
        for model, record in (
            ("crm.messenger.message", self.inbound),
            ("crm.messenger.chat", self.inbound.chat_id),
            ("crm.call", self.call),
        ):
            for login in ("conv.colleague", "conv.stranger"):
                answer = self.rpc(login, model, "search_read", [[("id", "=", record.id)]], fields=["id"])
                self.assertEqual(answer.get("result"), [], (model, login))
            self.assertDenied(self.rpc("conv.portal", model, "search_read", [[("id", "=", record.id)]], fields=["id"]))
            self.assertEqual(
                self.rpc("conv.owner", model, "search_read", [[("id", "=", record.id)]], fields=["id"])["result"],
                [{"id": record.id}],
            )
        # settings with tokens are for administrators only
        self.assertDenied(
            self.rpc("conv.manager", "ir.config_parameter", "get_param", ["crm_single_truth.whatsapp_token"])
        )
