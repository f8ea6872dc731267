"""Reading what the assistant sends as a person would: the text of a PDF, a console's output
with French typography's no-break spaces read as spaces."""

from __future__ import annotations

import io
import re


def as_read(text: str) -> str:
    """Text as the eye reads it: the (narrow) no-break spaces of French typography are spaces."""
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed to single spaces."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-"), "not a PDF"
    reader = PdfReader(io.BytesIO(data))
    text = " ".join(page.extract_text() for page in reader.pages)
    return re.sub(r"\s+", " ", as_read(text)).strip()


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", as_read(page.extract_text())).strip() for page in reader.pages]
