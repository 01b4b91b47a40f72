import time

from .fake_servers import FakeTelegramBot, FakeWhatsAppCloud

WA_TOKEN = "EAAG-test-token-0123456789"
WA_PHONE_ID = "106540352242922"
WA_APP_SECRET = "wa-app-secret"
TG_TOKEN = "7000000001:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
TEMPLATE = "crm_reply"
DOCUMENT_TEMPLATE = "crm_reply_document"


class MessengerSetup:
    """Fake WhatsApp Cloud API and Telegram Bot API, wired in the settings; a company with a
    buyer who writes on both messengers."""

    @classmethod
    def setup_messengers(cls, env, webhook_url=None, company=None):
        cls.wa = FakeWhatsAppCloud(WA_TOKEN, WA_PHONE_ID, app_secret=WA_APP_SECRET, webhook_url=webhook_url)
        cls.tg = FakeTelegramBot(TG_TOKEN)
        cls.addClassCleanup(cls.wa.stop)
        cls.addClassCleanup(cls.tg.stop)
        params = env["ir.config_parameter"].sudo()
        for key, value in {
            "whatsapp_api_url": f"{cls.wa.url}/v21.0",
            "whatsapp_token": WA_TOKEN,
            "whatsapp_phone_number_id": WA_PHONE_ID,
            "whatsapp_app_secret": WA_APP_SECRET,
            "whatsapp_template": TEMPLATE,
            "whatsapp_document_template": DOCUMENT_TEMPLATE,
            "whatsapp_template_lang": "ru",
            "telegram_api_url": cls.tg.url,
            "telegram_bot_token": TG_TOKEN,
            "telegram_secret_token": "tg-secret-0123456789",
        }.items():
            params.set_param(f"crm_single_truth.{key}", value)
        kz = env.ref("base.kz")
        cls.company_partner = env["res.partner"].create(
            {"name": "ТОО «Ответ Сталь»", "is_company": True, "country_id": kz.id, "company_id": company and company.id}
        )
        cls.buyer = env["res.partner"].create(
            {
                "name": "Асель Нурланова",
                "parent_id": cls.company_partner.id,
                "mobile": "+7 (701) 555-12-34",
                "crm_whatsapp": "+7 701 555 12 34",
                "crm_telegram": "asel_buyer",
                "country_id": kz.id,
                "company_id": company and company.id,
            }
        )
        cls.wa.approve_template(TEMPLATE, "ru", body_params=1)
        cls.wa.approve_template(DOCUMENT_TEMPLATE, "ru", body_params=1, header="document")

    @classmethod
    def whatsapp_in(cls, env, text="Счёт получили, спасибо", hours_ago=1, wamid=None, phone="77015551234"):
        """The customer writes on WhatsApp (the fake and our side both see it)."""
        moment = int(time.time() - hours_ago * 3600)
        cls.wa.customer_wrote(phone, moment)
        wamid = wamid or f"wamid.IN{moment}{len(cls.wa.last_inbound)}"
        notification = {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "102290129340398",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {"display_phone_number": "77270000000", "phone_number_id": WA_PHONE_ID},
                                "contacts": [{"profile": {"name": "Асель"}, "wa_id": phone}],
                                "messages": [
                                    {
                                        "from": phone,
                                        "id": wamid,
                                        "timestamp": str(moment),
                                        "type": "text",
                                        "text": {"body": text},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        }
        return env["crm.messenger.message"].sudo()._crm_process_whatsapp(notification)[0][0]

    @classmethod
    def telegram_in(cls, env, text="Когда отгрузка?", chat_id=5550001, message_id=77, username="asel_buyer"):
        cls.tg.start(chat_id)
        update = {
            "update_id": 1000 + message_id,
            "message": {
                "message_id": message_id,
                "from": {"id": chat_id, "is_bot": False, "first_name": "Асель", "username": username},
                "chat": {"id": chat_id, "first_name": "Асель", "username": username, "type": "private"},
                "date": int(time.time()) - 60,
                "text": text,
            },
        }
        return env["crm.messenger.message"].sudo()._crm_process_telegram(update)[0][0]
