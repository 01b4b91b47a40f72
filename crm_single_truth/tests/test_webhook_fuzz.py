import hashlib
import hmac
import json
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.tests import HttpCase, tagged

from .test_telephony_providers import MANGO_KEY, MANGO_SALT, ZADARMA_SECRET, mango_form, zadarma_signature

TELEGRAM_SECRET = "fuzz-telegram-secret"
WHATSAPP_SECRET = "fuzz-whatsapp-secret"
TELEPHONY_KEY = "fuzz-telephony-key"
ANSWERS = {200, 400, 403, 413}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
# bodies that look like what each sender sends, with any part replaced by anything
telegram_like = st.fixed_dictionaries(
    {"update_id": st.integers() | json_values},
    optional={
        "message": st.fixed_dictionaries(
            {},
            optional={
                "message_id": st.integers() | json_values,
                "date": st.integers() | json_values,
                "text": st.text(max_size=60) | json_values,
                "chat": st.fixed_dictionaries({}, optional={"id": st.integers() | json_values}) | json_values,
                "from": st.fixed_dictionaries(
                    {}, optional={"id": st.integers() | json_values, "username": st.text(max_size=20) | json_values}
                )
                | json_values,
            },
        )
        | json_values,
        "edited_message": json_values,
    },
)
whatsapp_like = st.fixed_dictionaries(
    {"object": st.just("whatsapp_business_account") | json_values},
    optional={
        "entry": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "changes": st.lists(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "value": st.fixed_dictionaries(
                                    {},
                                    optional={
                                        "messages": st.lists(
                                            st.fixed_dictionaries(
                                                {},
                                                optional={
                                                    "id": st.text(max_size=20) | json_values,
                                                    "from": st.from_regex(r"\A[0-9]{5,15}\Z") | json_values,
                                                    "timestamp": st.integers().map(str) | json_values,
                                                    "type": st.just("text") | json_values,
                                                    "text": st.fixed_dictionaries({}, optional={"body": json_values}),
                                                },
                                            ),
                                            max_size=2,
                                        )
                                        | json_values,
                                        "statuses": st.lists(json_values, max_size=2) | json_values,
                                        "contacts": json_values,
                                    },
                                )
                                | json_values
                            },
                        ),
                        max_size=2,
                    )
                    | json_values
                },
            ),
            max_size=2,
        )
        | json_values,
    },
)
call_like = st.fixed_dictionaries(
    {},
    optional={
        "call_id": st.text(max_size=20) | json_values,
        "phone": st.from_regex(r"\A\+?[0-9 ()-]{0,16}\Z") | json_values,
        "direction": st.sampled_from(["in", "out", "inbound", "sideways"]) | json_values,
        "started_at": st.datetimes().map(lambda d: d.isoformat()) | json_values,
        "duration": st.integers() | json_values,
        "recording_url": st.text(max_size=30) | json_values,
    },
)
zadarma_like = st.fixed_dictionaries(
    {"event": st.sampled_from(["NOTIFY_START", "NOTIFY_END", "NOTIFY_OUT_END", "NOTIFY_RECORD"])},
    optional={
        name: st.text(max_size=24)
        for name in (
            "call_start",
            "pbx_call_id",
            "caller_id",
            "called_did",
            "internal",
            "destination",
            "duration",
            "disposition",
            "is_recorded",
            "call_id_with_rec",
        )
    },
)
mango_event = st.sampled_from(["events/summary", "events/call", "events/recording", "events/record/added", "ping"])


@tagged("post_install", "-at_install")
class TestWebhookFuzz(HttpCase):
    """Whatever a sender posts, every webhook answers 200, 400, 403 or 413 - never a 500 -, a
    refused delivery writes nothing, and every delivery that passed the secret is journaled."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        params = cls.env["ir.config_parameter"].sudo()
        for key, value in {
            "telegram_secret_token": TELEGRAM_SECRET,
            "whatsapp_app_secret": WHATSAPP_SECRET,
            "telephony_api_key": TELEPHONY_KEY,
            "zadarma_api_secret": ZADARMA_SECRET,
            "mango_api_key": MANGO_KEY,
            "mango_api_salt": MANGO_SALT,
        }.items():
            params.set_param(f"crm_single_truth.{key}", value)

    def setUp(self):
        super().setUp()
        self.journal = []
        journal = self.journal

        def record(model, channel, payload, external_id=None, res_model=None, res_id=None, error=None):
            journal.append((channel, external_id, bool(error)))

        patcher = patch.object(type(self.env["crm.inbound.delivery"]), "_crm_on_delivery", record)
        patcher.start()
        self.addCleanup(patcher.stop)

    def counts(self):
        return tuple(
            self.env[model].sudo().search_count([]) for model in ("crm.messenger.message", "crm.call", "crm.lead")
        )

    def deliver(self, url, data, headers, authorized=True):
        before_counts, before_journal = self.counts(), len(self.journal)
        # always a POST, even with an empty body (url_open would GET)
        response = self.opener.post(
            f"{self.base_url()}{url}", data=data, headers=headers, timeout=60, allow_redirects=False
        )
        self.assertIn(response.status_code, ANSWERS)
        if response.status_code in (400, 403, 413):
            self.assertEqual(self.counts(), before_counts, "a refused delivery is not half-written")
        if response.status_code == 400:
            self.assertEqual(self.journal[before_journal:][-1][2], True, "a refused delivery is journaled as failed")
        if response.status_code == 200:
            self.assertTrue(authorized)
            self.assertGreater(len(self.journal), before_journal, "an accepted delivery is journaled")
        if response.status_code == 403:
            self.assertEqual(len(self.journal), before_journal, "a forbidden request is not journaled")
        return response

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        body=telegram_like | json_values | st.binary(max_size=200), secret=st.sampled_from([TELEGRAM_SECRET, None, "x"])
    )
    def test_telegram(self, body, secret):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        response = self.deliver("/crm/webhook/telegram", raw, headers, authorized=secret == TELEGRAM_SECRET)
        if secret != TELEGRAM_SECRET:
            self.assertEqual(response.status_code, 403)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=whatsapp_like | json_values | st.binary(max_size=200), sign=st.booleans())
    def test_whatsapp(self, body, sign):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        signature = hmac.new(WHATSAPP_SECRET.encode() if sign else b"other", raw, hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
        response = self.deliver("/crm/webhook/whatsapp", raw, headers, authorized=sign)
        if not sign:
            self.assertEqual(response.status_code, 403)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(body=call_like | json_values | st.binary(max_size=200), key=st.sampled_from([TELEPHONY_KEY, "", "X"]))
    def test_generic_call(self, body, key):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json", "X-Api-Key": key}
        self.deliver("/crm/webhook/call", raw, headers, authorized=key == TELEPHONY_KEY)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(fields=zadarma_like, sign=st.booleans())
    def test_zadarma(self, fields, sign):
        names = {
            "NOTIFY_START": ("caller_id", "called_did", "call_start"),
            "NOTIFY_END": ("caller_id", "called_did", "call_start"),
            "NOTIFY_OUT_END": ("internal", "destination", "call_start"),
            "NOTIFY_RECORD": ("pbx_call_id", "call_id_with_rec"),
        }[fields["event"]]
        text = "".join(fields.get(name, "") for name in names)
        signature = zadarma_signature(text, ZADARMA_SECRET if sign else "other")
        # form fields cannot carry NUL or lone surrogates through urlencoding in a meaningful way
        data = {key: value.encode("utf-8", "replace").decode() for key, value in fields.items()}
        if data != fields:
            return
        self.deliver("/crm/webhook/zadarma", data, {"Signature": signature}, authorized=sign)

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event=mango_event, data=json_values, sign=st.booleans())
    def test_mango(self, event, data, sign):
        form = mango_form(data, salt=MANGO_SALT if sign else "other")
        self.deliver(f"/crm/webhook/mango/{event}", form, {}, authorized=sign)
