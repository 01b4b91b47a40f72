"""EnterpriseData (1C's universal exchange format) messages: the header (exchange plan, sender and
receiver peer codes, message and received numbers, format version) and the objects CrmAI maps:
counterparties, customer invoices (sales), incoming payments and invoice statuses."""

from lxml import etree

from .safe_xml import parse_xml

MSG_NS = "http://www.1c.ru/SSL/Exchange/Message"
FORMAT_VERSION = "1.8"
DATA_NS = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{FORMAT_VERSION}"
NSMAP = {"msg": MSG_NS, None: DATA_NS}


def _msg(tag):
    return f"{{{MSG_NS}}}{tag}"


def _data(tag):
    return f"{{{DATA_NS}}}{tag}"


def _sub(parent, tag, text=None):
    node = etree.SubElement(parent, _data(tag))
    if text not in (None, False, ""):
        node.text = str(text)
    return node


def build_message(exchange_plan, sender, receiver, message_no, received_no, objects, created=None):
    """Serialize a message; ``objects`` is a list of (kind, dict) with kind 'partner' or 'invoice'."""
    root = etree.Element(_msg("Message"), nsmap=NSMAP)
    header = etree.SubElement(root, _msg("Header"))
    etree.SubElement(header, _msg("Format")).text = DATA_NS
    etree.SubElement(header, _msg("CreationDate")).text = created or ""
    confirmation = etree.SubElement(header, _msg("Confirmation"))
    etree.SubElement(confirmation, _msg("ExchangePlan")).text = exchange_plan or ""
    etree.SubElement(confirmation, _msg("To")).text = receiver or ""
    etree.SubElement(confirmation, _msg("From")).text = sender or ""
    etree.SubElement(confirmation, _msg("MessageNo")).text = str(message_no)
    etree.SubElement(confirmation, _msg("ReceivedNo")).text = str(received_no or 0)
    etree.SubElement(header, _msg("AvailableVersion")).text = FORMAT_VERSION
    body = etree.SubElement(root, _data("Body"))
    for kind, values in objects:
        {"partner": _partner, "invoice": _invoice}[kind](body, values)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _partner_keys(parent, values):
    keys = _sub(parent, "КлючевыеСвойства")
    _sub(keys, "Ссылка", values["ref"])
    _sub(keys, "Наименование", values["name"])
    _sub(keys, "НаименованиеПолное", values.get("full_name") or values["name"])
    _sub(keys, "ИНН", values.get("inn"))
    _sub(keys, "КПП", values.get("kpp"))
    _sub(keys, "ЮридическоеФизическоеЛицо", "ЮридическоеЛицо" if values.get("is_company") else "ФизическоеЛицо")
    return keys


def _partner(body, values):
    node = _sub(body, "Справочник.Контрагенты")
    _partner_keys(node, values)
    contacts = _sub(node, "КонтактнаяИнформация")
    for kind, value in (
        ("ЮридическийАдрес", values.get("legal_address")),
        ("Телефон", values.get("phone")),
        ("АдресЭлектроннойПочты", values.get("email")),
    ):
        if value:
            line = _sub(contacts, "СтрокаКонтактнойИнформации")
            _sub(line, "ВидКонтактнойИнформации", kind)
            _sub(line, "ЗначенияПолей", value)
    accounts = _sub(node, "БанковскиеСчета")
    for account in values.get("bank_accounts", []):
        line = _sub(accounts, "БанковскийСчет")
        _sub(line, "НомерСчета", account["number"])
        _sub(line, "БИКБанка", account.get("bic"))
        _sub(line, "НаименованиеБанка", account.get("bank"))
    persons = _sub(node, "КонтактныеЛица")
    for person in values.get("contacts", []):
        line = _sub(persons, "КонтактноеЛицо")
        _sub(line, "Наименование", person["name"])
        _sub(line, "Должность", person.get("function"))
        _sub(line, "Телефон", person.get("phone"))
        _sub(line, "АдресЭлектроннойПочты", person.get("email"))


def _invoice(body, values):
    node = _sub(body, "Документ.РеализацияТоваровУслуг")
    keys = _sub(node, "КлючевыеСвойства")
    _sub(keys, "Ссылка", values["ref"])
    _sub(keys, "Дата", values["date"])
    _sub(keys, "Номер", values["number"])
    partner = _sub(node, "Контрагент")
    _partner_keys(partner, values["partner"])
    _sub(node, "Валюта", values["currency"])
    _sub(node, "Сумма", values["amount_total"])
    _sub(node, "СуммаНДС", values["amount_tax"])
    _sub(node, "СрокОплаты", values.get("date_due"))
    if values.get("contract"):
        _sub(_sub(node, "Договор"), "Номер", values["contract"])
    goods = _sub(node, "Товары")
    for line in values["lines"]:
        row = _sub(goods, "Строка")
        _sub(_sub(row, "Номенклатура"), "Наименование", line["name"])
        _sub(row, "Количество", line["quantity"])
        _sub(row, "Цена", line["price_unit"])
        _sub(row, "Сумма", line["amount"])
        _sub(row, "СтавкаНДС", line.get("vat_rate") or "БезНДС")
        _sub(row, "СуммаНДС", line.get("amount_tax", 0))


def _text(node, path):
    found = node.find(path, namespaces={"d": DATA_NS, "msg": MSG_NS})
    return found.text.strip() if found is not None and found.text else None


def parse_message(data):
    """(header dict, payments, invoice statuses) of a message coming from 1C (hardened parsing)."""
    root = parse_xml(data)
    if root.tag != _msg("Message"):
        raise ValueError(f"Not an EnterpriseData message: {root.tag}")
    header = {
        "exchange_plan": _text(root, "msg:Header/msg:Confirmation/msg:ExchangePlan"),
        "from": _text(root, "msg:Header/msg:Confirmation/msg:From"),
        "to": _text(root, "msg:Header/msg:Confirmation/msg:To"),
        "message_no": int(_text(root, "msg:Header/msg:Confirmation/msg:MessageNo") or 0),
        "received_no": int(_text(root, "msg:Header/msg:Confirmation/msg:ReceivedNo") or 0),
        "format": _text(root, "msg:Header/msg:Format"),
    }
    body = root.find(_data("Body"))
    payments, statuses = [], []
    if body is not None:
        for node in body.findall(_data("Документ.ПоступлениеБезналичныхДенежныхСредств")):
            payments.append(
                {
                    "ref": _text(node, "d:КлючевыеСвойства/d:Ссылка"),
                    "number": _text(node, "d:КлючевыеСвойства/d:Номер"),
                    "date": _text(node, "d:КлючевыеСвойства/d:Дата"),
                    "partner_inn": _text(node, "d:Контрагент/d:ИНН"),
                    "amount": float(_text(node, "d:СуммаДокумента") or 0),
                    "currency": _text(node, "d:Валюта"),
                    "invoice_number": _text(node, "d:РасшифровкаПлатежа/d:Строка/d:ДокументРасчетов/d:Номер"),
                }
            )
        for node in body.findall(_data("Документ.СтатусДокумента")):
            statuses.append(
                {
                    "number": _text(node, "d:Номер"),
                    "status": _text(node, "d:Статус"),
                }
            )
    return header, payments, statuses


def build_payments_message(exchange_plan, sender, receiver, message_no, received_no, payments, statuses=()):
    """A message as 1C sends it with incoming payments (used by the test server and the demo)."""
    root = etree.Element(_msg("Message"), nsmap=NSMAP)
    header = etree.SubElement(root, _msg("Header"))
    etree.SubElement(header, _msg("Format")).text = DATA_NS
    confirmation = etree.SubElement(header, _msg("Confirmation"))
    etree.SubElement(confirmation, _msg("ExchangePlan")).text = exchange_plan
    etree.SubElement(confirmation, _msg("To")).text = receiver
    etree.SubElement(confirmation, _msg("From")).text = sender
    etree.SubElement(confirmation, _msg("MessageNo")).text = str(message_no)
    etree.SubElement(confirmation, _msg("ReceivedNo")).text = str(received_no)
    body = etree.SubElement(root, _data("Body"))
    for payment in payments:
        node = _sub(body, "Документ.ПоступлениеБезналичныхДенежныхСредств")
        keys = _sub(node, "КлючевыеСвойства")
        _sub(keys, "Ссылка", payment["ref"])
        _sub(keys, "Дата", payment["date"])
        _sub(keys, "Номер", payment["number"])
        _sub(_sub(node, "Контрагент"), "ИНН", payment.get("partner_inn"))
        _sub(node, "СуммаДокумента", payment["amount"])
        _sub(node, "Валюта", payment.get("currency", "KZT"))
        row = _sub(_sub(node, "РасшифровкаПлатежа"), "Строка")
        _sub(_sub(row, "ДокументРасчетов"), "Номер", payment["invoice_number"])
        _sub(row, "Сумма", payment["amount"])
    for status in statuses:
        node = _sub(body, "Документ.СтатусДокумента")
        _sub(node, "Номер", status["number"])
        _sub(node, "Статус", status["status"])
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
