"""MediaWiki XML exports: every revision of a page is a version of one document."""

from __future__ import annotations

import hashlib
import io

from lxml import etree

from ..errors import SourceError
from ..models import RawVersion, SourceFile
from .wikimarkup import infobox_params, lift_references, reduce_wikitext


def parse(text: str, source: SourceFile) -> list[RawVersion]:
    """One RawVersion per revision, oldest first, all sharing the page's lineage key."""
    versions: list[RawVersion] = []
    site = None
    try:
        context = etree.iterparse(
            io.BytesIO(text.encode("utf-8")), events=("end",), recover=False, resolve_entities=False,
            no_network=True, huge_tree=False,
        )  # fmt: skip
        page_title = None
        for _event, elem in context:
            tag = etree.QName(elem).localname
            if tag == "sitename":
                site = (elem.text or "").strip() or None
            elif tag == "title" and etree.QName(elem.getparent()).localname == "page":
                page_title = (elem.text or "").strip()
            elif tag == "revision":
                versions.append(_revision(elem, page_title or "", source, site, len(versions)))
                elem.clear()
            elif tag == "page":
                elem.clear()
    except etree.XMLSyntaxError as exc:
        raise SourceError(source.path, f"malformed XML export: {exc}") from None
    order = sorted(range(len(versions)), key=lambda i: (versions[i].timestamp or "", i))
    return [versions[i] for i in order]


def _revision(elem: etree._Element, page_title: str, source: SourceFile, site: str | None, index: int) -> RawVersion:
    timestamp = None
    wikitext = ""
    contributor = None
    revision_id = None
    for child in elem:
        tag = etree.QName(child).localname
        if tag == "id":
            revision_id = (child.text or "").strip() or None
        elif tag == "timestamp":
            timestamp = (child.text or "").strip() or None
        elif tag == "text":
            wikitext = child.text or ""
        elif tag == "contributor":
            for sub in child:
                if etree.QName(sub).localname in ("username", "ip") and sub.text:
                    contributor = sub.text.strip()
    body, infobox = infobox_params(lift_references(wikitext))
    reduced = reduce_wikitext(body)
    key = hashlib.sha256(f"mediawiki\0{site or ''}\0{page_title}".encode()).hexdigest()[:16]
    return RawVersion(
        source=source,
        doc_type="mediawiki",
        blocks=reduced.blocks,
        title=page_title or None,
        infobox=tuple(infobox),
        authors=(contributor,) if contributor else (),
        date_strings=(("revision", timestamp),) if timestamp else (),
        timestamp=timestamp,
        lineage_key=key,
        site=site,
        # Every revision is an entry of the timeline, also one whose text equals an earlier one.
        revision=revision_id or timestamp or f"#{index}",
        categories=reduced.categories,
    )
