from . import messenger_api, telegram_bot, whatsapp_cloud, zadarma, mango, recording
