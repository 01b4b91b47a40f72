"""Hardened parsing of everything that comes from outside: XML without DTDs, entities, network
access or huge trees; zip archives within size and ratio limits; text with or without a BOM."""

import io
import zipfile

from lxml import etree

MAX_UNZIPPED_SIZE = 50 * 1024 * 1024  # 50 MB in total
MAX_RATIO = 100  # uncompressed / compressed
MAX_MEMBERS = 100


class UnsafeContentError(ValueError):
    """The content is refused (DTD, entity, zip bomb...)."""


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
