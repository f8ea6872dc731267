"""Reading the documents the assistant sends, as a person would: the text of a PDF."""

from __future__ import annotations

import io
import re


def pdf_text(data: bytes) -> str:
    """The text of every page of a PDF, whitespace collapsed to single spaces."""
    from pypdf import PdfReader

    assert data.startswith(b"%PDF-"), "not a PDF"
    reader = PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages)).strip()


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page, whitespace collapsed."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    return [re.sub(r"\s+", " ", page.extract_text()).strip() for page in reader.pages]
