"""EnterpriseData (1C's universal exchange format, version 1.8) as SSL writes and reads it.

A message is the root ``Message`` without a namespace, ``msg:Header`` (format, creation date,
confirmation with the exchange plan, peer codes and message numbers, available versions) and
``Body`` in the format's namespace holding the objects. 1C reads the header and then each object
with ``XDTOFactory.ReadXML`` against its type: one invalid object fails the whole message, objects
of unknown types are skipped. The compact schema of the types CrmAI writes and reads ships in
``static/xsd/`` (derived from SSL 3.1.9.131, CC BY 4.0); every object built here is checked
against it before it leaves, and every object read is checked against it before it is used.

Everything here is plain Python on dicts (amounts as :class:`~decimal.Decimal`), without Odoo."""

import functools
import io
import math
import os
import uuid
from copy import deepcopy
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from lxml import etree

from .safe_xml import UnsafeContentError, iterparse, strip_bom

MSG_NS = "http://www.1c.ru/SSL/Exchange/Message"
FORMAT_VERSION = "1.8"
SUPPORTED_VERSIONS = ("1.8",)
DATA_NS = f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{FORMAT_VERSION}"
XS_NS = "http://www.w3.org/2001/XMLSchema"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XSD_DIR = os.path.join(os.path.dirname(os.path.dirname(__file__)), "static", "xsd")

COUNTERPARTY = "Справочник.Контрагенты"
BANK_ACCOUNT = "Справочник.БанковскиеСчета"
CONTRACT = "Справочник.Договоры"
SALE = "Документ.РеализацияТоваровУслуг"
SALE_RETURN = "Документ.ВозвратТоваровОтПокупателя"
PAYMENT = "Документ.ПБДСРасчетыСКонтрагентами"
DELETION = "УдалениеОбъекта"
OBJECT_TYPES = (COUNTERPARTY, BANK_ACCOUNT, CONTRACT, SALE, SALE_RETURN, PAYMENT, DELETION)

#: VAT rates (percent) of the enumeration СтавкиНДС of the format; other rates are sent as the
#: amount only (СуммаНДС without СтавкаНДС)
VAT_RATES = {Decimal(0): "НДС0", Decimal(2): "НДС2", Decimal(4): "НДС4", Decimal(10): "НДС10", Decimal(18): "НДС18"}
VAT_RATES[Decimal(20)] = "НДС20"
NO_VAT = "БезНДС"

MONEY = Decimal("0.01")
QUANTITY = Decimal("0.001")


class FormatError(ValueError):
    """A message or object does not follow the format (the text says which property and why)."""

    crm_exchange_clear = True  # the journal shows the text alone


# ---------------------------------------------------------------------- schema
@functools.cache
def _schema(name):
    return etree.XMLSchema(etree.parse(os.path.join(XSD_DIR, name)))


def _readable(text):
    return text.replace(f"{{{DATA_NS}}}", "").replace(f"{{{MSG_NS}}}", "msg:")


def schema_errors(element, header=False):
    """Errors of one object (or of the message's root with its header) against the schema, as 1C's
    XDTO reader would find them; an empty list when it is valid."""
    schema = _schema("Message.xsd" if header else "EnterpriseData_1_8.xsd")
    document = etree.ElementTree(deepcopy(element))
    if schema.validate(document):
        return []
    return [_readable(f"{error.message} (line {error.line})") for error in schema.error_log]


def check(element):
    """Raise :class:`FormatError` when the object is not valid against the format."""
    errors = schema_errors(element)
    if errors:
        raise FormatError(
            "%s: %s" % (etree.QName(element).localname, "; ".join(errors))  # noqa: UP031 - plain text
        )
    return element


# ---------------------------------------------------------------------- values
def decimal(value, step=MONEY):
    """A finite amount rounded half up to ``step`` (floats go through their shortest repr, so
    0.1 + 0.2 is 0.30, never 0.30000000000000004)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormatError(f"Not a finite amount: {value}")
        value = repr(value)
    try:
        number = Decimal(value if value not in (None, False, "") else 0)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise FormatError(f"Not an amount: {value!r}") from error
    if not number.is_finite():
        raise FormatError(f"Not a finite amount: {value}")
    try:
        return number.quantize(step, rounding=ROUND_HALF_UP)
    except InvalidOperation as error:
        raise FormatError(f"Amount out of range: {value}") from error


def money(value):
    return str(decimal(value, MONEY))


def quantity(value):
    return str(decimal(value, QUANTITY))


def date_time(value):
    """xs:dateTime as 1C writes it (local time, no zone): a date is taken at midnight."""
    if isinstance(value, datetime):
        return value.replace(microsecond=0, tzinfo=None).isoformat()
    if isinstance(value, date):
        return datetime.combine(value, datetime.min.time()).isoformat()
    return str(value)


def boolean(value):
    return "true" if value else "false"


def ref_of(*parts):
    """A stable reference (UUID) for an object CrmAI has no stored reference for."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "crmai:" + ":".join(str(part) for part in parts)))


# ---------------------------------------------------------------------- writing
def _el(parent, tag, text=None):
    """A property in the format's namespace; ``None`` and ``False`` are left out, zero is kept."""
    if text is None or text is False:
        return None
    node = etree.SubElement(parent, f"{{{DATA_NS}}}{tag}")
    if text is not True:
        try:
            node.text = str(text)
        except ValueError as error:  # control characters, lone surrogates: not XML
            raise FormatError(f"{tag}: {error}") from error
    return node


def _node(parent, tag):
    return etree.SubElement(parent, f"{{{DATA_NS}}}{tag}")


def _counterparty_keys(parent, tag, values):
    keys = _node(parent, tag)
    _el(keys, "Ссылка", values.get("ref"))
    _el(keys, "Наименование", values["name"])
    _el(keys, "НаименованиеПолное", values.get("full_name") or None)
    _el(keys, "ИНН", values.get("inn") or None)
    _el(keys, "КПП", values.get("kpp") or None)
    _el(keys, "ЮридическоеФизическоеЛицо", "ЮридическоеЛицо" if values.get("is_company") else "ФизическоеЛицо")
    return keys


def _organization_keys(parent, tag, values):
    keys = _node(parent, tag)
    _el(keys, "Ссылка", values.get("ref") or None)
    _el(keys, "Наименование", values["name"])
    _el(keys, "НаименованиеПолное", values.get("full_name") or None)
    _el(keys, "ИНН", values.get("inn") or None)
    _el(keys, "КПП", values.get("kpp") or None)
    _el(keys, "ЮридическоеФизическоеЛицо", "ЮридическоеЛицо")
    return keys


def _classifier(parent, tag, code=None, name=None):
    """КлючевыеСвойстваВалюта / КлючевыеСвойстваЕдиницаИзмерения: ДанныеКлассификатора (Код, Наименование)."""
    node = _node(parent, tag)
    data = _node(node, "ДанныеКлассификатора")
    _el(data, "Код", code or None)
    _el(data, "Наименование", name or None)
    return node


def _currency(parent, tag, currency):
    code = currency.get("code")
    return _classifier(parent, tag, f"{int(code):03d}" if code else None, currency.get("name"))


def _contract_keys(parent, tag, values, organization, counterparty):
    keys = _node(parent, tag)
    _el(keys, "Ссылка", values.get("ref"))
    _el(keys, "ВидДоговора", "СПокупателем")
    _organization_keys(keys, "Организация", organization)
    _counterparty_keys(keys, "Контрагент", counterparty)
    if values.get("currency"):
        _currency(keys, "ВалютаВзаиморасчетов", values["currency"])
    _el(keys, "Наименование", values.get("name") or None)
    _el(keys, "Дата", values["date"].isoformat() if values.get("date") else None)
    _el(keys, "Номер", values.get("number") or None)
    return keys


def counterparty(values):
    """Справочник.Контрагенты: key properties and contact rows (Строка: kind, value)."""
    node = etree.Element(f"{{{DATA_NS}}}{COUNTERPARTY}")
    _counterparty_keys(node, "КлючевыеСвойства", values)
    rows = [(kind, value) for kind, value in values.get("contacts", ()) if value]
    if rows:
        contacts = _node(node, "КонтактнаяИнформация")
        for kind, value in rows:
            row = _node(contacts, "Строка")
            _el(row, "ВидКонтактнойИнформации", kind)
            _el(row, "ЗначенияПолей", value)
    return check(node)


def bank_account(values, owner):
    """Справочник.БанковскиеСчета of a counterparty (its own object, owned by the counterparty)."""
    node = etree.Element(f"{{{DATA_NS}}}{BANK_ACCOUNT}")
    keys = _node(node, "КлючевыеСвойства")
    _el(keys, "Ссылка", values.get("ref"))
    _el(keys, "НомерСчета", values["number"])
    if values.get("bic") or values.get("bank"):
        bank = _node(_node(keys, "Банк"), "ДанныеКлассификатораБанков")
        _el(bank, "Наименование", values.get("bank") or None)
        _el(bank, "БИК", values.get("bic") or None)
    _counterparty_keys(_node(keys, "Владелец"), "КонтрагентыСсылка", owner)
    _el(node, "Наименование", values.get("name") or None)
    _currency(node, "ВалютаДенежныхСредств", values["currency"])
    return check(node)


def contract(values, organization, owner):
    """Справочник.Договоры with a customer (ВидДоговора СПокупателем)."""
    node = etree.Element(f"{{{DATA_NS}}}{CONTRACT}")
    _contract_keys(node, "КлючевыеСвойства", values, organization, owner)
    _el(node, "СрокДействия", values["date_end"].isoformat() if values.get("date_end") else None)
    return check(node)


def _vat(row, line, vat_tag="СтавкаНДС"):
    rate = line.get("vat_rate")
    if rate is None:
        _el(row, vat_tag, NO_VAT)
        return
    name = VAT_RATES.get(decimal(rate))
    _el(row, vat_tag, name)
    _el(row, "СуммаНДС", money(line.get("amount_tax") or 0))


def _lines(node, values, goods_tag, with_services=True, returned=False):
    goods = [line for line in values["lines"] if not line.get("service")]
    services = [line for line in values["lines"] if line.get("service")] if with_services else []
    if goods:
        table = _node(node, goods_tag)
        for line in goods:
            row = _node(table, "Строка")
            product = _node(_node(row, "ДанныеНоменклатуры"), "Номенклатура")
            _el(product, "Ссылка", line.get("product_ref"))
            _el(product, "Наименование", line["name"])
            _classifier(row, "ЕдиницаИзмерения", line.get("uom_code"), line.get("uom_name"))
            _el(row, "Количество", quantity(line["quantity"]))
            _el(row, "Сумма", money(line["amount"]))
            _el(row, "Цена", money(line["price"]))
            _vat(row, line)
            if returned:
                # required of a returned row: under which VAT regime the goods come back
                _el(row, "ВозвратПодДеятельность", "ОблагаетсяНДС" if line.get("vat_rate") else "НеОблагаетсяНДС")
    if services:
        table = _node(node, "Услуги")
        for line in services:
            row = _node(table, "Строка")
            product = _node(row, "Номенклатура")
            _el(product, "Ссылка", line.get("product_ref"))
            _el(product, "Наименование", line["name"])
            _el(row, "Количество", quantity(line["quantity"]))
            _el(row, "Сумма", money(line["amount"]))
            _el(row, "Цена", money(line["price"]))
            _vat(row, line)
            _el(row, "Содержание", line.get("description") or None)


def _settlement(node, values):
    settlement = _node(node, "ДанныеВзаиморасчетов")
    if values.get("contract"):
        _contract_keys(settlement, "Договор", values["contract"], values["organization"], values["partner"])
    _currency(settlement, "ВалютаВзаиморасчетов", values["currency"])
    _el(settlement, "РасчетыВУсловныхЕдиницах", boolean(False))


def _document_keys(parent, name, document, organization):
    """The key properties of a document: Ссылка, Дата, Номер, Организация."""
    keys = _node(parent, name)
    _el(keys, "Ссылка", document["ref"])
    _el(keys, "Дата", date_time(document["date"]))
    _el(keys, "Номер", document["number"])
    _organization_keys(keys, "Организация", organization)


def _sales_document(tag, operation, values):
    """What a sale and a return from the customer write alike, in the format's order, up to
    ДанныеВзаиморасчетов."""
    node = etree.Element(f"{{{DATA_NS}}}{tag}")
    _document_keys(node, "КлючевыеСвойства", values, values["organization"])
    _el(node, "ВидОперации", operation)
    _currency(node, "Валюта", values["currency"])
    _el(node, "Сумма", money(values["amount_total"]))
    _el(node, "СуммаВключаетНДС", boolean(values.get("price_include")))
    _counterparty_keys(node, "Контрагент", values["partner"])
    _settlement(node, values)
    return node


def sale(values):
    """Документ.РеализацияТоваровУслуг: a posted customer invoice (goods in Товары, services in
    Услуги; Сумма is the total, tax included; row amounts include VAT when СуммаВключаетНДС)."""
    node = _sales_document(SALE, "РеализацияКлиенту", values)
    _el(node, "Комментарий", values.get("comment") or None)
    _lines(node, values, "Товары")
    return check(node)


def sale_return(values):
    """Документ.ВозвратТоваровОтПокупателя: a posted credit note (its lines in Товары)."""
    node = _sales_document(SALE_RETURN, "ВозвратОтКлиента", values)
    origin = values.get("origin")
    if origin:
        document = _node(node, "ДокументРеализации")
        _document_keys(document, "РеализацияТоваровУслугСсылка", origin, values["organization"])
    _el(node, "Комментарий", values.get("comment") or None)
    _lines(node, {**values, "lines": [dict(line, service=False) for line in values["lines"]]}, "Товары", returned=True)
    return check(node)


def build_message(header, objects):
    """The message as SSL writes it: ``Message`` without a namespace, ``msg:Header``, ``Body``
    in the format's namespace with the objects (already checked)."""
    root = etree.Element("Message", nsmap={"msg": MSG_NS, "xs": XS_NS, "xsi": XSI_NS})
    head = etree.SubElement(root, f"{{{MSG_NS}}}Header")
    etree.SubElement(head, f"{{{MSG_NS}}}Format").text = DATA_NS
    etree.SubElement(head, f"{{{MSG_NS}}}CreationDate").text = date_time(header.get("created") or datetime.now())
    confirmation = etree.SubElement(head, f"{{{MSG_NS}}}Confirmation")
    for tag, key in (
        ("ExchangePlan", "exchange_plan"),
        ("To", "to"),
        ("From", "from"),
        ("MessageNo", "message_no"),
        ("ReceivedNo", "received_no"),
    ):
        value = header.get(key)
        if value in (None, False, "") and tag != "From":
            continue
        etree.SubElement(confirmation, f"{{{MSG_NS}}}{tag}").text = str(value if value is not None else "")
    for version in header.get("versions") or (FORMAT_VERSION,):
        etree.SubElement(head, f"{{{MSG_NS}}}AvailableVersion").text = version
    body = etree.SubElement(root, f"{{{DATA_NS}}}Body", nsmap={None: DATA_NS})
    for element in objects:
        body.append(element)
    errors = schema_errors(root, header=True)
    if errors:
        raise FormatError("Header: " + "; ".join(errors))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


# ---------------------------------------------------------------------- reading
def _local(node):
    return etree.QName(node).localname


def data_namespace(version):
    """Namespace of the objects of EnterpriseData ``version``."""
    return f"http://v8.1c.ru/edi/edi_stnd/EnterpriseData/{version}"


def iter_message(stream, versions=SUPPORTED_VERSIONS):
    """Read a message as 1C writes it from a binary stream, one object at a time (a first load of
    years of history is never held in memory): yields ``("Header", header dict)`` first, then
    ``(type name, element)`` for each object of the Body; an element is cleared once the next one
    is read. The root ``Message`` is read by name, with or without a namespace, as SSL does.
    Raises :class:`FormatError` (not a message, invalid header, format it cannot read) or
    :class:`~.safe_xml.UnsafeContentError` (DTD, entities, not well-formed). ``versions``: the
    versions of the format the exchange system is configured to read (among
    :data:`SUPPORTED_VERSIONS`)."""
    depth, header, body = 0, None, None
    try:
        for event, node in iterparse(stream, events=("start", "end")):
            if event == "start":
                depth += 1
                if depth == 1:
                    docinfo = node.getroottree().docinfo
                    if docinfo.doctype or docinfo.internalDTD is not None:
                        raise UnsafeContentError("XML with a DTD is refused")
                    if _local(node) != "Message":
                        raise FormatError(f"Not an exchange message: the root is {_local(node)}")
                elif depth == 2 and _local(node) == "Body":
                    if header is None:
                        raise FormatError("The message has no Header")
                    body = node
                continue
            depth -= 1
            if depth == 1:
                if _local(node) == "Header" and header is None:
                    header = _read_header(node, versions)
                    yield "Header", header
                elif _local(node) != "Body":
                    raise FormatError(f"Body expected after the Header, found {_local(node)}")
            elif depth == 2 and body is not None and node.getparent() is body:
                if any(isinstance(child, etree._Entity) for child in node.iter()):
                    raise UnsafeContentError("XML with entities is refused")
                yield _local(node), node
                node.clear()
                while node.getprevious() is not None:
                    del body[0]
    except etree.XMLSyntaxError as error:
        raise UnsafeContentError(f"XML is not well-formed: {error}") from error
    if header is None:
        raise FormatError("The message has no Header")


def read_message(data):
    """(header dict, [(type name, element)]) of a whole message given as bytes (see
    :func:`iter_message`)."""
    items = iter_message(io.BytesIO(strip_bom(data) if isinstance(data, bytes) else data.encode("utf-8")))
    header = next(items)[1]
    return header, [(kind, deepcopy(node)) for kind, node in items]


def _read_header(head, versions=SUPPORTED_VERSIONS):
    if head.tag != f"{{{MSG_NS}}}Header":
        raise FormatError(f"The Header is not in the namespace {MSG_NS}")
    errors = _header_errors(head)
    if errors:
        raise FormatError("Header: " + "; ".join(errors))

    def text(path):
        found = head.find(path, namespaces={"m": MSG_NS})
        return found.text.strip() if found is not None and found.text else None

    header = {
        "format": text("m:Format"),
        "exchange_plan": text("m:Confirmation/m:ExchangePlan"),
        "from": text("m:Confirmation/m:From"),
        "to": text("m:Confirmation/m:To"),
        "message_no": int(text("m:Confirmation/m:MessageNo") or 0),
        "received_no": int(text("m:Confirmation/m:ReceivedNo") or 0),
        "versions": [node.text for node in head.findall("m:AvailableVersion", namespaces={"m": MSG_NS})],
    }
    format_uri = (header["format"] or "").split(" ")[0]
    readable = [version for version in versions if version in SUPPORTED_VERSIONS]
    if format_uri not in {data_namespace(version) for version in readable}:
        raise FormatError(
            f"Format {format_uri or '-'} cannot be read: this adapter reads EnterpriseData "
            f"{', '.join(readable) or '-'} ({', '.join(data_namespace(version) for version in readable) or '-'})"
        )
    return header


def _header_errors(head):
    wrapper = etree.Element("Message")
    wrapper.append(deepcopy(head))
    return schema_errors(wrapper, header=True)


@functools.cache
def _text_query(path):
    """The compiled query of the text at ``path`` ("d:" for the format's namespace): a third of
    the time of ``find``, which reads the path again at each call."""
    return etree.ETXPath("string(%s)" % path.replace("d:", f"{{{DATA_NS}}}"))  # noqa: UP031


def _text(node, path):
    """The text of the first element at ``path`` under ``node``, stripped; None when empty or
    missing (the object passed the schema first: a leaf of a simple type)."""
    return _text_query(path)(node).strip() or None


def _amount(node, path):
    value = _text(node, path)
    return Decimal(value) if value is not None else None


def _counterparty_of(node):
    if node is None:
        return None
    return {
        "ref": _text(node, "d:Ссылка"),
        "name": _text(node, "d:Наименование"),
        "full_name": _text(node, "d:НаименованиеПолное"),
        "inn": _text(node, "d:ИНН"),
        "kpp": _text(node, "d:КПП"),
        "is_company": _text(node, "d:ЮридическоеФизическоеЛицо") != "ФизическоеЛицо",
    }


def _keys_of(node):
    """Ссылка, Дата, Номер and the organisation of a document's key properties."""
    if node is None:
        return None
    moment = _text(node, "d:Дата")
    return {
        "ref": _text(node, "d:Ссылка"),
        "date": datetime.fromisoformat(moment[:19]) if moment else None,
        "number": _text(node, "d:Номер"),
        "organization_inn": _text(node, "d:Организация/d:ИНН"),
        "organization_name": _text(node, "d:Организация/d:Наименование"),
    }


def _currency_of(node, path):
    return {
        "code": _text(node, f"{path}/d:ДанныеКлассификатора/d:Код"),
        "name": _text(node, f"{path}/d:ДанныеКлассификатора/d:Наименование"),
    }


def read_counterparty(node):
    check(node)
    values = _counterparty_of(node.find(f"{{{DATA_NS}}}КлючевыеСвойства"))
    values["contacts"] = [
        (_text(row, "d:ВидКонтактнойИнформации"), _text(row, "d:ЗначенияПолей"))
        for row in node.findall("d:КонтактнаяИнформация/d:Строка", namespaces={"d": DATA_NS})
    ]
    return values


def read_sale(node):
    """A sale or a return from 1C: key properties, counterparty, currency, total, lines."""
    check(node)
    values = _keys_of(node.find(f"{{{DATA_NS}}}КлючевыеСвойства"))
    values.update(
        kind="return" if _local(node) == SALE_RETURN else "sale",
        partner=_counterparty_of(node.find(f"{{{DATA_NS}}}Контрагент")),
        currency=_currency_of(node, "d:Валюта"),
        amount_total=_amount(node, "d:Сумма"),
        price_include=_text(node, "d:СуммаВключаетНДС") in ("true", "1"),
        contract_ref=_text(node, "d:ДанныеВзаиморасчетов/d:Договор/d:Ссылка"),
        contract_number=_text(node, "d:ДанныеВзаиморасчетов/d:Договор/d:Номер"),
        origin_ref=_text(node, "d:ДокументРеализации/d:РеализацияТоваровУслугСсылка/d:Ссылка"),
        lines=[],
    )
    ns = {"d": DATA_NS}
    for row in node.findall("d:Товары/d:Строка", namespaces=ns):
        values["lines"].append(
            {
                "name": _text(row, "d:ДанныеНоменклатуры/d:Номенклатура/d:Наименование"),
                "quantity": _amount(row, "d:Количество"),
                "amount": _amount(row, "d:Сумма"),
                "price": _amount(row, "d:Цена"),
                "amount_tax": _amount(row, "d:СуммаНДС") or Decimal(0),
                "service": False,
            }
        )
    for row in node.findall("d:Услуги/d:Строка", namespaces=ns):
        values["lines"].append(
            {
                "name": _text(row, "d:Номенклатура/d:Наименование") or _text(row, "d:Содержание") or "-",
                "quantity": _amount(row, "d:Количество"),
                "amount": _amount(row, "d:Сумма"),
                "price": _amount(row, "d:Цена"),
                "amount_tax": _amount(row, "d:СуммаНДС") or Decimal(0),
                "service": True,
            }
        )
    return values


def read_payment(node):
    """Документ.ПБДСРасчетыСКонтрагентами: a customer's payment with the documents it settles."""
    check(node)
    values = _keys_of(node.find(f"{{{DATA_NS}}}КлючевыеСвойства"))
    values.update(
        kind=_text(node, "d:ВидРасчетов"),
        statement_date=_text(node, "d:ОбщиеДанные/d:ДатаВыписки"),
        currency=_currency_of(node, "d:ОбщиеДанные/d:Валюта"),
        amount=_amount(node, "d:ОбщиеДанные/d:Сумма"),
        purpose=_text(node, "d:ОбщиеДанные/d:НазначениеПлатежа"),
        partner=_counterparty_of(node.find(f"{{{DATA_NS}}}Контрагент")),
        rows=[],
    )
    ns = {"d": DATA_NS}
    for row in node.findall("d:РасшифровкаПлатежа/d:Строка", namespaces=ns):
        document = None
        for tag in ("РеализацияТоваровУслугСсылка", "ВозвратТоваровОтПокупателяСсылка"):
            found = row.find(f"d:ДокументРасчетов/d:{tag}", namespaces=ns)
            if found is not None:
                document = _keys_of(found)
                break
        values["rows"].append(
            {
                "amount": _amount(row, "d:Сумма"),
                "settlement_amount": _amount(row, "d:СуммаВзаиморасчетов"),
                "kind": _text(row, "d:ВидРасчетовРасширенный/d:ВидРасчетовСПокупателямиПоставщиками"),
                "contract_ref": _text(row, "d:ДанныеВзаиморасчетов/d:Договор/d:Ссылка"),
                "document": document,
            }
        )
    return values


#: the readers of the objects applied in batches
READERS = {SALE: read_sale, SALE_RETURN: read_sale, PAYMENT: read_payment}


def iter_read(stream, versions=SUPPORTED_VERSIONS):
    """:func:`iter_message` with each object copied out of the stream and, for the kinds applied in
    batches, read: ``("Header", header, None)``, then ``(type name, element, values)``; values is
    None when the object is not read here or cannot be read (it is read again, and its error
    journaled, where it is applied)."""
    items = iter_message(stream, versions)
    yield (*next(items), None)
    for kind, node in items:
        node = deepcopy(node)
        values = None
        if kind in READERS:
            try:
                values = READERS[kind](node)
            except Exception:  # noqa: BLE001 - read again where the object is applied
                values = None
        yield kind, node, values


def read_deletion(node):
    """УдалениеОбъекта: (type of the reference, e.g. РеализацияТоваровУслугСсылка, reference)."""
    check(node)
    holder = node.find(f"{{{DATA_NS}}}СсылкаНаОбъект/{{{DATA_NS}}}СсылкаНаОбъект")
    for child in holder if holder is not None else ():
        if isinstance(child.tag, str):
            return _local(child), (child.text or "").strip() or None
    raise FormatError("УдалениеОбъекта: no reference")


# ---------------------------------------------------------------------- as 1C writes them
def deletion(kind, ref):
    """УдалениеОбъекта as 1C writes it when an object is deleted (or its deletion is marked)."""
    node = etree.Element(f"{{{DATA_NS}}}{DELETION}")
    _el(_node(_node(node, "СсылкаНаОбъект"), "СсылкаНаОбъект"), kind, ref)
    return check(node)


def payment(values):
    """Документ.ПБДСРасчетыСКонтрагентами as 1C writes it (the test double and the benchmark
    use it to serve what 1C sends)."""
    node = etree.Element(f"{{{DATA_NS}}}{PAYMENT}")
    keys = _node(node, "КлючевыеСвойства")
    _el(keys, "Ссылка", values["ref"])
    _el(keys, "Дата", date_time(values["date"]))
    _el(keys, "Номер", values["number"])
    _organization_keys(keys, "Организация", values["organization"])
    common = _node(node, "ОбщиеДанные")
    _el(common, "ДатаВыписки", (values.get("statement_date") or values["date"]).strftime("%Y-%m-%d"))
    _currency(common, "Валюта", values["currency"])
    _el(common, "Сумма", money(values["amount"]))
    account = _node(common, "БанковскийСчетОрганизации")
    _el(account, "НомерСчета", values.get("organization_account") or "KZ000000000000000001")
    _organization_keys(_node(account, "Владелец"), "ОрганизацииСсылка", values["organization"])
    _el(common, "НазначениеПлатежа", values.get("purpose") or None)
    _el(node, "ВидРасчетов", "СПокупателем")
    if values.get("partner"):
        _counterparty_keys(node, "Контрагент", values["partner"])
    details = _node(node, "РасшифровкаПлатежа")
    for row_values in values["rows"]:
        row = _node(details, "Строка")
        _el(row, "Сумма", money(row_values["amount"]))
        settlement = _node(row, "ДанныеВзаиморасчетов")
        _currency(settlement, "ВалютаВзаиморасчетов", values["currency"])
        kind = _node(row, "ВидРасчетовРасширенный")
        _el(kind, "ВидРасчетовСПокупателямиПоставщиками", "Долг" if row_values.get("document") else "Аванс")
        document = row_values.get("document")
        if document:
            target = _node(_node(row, "ДокументРасчетов"), "РеализацияТоваровУслугСсылка")
            _el(target, "Ссылка", document.get("ref") or ref_of("document", document["number"]))
            _el(target, "Дата", date_time(document["date"]))
            _el(target, "Номер", document["number"])
            _organization_keys(target, "Организация", values["organization"])
    return check(node)
