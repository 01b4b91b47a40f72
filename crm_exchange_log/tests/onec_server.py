"""A SOAP server that speaks 1C's EnterpriseDataExchange_1_0_1_1 like 1C does (spyne), run on
127.0.0.1 in a thread by the tests: Basic auth, asynchronous operations that stay ``Active`` for
a few polls, files in parts, ErrorMessage answers and faults in Russian, and misbehaviours
(slow answers, HTML error pages, DTDs, zip bombs) switched on per test."""

import base64
import io
import logging
import threading
import time
import uuid
import zipfile
from copy import deepcopy
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from lxml import etree
from spyne import Application, Boolean, ByteArray, ComplexModel, Decimal, Integer, ServiceBase, Unicode, rpc
from spyne.model.fault import Fault
from spyne.protocol.soap import Soap11
from spyne.server.wsgi import WsgiApplication

from ..services import enterprise_data as ed
from ..services.safe_xml import parse_xml

NAMESPACE = "http://www.1c.ru/SSL/EnterpriseDataExchange_1_0_1_1"
RESULT_NS = "http://v8.1c.ru/SSL/Exchange/EnterpriseDataExchange"
MSG_NS = "http://www.1c.ru/SSL/Exchange/Message"
USER = "Обмен"
PASSWORD = "пароль-секрет"


class OneCState:
    """What the fake 1C received and how it behaves; reset by each test."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.parts = {}  # file id -> {number: bytes}
        self.applied = []  # EnterpriseData messages applied (root elements)
        self.applied_numbers = set()
        self.put_calls = 0
        self.polls = {}  # operation id -> remaining Active polls
        self.active_polls = 2
        self.outgoing = None  # zipped message to give on PrepareDataForGetting
        self.outgoing_part_size = 300
        self.prepared = {}  # operation id -> file id
        self.files = {}  # file id -> list of parts
        self.confirmed = []
        self.mode = None  # error_message, fault, slow, html500, dtd, zipbomb, bom, fail_once
        self.slow_seconds = 3
        self.fail_once_done = False
        self.last_auth = None
        self.rejected = []  # (message bytes, 1C's error) of the messages 1C refused
        self.results = {}  # operation id of PutData -> (status, error message)
        self.received_no = 0  # highest message number of CRM applied
        self.pool = []  # objects registered for CRM and not confirmed yet: (element, sent in message no)
        self.sent_no = 0  # number of 1C's last message to CRM
        self.node_code = "CRM1C"
        self.max_objects = None  # objects per message (None: all that are registered)


STATE = OneCState()


def _active(operation_id):
    remaining = STATE.polls.get(operation_id, 0)
    if remaining > 0:
        STATE.polls[operation_id] = remaining - 1
        return True
    return False


class PrepareDataOperationResult(ComplexModel):
    """The XDTO object of the package EnterpriseDataExchange_1_0_1_1 that 1C returns."""

    __namespace__ = RESULT_NS
    _type_info = [("ErrorMessage", Unicode), ("FileID", Unicode), ("PartCount", Integer), ("Status", Unicode)]


def read_like_1c(message):
    """What SSL's reader says of a message (None when it reads it): the root ``Message`` read by
    name, the Header read with XDTOFactory.ReadXML, then each object of the Body read against its
    type; one invalid object fails the whole message. The compact schema stands for the format."""
    try:
        root = parse_xml(message)
    except ValueError as error:
        return f"Ошибка чтения XML: {error}"
    if etree.QName(root).localname != "Message":
        return "Ошибка формата сообщения обмена: ожидался элемент Message"
    head = root.find(f"{{{MSG_NS}}}Header")
    if head is None or root[0] is not head:
        return "Ошибка формата сообщения обмена: ожидался элемент Header"
    errors = ed._header_errors(head)
    if errors:
        return "Ошибка преобразования данных XDTO: Header: " + "; ".join(errors)
    body = root.find(f"{{{ed.DATA_NS}}}Body")
    if body is None:
        return "Ошибка формата сообщения обмена: ожидался элемент Body"
    for node in body:
        kind = etree.QName(node).localname
        if etree.QName(node).namespace != ed.DATA_NS or kind not in ed.OBJECT_TYPES:
            return f"Ошибка преобразования данных XDTO: тип {kind} не найден в пакете {ed.DATA_NS}"
        errors = ed.schema_errors(node)
        if errors:
            return f"Ошибка преобразования данных XDTO: ЧтениеXML: {kind}: " + "; ".join(errors)
    return None


def message_from_1c(message_no, received_no, objects, sender="CRM1C", receiver="CRM"):
    """A message exactly as SSL writes it (DataExchangeXDTOServer.WriteExchangeMessageHeader and
    OpenExportFile): the root Message without a namespace, msg:Header, Body with the objects."""
    root = etree.Element("Message", nsmap={"msg": MSG_NS, "xs": ed.XS_NS, "xsi": ed.XSI_NS})
    head = etree.SubElement(root, f"{{{MSG_NS}}}Header")
    etree.SubElement(head, f"{{{MSG_NS}}}Format").text = ed.DATA_NS
    etree.SubElement(head, f"{{{MSG_NS}}}CreationDate").text = "2026-11-30T10:15:42"
    confirmation = etree.SubElement(head, f"{{{MSG_NS}}}Confirmation")
    etree.SubElement(confirmation, f"{{{MSG_NS}}}ExchangePlan").text = "СинхронизацияДанныхЧерезУниверсальныйФормат"
    etree.SubElement(confirmation, f"{{{MSG_NS}}}To").text = receiver
    etree.SubElement(confirmation, f"{{{MSG_NS}}}From").text = sender
    etree.SubElement(confirmation, f"{{{MSG_NS}}}MessageNo").text = str(message_no)
    etree.SubElement(confirmation, f"{{{MSG_NS}}}ReceivedNo").text = str(received_no)
    for version in ("1.8", "1.10", "1.11"):
        etree.SubElement(head, f"{{{MSG_NS}}}AvailableVersion").text = version
    body = etree.SubElement(root, f"{{{ed.DATA_NS}}}Body", nsmap={None: ed.DATA_NS})
    for node in objects:
        body.append(deepcopy(node))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def zip_message(message):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.xml", message)
    return buffer.getvalue()


class EnterpriseDataExchange(ServiceBase):
    @rpc(_returns=Unicode, _out_variable_name="return")
    def Ping(ctx):
        return ""

    @rpc(Unicode, Unicode, _returns=(Boolean, Unicode), _out_variable_names=("return", "ErrorMessage"))
    def TestConnection(ctx, ExchangePlanName, PeerCode):
        if PeerCode != "CRM1C":
            return False, "Предварительная настройка не найдена. Обратитесь к администратору приложения."
        return True, ""

    @rpc(Unicode, Integer, ByteArray, _returns=(Unicode, Unicode), _out_variable_names=("return", "ErrorMessage"))
    def PutFilePart(ctx, FileID, PartNumber, PartData):
        STATE.parts.setdefault(FileID, {})[PartNumber] = b"".join(PartData or [])
        return "", ""

    @rpc(
        Unicode,
        Unicode,
        Unicode,
        _returns=(Unicode, Unicode, Unicode),
        _out_variable_names=("return", "OperationID", "ErrorMessage"),
    )
    def PutData(ctx, ExchangePlanName, PeerCode, FileID):
        STATE.put_calls += 1
        if STATE.mode == "error_message":
            return "", "", "Не удалось загрузить данные: неизвестный формат сообщения"
        if STATE.mode == "fault":
            raise Fault(
                faultcode="Server",
                faultstring="Ошибка при вызове метода контекста (PutData): нет прав на загрузку данных",
            )
        if STATE.mode == "slow":
            time.sleep(STATE.slow_seconds)
        parts = STATE.parts.get(FileID) or {}
        data = b"".join(parts[number] for number in sorted(parts))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            message = archive.read(archive.namelist()[0])
        operation_id = str(uuid.uuid4())
        STATE.polls[operation_id] = STATE.active_polls
        error = read_like_1c(message)
        if error:
            STATE.rejected.append((message, error))
            STATE.results[operation_id] = ("Failed", error)
        else:
            root = etree.fromstring(message)
            number = int(root.findtext(f"{{{MSG_NS}}}Header/{{{MSG_NS}}}Confirmation/{{{MSG_NS}}}MessageNo") or 0)
            received = int(root.findtext(f"{{{MSG_NS}}}Header/{{{MSG_NS}}}Confirmation/{{{MSG_NS}}}ReceivedNo") or 0)
            sender = root.findtext(f"{{{MSG_NS}}}Header/{{{MSG_NS}}}Confirmation/{{{MSG_NS}}}From")
            # SSL: the changes registered for the node are cleared up to the number it received
            STATE.pool = [(node, sent) for node, sent in STATE.pool if not sent or sent > received]
            if (sender, number) not in STATE.applied_numbers:
                STATE.applied_numbers.add((sender, number))
                STATE.received_no = max(STATE.received_no, number)
                if len(root.find(f"{{{ed.DATA_NS}}}Body")):
                    STATE.applied.append(root)
            STATE.results[operation_id] = ("Completed", "")
        if STATE.mode == "fail_once" and not STATE.fail_once_done:
            # applied, but the answer is lost: the client must send the same message again
            STATE.fail_once_done = True
            raise Fault(faultcode="Server", faultstring="Соединение прервано")
        return "", operation_id, ""

    @rpc(Unicode, _returns=(Unicode, Unicode), _out_variable_names=("return", "ErrorMessage"))
    def PutDataActionResult(ctx, OperationID):
        if OperationID not in STATE.polls:
            return "Canceled", ""
        if _active(OperationID):
            return "Active", ""
        return STATE.results.get(OperationID, ("Completed", ""))

    @rpc(
        Unicode,
        Unicode,
        Decimal,
        _returns=(Unicode, Unicode, Unicode),
        _out_variable_names=("return", "OperationID", "ErrorMessage"),
    )
    def PrepareDataForGetting(ctx, ExchangePlanName, PeerCode, PartSize):
        operation_id = str(uuid.uuid4())
        STATE.polls[operation_id] = STATE.active_polls
        data = STATE.outgoing
        if data is None and STATE.pool:
            # every object not confirmed yet, in a message with a new number (as SSL does)
            STATE.sent_no += 1
            count = STATE.max_objects or len(STATE.pool)
            STATE.pool = [
                (node, STATE.sent_no if index < count else sent) for index, (node, sent) in enumerate(STATE.pool)
            ]
            data = zip_message(
                message_from_1c(STATE.sent_no, STATE.received_no, [node for node, _sent in STATE.pool[:count]])
            )
        file_id = str(uuid.uuid4()) if data else ""
        if file_id:
            size = STATE.outgoing_part_size
            STATE.files[file_id] = [data[i : i + size] for i in range(0, len(data), size)]
        STATE.prepared[operation_id] = file_id
        return "", operation_id, ""

    @rpc(
        Unicode,
        _returns=(PrepareDataOperationResult, Unicode),
        _out_variable_names=("return", "ErrorMessage"),
    )
    def PrepareDataActionResult(ctx, OperationID):
        if _active(OperationID):
            return PrepareDataOperationResult(ErrorMessage="", FileID="", PartCount=0, Status="Active"), ""
        file_id = STATE.prepared.get(OperationID, "")
        result = PrepareDataOperationResult(
            ErrorMessage="", FileID=file_id, PartCount=len(STATE.files.get(file_id, [])), Status="Completed"
        )
        return result, ""

    @rpc(Unicode, Integer, _returns=(ByteArray, Unicode), _out_variable_names=("return", "ErrorMessage"))
    def GetDataPart(ctx, FileID, PartNumber):
        return [STATE.files[FileID][PartNumber - 1]], ""

    @rpc(Unicode, Boolean, _returns=(Unicode, Unicode), _out_variable_names=("return", "ErrorMessage"))
    def ConfirmGettingFile(ctx, FileID, ClearDataPool):
        STATE.confirmed.append(FileID)
        return "", ""


def _wsgi_app():
    application = Application(
        [EnterpriseDataExchange],
        tns=NAMESPACE,
        name="EnterpriseDataExchange_1_0_1_1",
        in_protocol=Soap11(),
        out_protocol=Soap11(),
    )
    soap = WsgiApplication(application)
    expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    def app(environ, start_response):
        auth = environ.get("HTTP_AUTHORIZATION")
        STATE.last_auth = auth
        if auth != expected:
            start_response(
                "401 Unauthorized",
                [("Content-Type", "text/html; charset=utf-8"), ("WWW-Authenticate", 'Basic realm="1C"')],
            )
            return [
                (
                    "<html><head><title>401 Unauthorized</title></head><body><h1>Доступ запрещен</h1></body></html>"
                ).encode()
            ]
        if STATE.mode == "html500":
            start_response("500 Internal Server Error", [("Content-Type", "text/html; charset=utf-8")])
            return [
                "<html><head><title>Ошибка сервера 1С:Предприятия</title></head><body>"
                "<h1>500</h1><p>Информационная база заблокирована для обновления</p></body></html>".encode()
            ]
        if STATE.mode == "dtd":
            start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8")])
            return [
                b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
                b'<m:PingResponse xmlns:m="' + NAMESPACE.encode() + b'"><m:return>&lol2;</m:return></m:PingResponse>'
                b"</soap:Body></soap:Envelope>"
            ]
        if STATE.mode == "bom":
            chunks = []
            captured = {}

            def capture(status, headers, exc_info=None):
                captured["status"], captured["headers"] = status, headers

            body = b"".join(soap(environ, capture))
            body = b"\xef\xbb\xbf" + body
            headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
            start_response(captured["status"], headers)
            chunks.append(body)
            return chunks
        return soap(environ, start_response)

    return app


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


def start_server():
    """Start the fake 1C on a free port: (server, url)."""
    # spyne logs the faults it answers with as errors: they are what the tests ask for
    logging.getLogger("spyne").setLevel(logging.CRITICAL)
    server = make_server("127.0.0.1", 0, _wsgi_app(), server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}/base/ws/EnterpriseDataExchange_1_0_1_1.1cws"


def zip_bomb(size=200 * 1024 * 1024):
    """A small zip that unpacks to ``size`` bytes of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        with archive.open("Message.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1024 * 1024)
            for _i in range(size // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()
