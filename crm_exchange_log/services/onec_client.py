"""SOAP client of 1C's EnterpriseDataExchange_1_0_1_1 web service (SSL), built on zeep.

Every XML it parses is hardened (no DTD, entities, external references or huge trees), zipped
files are unpacked within limits, HTTP has connect and operation timeouts and TLS verification;
every failure becomes a :class:`OneCError` with a message an integrator understands."""

import base64
import logging
import os
import re
import tempfile
import time
from urllib.parse import urlsplit, urlunsplit

import requests
import zeep
from lxml import etree
from requests.auth import HTTPBasicAuth
from zeep import exceptions as zeep_exceptions
from zeep.transports import Transport

from .safe_xml import zip_single

_logger = logging.getLogger(__name__)

NAMESPACE = "http://www.1c.ru/SSL/EnterpriseDataExchange_1_0_1_1"
BINDING = f"{{{NAMESPACE}}}EnterpriseDataExchange_1_0_1_1SoapBinding"
WSDL_PATH = os.path.join(
    os.path.dirname(os.path.dirname(__file__)), "static", "wsdl", "EnterpriseDataExchange_1_0_1_1.wsdl"
)


MAX_DOWNLOAD = 512 * 1024 * 1024  # bytes of a zipped file from 1C
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _without_userinfo(error):
    """The text of an error without the user:password@ of an address it quotes."""
    return re.sub(r"(https?://)[^/@\s]*@", r"\1", str(error))


class OneCError(Exception):
    """An exchange with 1C failed; the message is meant for the journal."""

    crm_exchange_clear = True


def _html_text(content):
    """The readable text of an HTML error page (title and body), short."""
    if not content:
        return ""
    if isinstance(content, bytes):
        content = content.decode("utf-8-sig", errors="replace")
    content = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", content)
    text = re.sub(r"<[^>]+>", " ", content)
    return re.sub(r"\s+", " ", text).strip()[:500]


class _CheckedTransport(Transport):
    """HTTP errors that are not SOAP (401, HTML pages of a proxy or of 1C's web server) are
    reported as such instead of as an "unknown fault"."""

    def post(self, address, message, headers):
        response = super().post(address, message, headers)
        content_type = response.headers.get("Content-Type", "")
        if response.status_code in (401, 403) or (response.status_code >= 400 and "xml" not in content_type):
            raise zeep_exceptions.TransportError(status_code=response.status_code, content=response.content)
        return response


class OneCClient:
    def __init__(
        self,
        url,
        username=None,
        password=None,
        timeout=30,
        exchange_plan=None,
        peer_code=None,
        own_peer_code=None,
        part_size_kb=1024,
        poll_interval=1.0,
        max_polls=120,
        verify=True,
        max_parts=10000,
        max_bytes=MAX_DOWNLOAD,
    ):
        if not url:
            raise OneCError("The 1C web service URL is not set (Settings > CrmAI > 1C).")
        self.url = re.sub(r"\?wsdl$", "", url.strip(), flags=re.IGNORECASE)
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise OneCError("The 1C web service URL must be an http(s) address (Settings > CrmAI > 1C).")
        # an address never shows a user name or password (errors and journal quote it)
        self.display_url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        if username and parts.scheme == "http" and parts.hostname not in LOOPBACK:
            raise OneCError(
                f"The 1C password is not sent over plain http to {parts.hostname}: publish 1C over https "
                "(Settings > CrmAI > 1C)."
            )
        self.timeout = timeout or 30
        self.exchange_plan = exchange_plan
        self.peer_code = peer_code
        self.own_peer_code = own_peer_code
        self.part_size = max(int(part_size_kb or 1024), 1) * 1024
        self.poll_interval = poll_interval
        self.max_polls = max_polls
        self.max_parts = max_parts
        self.max_bytes = max_bytes
        session = requests.Session()
        session.verify = verify
        if username:
            session.auth = HTTPBasicAuth(username.encode("utf-8"), (password or "").encode("utf-8"))
        transport = _CheckedTransport(session=session, timeout=self.timeout, operation_timeout=self.timeout)
        settings = zeep.Settings(
            strict=False,
            xml_huge_tree=False,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
        client = zeep.Client(wsdl=WSDL_PATH, transport=transport, settings=settings)
        self.client = client
        self.service = client.create_service(BINDING, self.url)

    # ------------------------------------------------------------------ calls
    def _call(self, operation, **params):
        try:
            result = getattr(self.service, operation)(**params)
        except zeep_exceptions.Fault as fault:
            raise OneCError(f"1C SOAP fault in {operation}: {fault.message}") from fault
        except requests.exceptions.Timeout as error:
            raise OneCError(f"1C did not answer {operation} within {self.timeout} s") from error
        except requests.exceptions.SSLError as error:
            raise OneCError(f"TLS verification of the 1C server failed: {error}") from error
        except requests.exceptions.ConnectionError as error:
            raise OneCError(f"Cannot connect to 1C at {self.display_url}: {_without_userinfo(error)}") from error
        except zeep_exceptions.TransportError as error:
            if error.status_code in (401, 403):
                raise OneCError(f"1C refused the user name or password (HTTP {error.status_code})") from error
            raise OneCError(
                f"1C answered HTTP {error.status_code} to {operation}: {_html_text(error.content)}"
            ) from error
        except (zeep_exceptions.DTDForbidden, zeep_exceptions.EntitiesForbidden) as error:
            raise OneCError(f"1C's answer to {operation} is refused: XML with a DTD or entities") from error
        except (zeep_exceptions.XMLSyntaxError, etree.XMLSyntaxError) as error:
            raise OneCError(f"1C's answer to {operation} is not valid XML: {error}") from error
        error_message = getattr(result, "ErrorMessage", None) if not isinstance(result, (str, bool)) else None
        if error_message:
            raise OneCError(f"1C: {error_message}")
        return result

    def ping(self):
        self._call("Ping")
        return True

    def test_connection(self):
        result = self._call("TestConnection", ExchangePlanName=self.exchange_plan, PeerCode=self.peer_code)
        if not result["return"]:
            raise OneCError("1C: the connection test failed")
        return True

    def _wait(self, operation, operation_id):
        """Poll an asynchronous operation of 1C until it leaves ``Active``. PutDataActionResult
        answers the status as a string, PrepareDataActionResult as a PrepareDataOperationResult
        object (Status, ErrorMessage, FileID, PartCount); ``Failed`` and ``Canceled`` are errors."""
        for _poll in range(self.max_polls):
            result = self._call(operation, OperationID=operation_id)
            value = result["return"]
            status = value if isinstance(value, str) or value is None else value["Status"]
            if status != "Active":
                if status not in ("Completed",):
                    error = None if isinstance(value, str) or value is None else value["ErrorMessage"]
                    raise OneCError(f"1C: {operation} {status or 'без состояния'}" + (f": {error}" if error else ""))
                return value
            time.sleep(self.poll_interval)
        raise OneCError(f"1C is still busy after {self.max_polls} polls of {operation}")

    def put_message(self, file_id, message):
        """Send an EnterpriseData message: zipped, in parts, then PutData and polling."""
        data = zip_single("Message.xml", message)
        parts = [data[i : i + self.part_size] for i in range(0, len(data), self.part_size)] or [b""]
        for number, part in enumerate(parts, start=1):
            self._call("PutFilePart", FileID=file_id, PartNumber=number, PartData=part)
        result = self._call("PutData", ExchangePlanName=self.exchange_plan, PeerCode=self.peer_code, FileID=file_id)
        self._wait("PutDataActionResult", result["OperationID"])
        return {"file_id": file_id, "parts": len(parts), "operation_id": result["OperationID"]}

    def get_message(self):
        """Ask 1C to prepare its changes and download them: (file id, zip file object) or
        (None, None). The parts (GetDataPart 1..PartCount) are written one after the other to a
        temporary file, so that years of history never sit in memory."""
        result = self._call(
            "PrepareDataForGetting",
            ExchangePlanName=self.exchange_plan,
            PeerCode=self.peer_code,
            PartSize=self.part_size // 1024,
        )
        prepared = self._wait("PrepareDataActionResult", result["OperationID"])
        if prepared["ErrorMessage"]:
            raise OneCError(f"1C: {prepared['ErrorMessage']}")
        file_id, count = prepared["FileID"], int(prepared["PartCount"] or 0)
        if not file_id or not count:
            return None, None
        if count > self.max_parts:
            raise OneCError(f"1C's file {file_id} has {count} parts: more than {self.max_parts} are refused")
        spool = tempfile.TemporaryFile()
        try:
            size = 0
            for number in range(1, count + 1):
                part = self._call("GetDataPart", FileID=file_id, PartNumber=number)["return"]
                part = base64.b64decode(part) if isinstance(part, str) else (part or b"")
                size += len(part)
                if size > self.max_bytes:
                    raise OneCError(f"1C's file {file_id} is refused: more than {self.max_bytes} bytes")
                spool.write(part)
            spool.seek(0)
        except Exception:
            spool.close()
            raise
        return file_id, spool

    def confirm(self, file_id):
        self._call("ConfirmGettingFile", FileID=file_id, ClearDataPool=True)
