import base64
import hashlib
import hmac
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from odoo.tests.common import BaseCase

from ..services import mango, recording, whatsapp_cloud, zadarma
from ..services.messenger_api import backoff_delay, parse_retry_after, scrub
from ..tools.inbound import MalformedDelivery, clean, clean_text, parse_json_object
from ..tools.phone import international_to_e164, to_e164


class TestPhoneNumbers(BaseCase):
    """Exact matching: numbers compared in E.164, national numbers read in the company's country."""

    def test_same_subscriber_in_any_format(self):
        for written in ("+7 701 555 12 34", "8 (701) 555-12-34", "+7(701)5551234", "007 701 555 1234"):
            self.assertEqual(to_e164(written, "KZ"), "+77015551234", written)
        self.assertEqual(to_e164("8 701 555 12 34", "RU"), "+77015551234")
        self.assertEqual(international_to_e164("77015551234"), "+77015551234")

    def test_other_country_with_same_last_ten_digits_differs(self):
        # the last ten digits agree, the countries do not
        self.assertEqual(to_e164("+1 701 234 5678", "KZ"), "+17012345678")
        self.assertEqual(to_e164("+7 701 234 56 78", "KZ"), "+77012345678")
        self.assertNotEqual(to_e164("+1 701 234 5678", "KZ"), to_e164("+7 701 234 56 78", "KZ"))
        # a national number is read in the company's country
        self.assertEqual(to_e164("(701) 234-5678", "US"), "+17012345678")

    def test_not_phone_numbers(self):
        for junk in ("", "12", "call me", None, 77015551234, "+" + "9" * 40, "x" * 100):
            self.assertIsNone(to_e164(junk, "KZ"), junk)
        self.assertIsNone(international_to_e164("7701abc"))

    @given(st.text(max_size=80), st.sampled_from(["KZ", "RU", "US", "", None]))
    @settings(max_examples=200, deadline=None)
    def test_any_text_gives_e164_or_none(self, text, region):
        result = to_e164(text, region)
        self.assertTrue(result is None or (result.startswith("+") and result[1:].isdigit()))


class TestInboundBodies(BaseCase):
    def test_lone_surrogates_and_nul_become_storable(self):
        data = parse_json_object(b'{"text": "\\ud800ok\\u0000", "\\udfff": ["\\ud83d"]}')
        self.assertEqual(data, {"text": "\ufffdok\ufffd", "\ufffd": ["\ufffd"]})
        self.assertEqual(clean_text("Сәлем 👋"), "Сәлем 👋")
        json.dumps(data).encode("utf-8")  # storable

    def test_deep_nesting_is_malformed_not_a_crash(self):
        deep = b"[" * 100000 + b"]" * 100000
        with self.assertRaises(MalformedDelivery):
            parse_json_object(b'{"a": ' + deep + b"}")
        with self.assertRaises(MalformedDelivery):
            clean({"a": [[[[[[[[]]]]]]]]}, max_depth=4)
        self.assertEqual(clean({"a": [[1]]}, max_depth=4), {"a": [[1]]})

    def test_not_an_object(self):
        for raw in (b"", b"[]", b"null", b"\xff\xfe", b"{", b'"x"', b"1" * 5000):
            with self.assertRaises(MalformedDelivery, msg=raw[:20]):
                parse_json_object(raw)

    @given(
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.text(),
            lambda children: st.lists(children) | st.dictionaries(st.text(), children),
            max_leaves=30,
        )
    )
    @settings(max_examples=200, deadline=None)
    def test_clean_is_idempotent_and_keeps_clean_values(self, value):
        cleaned = clean(value)
        self.assertEqual(clean(cleaned), cleaned)
        json.dumps(cleaned, ensure_ascii=False).encode("utf-8")
        text = json.dumps(value)
        if "\\u0000" not in text and "\\ud" not in text:
            self.assertEqual(cleaned, value)


class TestProviderSignatures(BaseCase):
    """Signatures computed as the providers document them, independently of our helpers."""

    def test_zadarma_notification_signature(self):
        secret = "b3f1e5c0ffee"
        fields = {
            "event": "NOTIFY_START",
            "call_start": "2026-11-28 14:15:00",
            "pbx_call_id": "in_1",
            "caller_id": "77015551234",
            "called_did": "77272000000",
        }
        # PHP: base64_encode(hash_hmac('sha1', caller_id . called_did . call_start, secret)) - hex digest, then base64
        hex_digest = hmac.new(
            secret.encode(), b"7701555123477272000000" + b"2026-11-28 14:15:00", hashlib.sha1
        ).hexdigest()
        expected = base64.b64encode(hex_digest.encode()).decode()
        self.assertEqual(zadarma.notification_signature(fields, secret), expected)
        self.assertTrue(zadarma.verify_notification(fields, expected, secret))
        self.assertFalse(zadarma.verify_notification(fields, expected, "other"))
        self.assertFalse(zadarma.verify_notification({**fields, "caller_id": "77015550000"}, expected, secret))
        self.assertFalse(zadarma.verify_notification(fields, expected, ""))
        record = {"event": "NOTIFY_RECORD", "pbx_call_id": "in_1", "call_id_with_rec": "1732791300.123"}
        self.assertEqual(
            zadarma.notification_signature(record, secret),
            base64.b64encode(
                hmac.new(secret.encode(), b"in_11732791300.123", hashlib.sha1).hexdigest().encode()
            ).decode(),
        )
        self.assertIsNone(zadarma.notification_signature({"event": "SMS"}, secret))

    def test_zadarma_api_authorization(self):
        # Client.php: ksort, http_build_query, then hmac-sha1(method . params . md5(params))
        params = {"format": "json", "call_id": "1732791300.123"}
        query = "call_id=1732791300.123&format=json"
        text = "/v1/pbx/record/request/" + query + hashlib.md5(query.encode()).hexdigest()
        signature = base64.b64encode(hmac.new(b"sec", text.encode(), hashlib.sha1).hexdigest().encode()).decode()
        self.assertEqual(zadarma.auth_header("/v1/pbx/record/request/", params, "key1", "sec"), f"key1:{signature}")

    def test_mango_sign(self):
        text = '{"entry_id":"232wc3e3w3s222","call_direction":1}'
        expected = hashlib.sha256(("code" + text + "salt").encode()).hexdigest()
        self.assertEqual(mango.sign("code", text, "salt"), expected)
        self.assertTrue(mango.verify("code", text, expected, "code", "salt"))
        self.assertTrue(mango.verify("code", text, expected.upper(), "code", "salt"))
        self.assertFalse(mango.verify("other", text, expected, "code", "salt"))
        self.assertFalse(mango.verify("code", text + " ", expected, "code", "salt"))
        self.assertFalse(mango.verify("code", text, expected, "code", ""))
        self.assertFalse(mango.verify("code", None, expected, "code", "salt"))


class TestMessengerRules(BaseCase):
    def test_template_parameter_is_one_line(self):
        self.assertEqual(whatsapp_cloud.template_text("Счёт №12\nоплатите\tдо 5-го"), "Счёт №12 | оплатите | до 5-го")
        self.assertEqual(whatsapp_cloud.template_text("a      b"), "a   b")
        self.assertEqual(len(whatsapp_cloud.template_text("я" * 5000)), 1024)

    def test_payloads_follow_the_reference(self):
        self.assertEqual(
            whatsapp_cloud.template_payload("77015551234", "crm_reply", "ru", ["Добрый день"]),
            {
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": "77015551234",
                "type": "template",
                "template": {
                    "name": "crm_reply",
                    "language": {"code": "ru"},
                    "components": [{"type": "body", "parameters": [{"type": "text", "text": "Добрый день"}]}],
                },
            },
        )
        self.assertEqual(
            whatsapp_cloud.document_payload("77015551234", "42", "invoice.pdf", "Счёт")["document"],
            {"id": "42", "filename": "invoice.pdf", "caption": "Счёт"},
        )

    def test_retry_after_and_backoff(self):
        self.assertEqual(parse_retry_after("7"), 7)
        self.assertEqual(parse_retry_after("999999"), 3600)
        self.assertEqual(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480), 10)
        self.assertIsNone(parse_retry_after("soon"))
        self.assertIsNone(parse_retry_after(None))
        self.assertEqual([backoff_delay(n) for n in (1, 2, 3, 10)], [2, 4, 8, 300])
        self.assertEqual(backoff_delay(1, retry_after=30), 30)

    def test_tokens_are_scrubbed(self):
        message = "HTTPSConnectionPool(host='api.telegram.org'): Max retries exceeded with url: /bot123:ABC/sendMessage"
        self.assertNotIn("123:ABC", scrub(message, ["123:ABC", ""]))

    def test_recording_hosts(self):
        hosts = ["api.zadarma.com", ".mango-office.ru"]
        self.assertTrue(recording.host_allowed("https://api.zadarma.com/v1/pbx/record/download/x.mp3", hosts))
        self.assertTrue(recording.host_allowed("https://files.mango-office.ru/abc", hosts))
        for url in (
            "https://api.zadarma.com.evil.example/x.mp3",
            "https://evil-mango-office.ru/x",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "https://user:pw@api.zadarma.com/x",
            "not a url",
            None,
        ):
            self.assertFalse(recording.host_allowed(url, hosts), url)
