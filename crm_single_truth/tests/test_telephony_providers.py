import base64
import hashlib
import hmac
import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .fake_servers import AUDIO, FakeMangoApi, FakeZadarmaApi

ZADARMA_KEY = "a248a6a984459935b569"
ZADARMA_SECRET = "8a8e91d214fb728889c7"
MANGO_KEY = "1234567890qwerty"
MANGO_SALT = "salt-0987654321"


def zadarma_signature(text, secret=ZADARMA_SECRET):
    """As Zadarma's PHP documentation: base64_encode(hash_hmac('sha1', $string, $secret)), a hex digest."""
    return base64.b64encode(hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest().encode()).decode()


def mango_form(data, key=MANGO_KEY, salt=MANGO_SALT):
    """As Mango Office's documentation: vpbx_api_key, json and sign = sha256(vpbx_api_key + json + salt)."""
    text = json.dumps(data, separators=(",", ":"))
    return {"vpbx_api_key": key, "sign": hashlib.sha256((key + text + salt).encode()).hexdigest(), "json": text}


@tagged("post_install", "-at_install")
class TestTelephonyProviders(HttpCase):
    """Call notifications of Zadarma and Mango Office with the payloads and signatures of their
    documentation; the recordings fetched from the providers' (fake) APIs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.zadarma_api = FakeZadarmaApi(ZADARMA_KEY, ZADARMA_SECRET)
        cls.mango_api = FakeMangoApi(MANGO_KEY, MANGO_SALT)
        cls.addClassCleanup(cls.zadarma_api.stop)
        cls.addClassCleanup(cls.mango_api.stop)
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in {
            "zadarma_api_key": ZADARMA_KEY,
            "zadarma_api_secret": ZADARMA_SECRET,
            "zadarma_api_url": cls.zadarma_api.url,
            "zadarma_timezone": "Europe/Moscow",
            "mango_api_key": MANGO_KEY,
            "mango_api_salt": MANGO_SALT,
            "mango_api_url": f"{cls.mango_api.url}/vpbx",
        }.items():
            params.set_param(f"crm_single_truth.{key}", value)
        cls.seller = cls.env["res.users"].create(
            {
                "name": "Продавец Звонков",
                "login": "calls.seller",
                "groups_id": [(6, 0, [cls.env.ref("sales_team.group_sale_salesman").id])],
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "ТОО «Звонок»",
                "is_company": True,
                "user_id": cls.seller.id,
                "country_id": cls.env.ref("base.kz").id,
            }
        )
        cls.contact = cls.env["res.partner"].create(
            {"name": "Ерлан Сейтказы", "parent_id": cls.customer.id, "mobile": "+7 701 555 12 34"}
        )

    def calls(self, external_id):
        return self.env["crm.call"].search([("external_id", "=", external_id)])

    def callback_activities(self, record):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("activity_type_id", "=", self.env.ref("crm_single_truth.mail_activity_type_missed_call").id),
            ]
        )

    # ------------------------------------------------------------------ Zadarma
    def zadarma(self, fields_, signature=None, headers=None):
        names = {
            "NOTIFY_START": ("caller_id", "called_did", "call_start"),
            "NOTIFY_END": ("caller_id", "called_did", "call_start"),
            "NOTIFY_OUT_START": ("internal", "destination", "call_start"),
            "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
            "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
        }[fields_["event"]]
        if signature is None:
            signature = zadarma_signature("".join(fields_[name] for name in names))
        response = self.url_open(
            "/crm/webhook/zadarma",
            data=fields_,
            headers={"Signature": signature, **(headers or {})} if signature else headers or {},
        )
        self.env.invalidate_all()
        return response

    def zadarma_end(self, **values):
        return {
            "event": "NOTIFY_END",
            "call_start": "2026-11-28 14:15:00",
            "pbx_call_id": "in_2c80f1c5e6d8a94b",
            "caller_id": "77015551234",
            "called_did": "77272000000",
            "internal": "101",
            "duration": "185",
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "1",
            "call_id_with_rec": "1764328500.3841226",
            **values,
        }

    def test_zadarma_checks_the_address_with_zd_echo(self):
        response = self.url_open("/crm/webhook/zadarma?zd_echo=f8d2c3a1")
        self.assertEqual((response.status_code, response.text), (200, "f8d2c3a1"))

    def test_zadarma_answered_call_with_its_recording(self):
        start = {
            "event": "NOTIFY_START",
            "call_start": "2026-11-28 14:15:00",
            "pbx_call_id": "in_2c80f1c5e6d8a94b",
            "caller_id": "77015551234",
            "called_did": "77272000000",
        }
        self.assertEqual(self.zadarma(start).json(), {"status": "ok", "accepted": 1})
        call = self.calls("zadarma:in_2c80f1c5e6d8a94b")
        self.assertEqual((call.call_status, call.direction, call.partner_id), ("ringing", "inbound", self.contact))
        self.assertEqual(str(call.date), "2026-11-28 11:15:00")  # Moscow time of the account
        self.assertEqual(call.user_id, self.seller)
        self.assertEqual(self.zadarma(self.zadarma_end()).json(), {"status": "ok", "accepted": 1})
        self.assertEqual((call.call_status, call.duration, call.extension), ("answered", 185, "101"))
        self.assertEqual((call.recording_ref, call.recording_state), ("1764328500.3841226", "pending"))
        self.assertFalse(self.callback_activities(self.contact))
        # Zadarma advises fetching the recording some 40 seconds later: not yet
        self.env["crm.call"]._cron_fetch_recordings()
        self.assertEqual(call.recording_state, "pending")
        self.zadarma_api.add_recording("1764328500.3841226")
        self.env["crm.call"]._cron_fetch_recordings(date_ref=fields.Datetime.now() + timedelta(minutes=1))
        self.assertEqual(call.recording_state, "done")
        self.assertEqual(base64.b64decode(call.recording), AUDIO)
        self.assertEqual(call.recording_filename, "1764328500.3841226.mp3")
        self.assertEqual(call.recording_src, f"/web/content/crm.call/{call.id}/recording")
        request = next(r for r in self.zadarma_api.requests if r["path"] == "/v1/pbx/record/request/")
        self.assertEqual(request["query"], {"call_id": "1764328500.3841226", "format": "json"})

    def test_zadarma_missed_call_creates_one_call_back_activity(self):
        end = self.zadarma_end(disposition="no answer", duration="0", is_recorded="0", call_id_with_rec="")
        self.assertEqual(self.zadarma(end).status_code, 200)
        call = self.calls("zadarma:in_2c80f1c5e6d8a94b")
        self.assertEqual((call.call_status, call.duration), ("missed", 0))
        activity = self.callback_activities(self.contact)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.seller)
        self.assertEqual(activity.summary, "Call back +77015551234")
        # a replayed notification changes nothing
        self.assertEqual(self.zadarma(end).json(), {"status": "ok", "accepted": 0})
        self.assertEqual(len(self.calls("zadarma:in_2c80f1c5e6d8a94b")), 1)
        self.assertEqual(len(self.callback_activities(self.contact)), 1)

    def test_zadarma_missed_call_of_an_unknown_number(self):
        admin = self.env.ref("base.user_admin")
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.missed_call_user_id", str(admin.id))
        end = self.zadarma_end(caller_id="77770000001", disposition="busy", duration="0", is_recorded="0")
        self.zadarma(end)
        call = self.calls("zadarma:in_2c80f1c5e6d8a94b")
        self.assertEqual((call.partner_id.id, call.phone, call.call_status), (False, "+77770000001", "busy"))
        self.assertEqual(self.callback_activities(call).user_id, admin)

    def test_zadarma_outgoing_call(self):
        end = {
            "event": "NOTIFY_OUT_END",
            "call_start": "2026-11-28 15:00:05",
            "pbx_call_id": "out_9a0b1c2d3e4f",
            "caller_id": "77272000000",
            "destination": "87015551234",
            "internal": "101",
            "duration": "42",
            "disposition": "answered",
            "status_code": "16",
            "is_recorded": "0",
            "call_id_with_rec": "",
        }
        self.assertEqual(self.zadarma(end).json(), {"status": "ok", "accepted": 1})
        call = self.calls("zadarma:out_9a0b1c2d3e4f")
        self.assertEqual(
            (call.direction, call.partner_id, call.duration, call.phone), ("outbound", self.contact, 42, "+77015551234")
        )
        self.assertFalse(call.recording_state)

    def test_zadarma_forged_or_missing_signature(self):
        end = self.zadarma_end()
        forged = zadarma_signature("7701555123477272000000" + "2026-11-28 14:15:00", secret="guessed")
        self.assertEqual(self.zadarma(end, signature=forged).status_code, 403)
        # signed, then altered: another caller
        good = zadarma_signature("7701555123477272000000" + "2026-11-28 14:15:00")
        self.assertEqual(self.zadarma({**end, "caller_id": "77015550000"}, signature=good).status_code, 403)
        # raw bytes of the HMAC instead of its hex digest (a common mistake, not Zadarma's scheme)
        raw = base64.b64encode(
            hmac.new(ZADARMA_SECRET.encode(), b"77015551234772720000002026-11-28 14:15:00", hashlib.sha1).digest()
        ).decode()
        self.assertEqual(self.zadarma(end, signature=raw).status_code, 403)
        self.assertEqual(self.url_open("/crm/webhook/zadarma", data=end).status_code, 403)
        self.assertFalse(self.calls("zadarma:in_2c80f1c5e6d8a94b"))

    def test_zadarma_recording_link_elsewhere_is_not_fetched(self):
        self.zadarma(self.zadarma_end())
        call = self.calls("zadarma:in_2c80f1c5e6d8a94b")
        self.zadarma_api.add_recording("1764328500.3841226")
        self.zadarma_api.link_host = "http://localhost:9"
        try:
            self.env["crm.call"]._cron_fetch_recordings(date_ref=fields.Datetime.now() + timedelta(minutes=1))
        finally:
            self.zadarma_api.link_host = None
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("not on the provider's host", call.recording_error)
        self.assertFalse(call.recording)

    def test_zadarma_recording_over_the_size_cap(self):
        self.env["ir.config_parameter"].sudo().set_param("crm_single_truth.recording_max_bytes", "1000")
        self.zadarma(self.zadarma_end())
        call = self.calls("zadarma:in_2c80f1c5e6d8a94b")
        self.zadarma_api.add_recording("1764328500.3841226")
        self.env["crm.call"]._cron_fetch_recordings(date_ref=fields.Datetime.now() + timedelta(minutes=1))
        self.assertEqual(call.recording_state, "failed")
        self.assertIn("larger than 1000 bytes", call.recording_error)

    # ------------------------------------------------------------------ Mango Office
    def mango(self, event, data, **form_values):
        response = self.url_open(f"/crm/webhook/mango/{event}", data={**mango_form(data), **form_values})
        self.env.invalidate_all()
        return response

    def test_mango_summary_of_an_answered_inbound_call(self):
        # Example 1 of the documentation, with the customer's number
        summary = {
            "entry_id": "232wc3e3w3s222",
            "call_direction": 1,
            "from": {"number": "77015551234"},
            "to": {"extension": "123", "number": "7800123456789"},
            "line_number": "77272000000",
            "create_time": 1764321376,
            "forward_time": 1764321378,
            "talk_time": 1764321380,
            "end_time": 1764321590,
            "entry_result": 1,
            "disconnect_reason": 1100,
        }
        self.assertEqual(self.mango("events/summary", summary).json(), {"status": "ok", "accepted": 1})
        call = self.calls("mango:232wc3e3w3s222")
        self.assertEqual((call.direction, call.call_status, call.duration), ("inbound", "answered", 210))
        self.assertEqual(
            (call.partner_id, call.extension, str(call.date)), (self.contact, "123", "2025-11-28 09:16:16")
        )
        self.assertEqual(self.mango("events/summary", summary).json(), {"status": "ok", "accepted": 0})

    def test_mango_missed_inbound_call_and_recording(self):
        self.mango(
            "events/call",
            {
                "entry_id": "NTAwOTQxMTAyMg==",
                "call_id": "MToxMDA1NzU5Mzo1MDI6NjI1ODM4MzQ=",
                "timestamp": 1764321376,
                "seq": 1,
                "call_state": "Appeared",
                "location": "ivr",
                "from": {"number": "77015551234"},
                "to": {"number": "77272000000", "line_number": "77272000000"},
            },
        )
        call = self.calls("mango:NTAwOTQxMTAyMg==")
        self.assertEqual((call.call_status, call.partner_id), ("ringing", self.contact))
        summary = {
            "entry_id": "NTAwOTQxMTAyMg==",
            "call_direction": 1,
            "from": {"number": "77015551234"},
            "to": {"extension": "123", "number": "7800123456789"},
            "line_number": "77272000000",
            "create_time": 1764321376,
            "forward_time": 1764321378,
            "talk_time": 0,
            "end_time": 1764321406,
            "entry_result": 0,
            "disconnect_reason": 1110,
        }
        self.mango("events/summary", summary)
        self.assertEqual((call.call_status, call.duration), ("missed", 0))
        self.assertEqual(len(self.callback_activities(self.contact)), 1)
        # a recording put in the cloud (example of the documentation)
        self.mango_api.add_recording("MToxMDAwNjA4NTo1MDA5NDExMDIyOjE=")
        added = {
            "entry_id": "NTAwOTQxMTAyMg==",
            "product_id": 300022532,
            "user_id": 300049012,
            "timestamp": 1764321420,
            "recording_id": "MToxMDAwNjA4NTo1MDA5NDExMDIyOjE=",
        }
        self.assertEqual(self.mango("events/record/added", added).json(), {"status": "ok", "accepted": 1})
        self.assertEqual(call.recording_state, "pending")
        self.env["crm.call"]._cron_fetch_recordings()
        self.assertEqual(call.recording_state, "done")
        self.assertEqual(base64.b64decode(call.recording), AUDIO)
        query = next(r for r in self.mango_api.requests if r["path"] == "/vpbx/queries/recording/post")
        sent = dict(part.split("=", 1) for part in query["body"].decode().split("&"))
        self.assertEqual(sent["vpbx_api_key"], MANGO_KEY)

    def test_mango_times_are_unix_seconds_in_utc(self):
        """The VPBX API sends ``timestamp`` (events/call) and ``create_time``, ``forward_time``,
        ``talk_time``, ``end_time`` (events/summary) as Unix time, whole seconds, UTC: no time zone
        setting as Zadarma's local strings need. A date string or milliseconds are refused, not
        misread."""
        appeared = {
            "entry_id": "ts-1",
            "call_id": "MToxMDA1NzU5Mzo1MDI6NjI1ODM5MDAx",
            "timestamp": 1764321376,
            "seq": 1,
            "call_state": "Appeared",
            "location": "ivr",
            "from": {"number": "77015551234"},
            "to": {"number": "77272000000", "line_number": "77272000000"},
        }
        self.assertEqual(self.mango("events/call", appeared).json(), {"status": "ok", "accepted": 1})
        call = self.calls("mango:ts-1")
        self.assertEqual(str(call.date), "2025-11-28 09:16:16")
        summary = {
            "entry_id": "ts-1",
            "call_direction": 1,
            "from": {"number": "77015551234"},
            "to": {"extension": "101", "number": "77272000000"},
            "line_number": "77272000000",
            "create_time": 1764321376,
            "forward_time": 1764321379,
            "talk_time": 1764321385,
            "end_time": 1764321507,
            "entry_result": 1,
            "disconnect_reason": 1100,
        }
        self.assertEqual(self.mango("events/summary", summary).json(), {"status": "ok", "accepted": 1})
        self.assertEqual((str(call.date), call.duration, call.call_status), ("2025-11-28 09:16:16", 122, "answered"))
        for field, value in (("create_time", "2025-11-28 12:16:16"), ("create_time", 1764321376000)):
            wrong = {**summary, "entry_id": f"ts-wrong-{value}", field: value}
            self.assertEqual(self.mango("events/summary", wrong).status_code, 400, value)
            self.assertFalse(self.calls(f"mango:ts-wrong-{value}"))

    def test_mango_internal_calls_and_other_events_are_ignored(self):
        internal = {
            "entry_id": "int-1",
            "call_direction": 0,
            "from": {"extension": "101"},
            "to": {"extension": "102"},
            "create_time": 1764321376,
            "talk_time": 1764321380,
            "end_time": 1764321390,
            "entry_result": 1,
        }
        self.assertEqual(self.mango("events/summary", internal).json(), {"status": "ok", "accepted": 0})
        self.assertEqual(
            self.mango("events/dtmf", {"entry_id": "x", "dtmf": "1"}).json(), {"status": "ok", "accepted": 0}
        )
        self.assertFalse(self.calls("mango:int-1"))

    def test_mango_forged_sign_or_foreign_pbx(self):
        summary = {
            "entry_id": "forged",
            "call_direction": 1,
            "from": {"number": "77015551234"},
            "to": {},
            "create_time": 1764321376,
            "entry_result": 0,
        }
        form = mango_form(summary)
        self.assertEqual(
            self.url_open("/crm/webhook/mango/events/summary", data={**form, "sign": "0" * 64}).status_code, 403
        )
        other_pbx = mango_form(summary, key="another-pbx")
        self.assertEqual(self.url_open("/crm/webhook/mango/events/summary", data=other_pbx).status_code, 403)
        tampered = {**form, "json": form["json"].replace("77015551234", "77015550000")}
        self.assertEqual(self.url_open("/crm/webhook/mango/events/summary", data=tampered).status_code, 403)
        self.assertFalse(self.calls("mango:forged"))

    def test_mango_malformed_event_is_refused(self):
        bad = {"entry_id": "bad-1", "call_direction": 7, "create_time": 1764321376, "entry_result": 1}
        response = self.mango("events/summary", bad)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self.calls("mango:bad-1"))
