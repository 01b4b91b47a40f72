"""Concurrent duplicate deliveries: the same request sent by several threads at once, released
together by a barrier; each answer with its status, body and latency."""

import hashlib
import hmac
import json
import threading
import time

import requests


def send_concurrently(requests_to_send, timeout=60):
    """POST each ``(url, body, headers)`` from a thread of its own, all released at once. Returns
    ``(status, json body or text, seconds)`` in the same order, and the wall time of the burst."""
    barrier = threading.Barrier(len(requests_to_send) + 1)
    answers = [None] * len(requests_to_send)

    def send(index, url, body, headers):
        barrier.wait()
        start = time.perf_counter()
        try:
            response = requests.post(url, data=body, headers=headers, timeout=timeout)
            try:
                content = response.json()
            except ValueError:
                content = response.text
            answers[index] = (response.status_code, content, time.perf_counter() - start)
        except requests.RequestException as error:
            answers[index] = (None, repr(error), time.perf_counter() - start)

    threads = [
        threading.Thread(target=send, args=(index, *request), daemon=True)
        for index, request in enumerate(requests_to_send)
    ]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join(timeout + 5)
    return answers, time.perf_counter() - start


def telegram_update(update_id, message_id, user_id, username, text, date=1796000000):
    """A Bot API ``Update`` with a private text message, as Telegram sends it to a webhook."""
    chat = {"id": user_id, "first_name": "Reliability", "username": username, "type": "private"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Reliability",
                "username": username,
                "language_code": "ru",
            },
            "chat": chat,
            "date": date,
            "text": text,
        },
    }


def telegram_request(server, update, secret):
    body = json.dumps(update, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret}
    return server.url("/crm/webhook/telegram"), body, headers


def whatsapp_notification(wamid, phone, text, name="Reliability", timestamp="1796000100"):
    """A Cloud API webhook notification with one inbound text message."""
    return {
        "object": "whatsapp_business_account",
        "entry": [
            {
                "id": "102290129340398",
                "changes": [
                    {
                        "field": "messages",
                        "value": {
                            "messaging_product": "whatsapp",
                            "metadata": {"display_phone_number": "77270000000", "phone_number_id": "106540352242922"},
                            "contacts": [{"profile": {"name": name}, "wa_id": phone}],
                            "messages": [
                                {
                                    "from": phone,
                                    "id": wamid,
                                    "timestamp": timestamp,
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


def whatsapp_request(server, notification, app_secret):
    """Signed as Meta signs it: ``X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body>``."""
    body = json.dumps(notification, ensure_ascii=False).encode()
    signature = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
    return server.url("/crm/webhook/whatsapp"), body, headers


def percentile(values, fraction):
    """Nearest-rank percentile of ``values`` (0 < fraction <= 1)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]
