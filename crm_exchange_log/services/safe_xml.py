"""Hardened parsing of everything that comes from outside: XML without DTDs, entities, network
access or huge trees; zip archives within size and ratio limits; text with or without a BOM."""

import io
import zipfile

from lxml import etree

MAX_UNZIPPED_SIZE = 50 * 1024 * 1024  # 50 MB in total
MAX_RATIO = 100  # uncompressed / compressed
MAX_MEMBERS = 100
MAX_STREAMED_SIZE = 4 * 1024 * 1024 * 1024  # 4 GiB unpacked, read as a stream (1C's first load)


class UnsafeContentError(ValueError):
    """The content is refused (DTD, entity, zip bomb...)."""

    crm_exchange_clear = True  # the journal shows the text alone


def _parser():
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        dtd_validation=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )


def strip_bom(data):
    if isinstance(data, bytes):
        for bom in (b"\xef\xbb\xbf",):
            if data.startswith(bom):
                return data[len(bom) :]
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return data.decode("utf-16").encode("utf-8")
        return data
    return data.lstrip("\ufeff")


def parse_xml(data):
    """Parse XML bytes or text; a DOCTYPE (hence any DTD or entity declaration) is refused."""
    data = strip_bom(data)
    if isinstance(data, str):
        data = data.encode("utf-8")
        # an encoding declaration of the text would now be wrong: lxml reads the bytes as UTF-8
        if data.lstrip().startswith(b"<?xml"):
            end = data.find(b"?>")
            data = b'<?xml version="1.0" encoding="UTF-8"?>' + data[end + 2 :]
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise UnsafeContentError(f"XML is not well-formed: {error}") from error
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None or tree.docinfo.externalDTD is not None:
        raise UnsafeContentError("XML with a DTD is refused")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeContentError("XML with entities is refused")
    return root


def unzip_single(data, max_size=MAX_UNZIPPED_SIZE, max_ratio=MAX_RATIO):
    """The content of the (first) file of a zip archive, refused past the size or ratio limits."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as error:
        raise UnsafeContentError(f"Not a zip archive: {error}") from error
    members = [info for info in archive.infolist() if not info.is_dir()]
    if not members:
        raise UnsafeContentError("Empty zip archive")
    if len(members) > MAX_MEMBERS:
        raise UnsafeContentError("Too many files in the zip archive")
    total = sum(info.file_size for info in members)
    compressed = sum(info.compress_size for info in members) or 1
    if total > max_size or total / compressed > max_ratio:
        raise UnsafeContentError(
            f"Zip archive refused: {total} bytes unpacked from {compressed} "
            f"(limits {max_size} bytes, ratio {max_ratio})"
        )
    info = members[0]
    # the declared sizes can lie: read at most the limit
    with archive.open(info) as member:
        content = member.read(max_size + 1)
    if len(content) > max_size or len(content) / max(info.compress_size, 1) > max_ratio:
        raise UnsafeContentError("Zip archive refused: its content exceeds the limits")
    return content


def zip_single(name, content):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


class _LimitedStream(io.RawIOBase):
    """A zip member read as a stream that stops at ``max_size`` bytes (declared sizes can lie)."""

    def __init__(self, member, max_size, archive):
        self._member = member
        self._archive = archive
        self._left = max_size

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self._member.read(min(len(buffer), self._left + 1))
        self._left -= len(data)
        if self._left < 0:
            raise UnsafeContentError("Zip archive refused: its content exceeds the limits")
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        self._member.close()
        self._archive.close()
        return super().close()


def open_zip_member(fileobj, max_size=MAX_STREAMED_SIZE, max_ratio=MAX_RATIO):
    """(stream, size) of the first file of a zip archive given as a file object, read without
    holding it in memory; refused past the size or compression ratio limits."""
    try:
        archive = zipfile.ZipFile(fileobj)
    except zipfile.BadZipFile as error:
        raise UnsafeContentError(f"Not a zip archive: {error}") from error
    members = [info for info in archive.infolist() if not info.is_dir()]
    if not members:
        raise UnsafeContentError("Empty zip archive")
    if len(members) > MAX_MEMBERS:
        raise UnsafeContentError("Too many files in the zip archive")
    info = members[0]
    compressed = max(info.compress_size, 1)
    if info.file_size > max_size or info.file_size / compressed > max_ratio:
        raise UnsafeContentError(
            f"Zip archive refused: {info.file_size} bytes unpacked from {compressed} "
            f"(limits {max_size} bytes, ratio {max_ratio})"
        )
    limit = min(max_size, compressed * max_ratio)
    stream = io.BufferedReader(_LimitedStream(archive.open(info), limit, archive), buffer_size=1024 * 1024)
    return stream, info.file_size


def iterparse(stream, **kwargs):
    """lxml's iterparse, hardened as :func:`parse_xml` (no DTD loading, entities, network)."""
    return etree.iterparse(
        stream,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        dtd_validation=False,
        remove_comments=True,
        remove_pis=True,
        **kwargs,
    )
