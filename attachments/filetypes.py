"""Which files may be attached: an allow-list by extension, checked against the file's first bytes.

The name alone proves nothing: a .pdf must start like a PDF (filetype reads the magic
numbers), and a text file must not be a binary in disguise. A file is always served
with the type of this list, as a download, so even a text file holding HTML is never
rendered by the browser.
"""

from __future__ import annotations

import filetype
from django.utils.translation import gettext as _

HEAD_BYTES = 8192  # what the sniffing reads (filetype's own signature length)

ZIP = "application/zip"
OOXML = "application/vnd.openxmlformats-officedocument."
ODF = "application/vnd.oasis.opendocument."
# extension -> (the type it is served as, the types its first bytes may show; None: text)
ALLOWED: dict[str, tuple[str, frozenset[str] | None]] = {
    "pdf": ("application/pdf", frozenset({"application/pdf"})),
    "png": ("image/png", frozenset({"image/png"})),
    "jpg": ("image/jpeg", frozenset({"image/jpeg"})),
    "jpeg": ("image/jpeg", frozenset({"image/jpeg"})),
    "gif": ("image/gif", frozenset({"image/gif"})),
    "webp": ("image/webp", frozenset({"image/webp"})),
    # Office documents are zip files; the sniffer names the kind only when it sees the part early.
    "docx": (f"{OOXML}wordprocessingml.document", frozenset({f"{OOXML}wordprocessingml.document", ZIP})),
    "xlsx": (f"{OOXML}spreadsheetml.sheet", frozenset({f"{OOXML}spreadsheetml.sheet", ZIP})),
    "pptx": (f"{OOXML}presentationml.presentation", frozenset({f"{OOXML}presentationml.presentation", ZIP})),
    "odt": (f"{ODF}text", frozenset({f"{ODF}text", ZIP})),
    "ods": (f"{ODF}spreadsheet", frozenset({f"{ODF}spreadsheet", ZIP})),
    "zip": (ZIP, frozenset({ZIP})),
    "txt": ("text/plain", None),
    "csv": ("text/csv", None),
}


class TypeRefused(ValueError):
    """`str()` is the message for people."""


def extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def allowed_extensions() -> list[str]:
    return sorted(ALLOWED)


def content_type(name: str, head: bytes) -> str:
    """The type `name` is served as, if its extension is allowed and `head` (its first bytes) agrees."""
    entry = ALLOWED.get(extension(name))
    if entry is None:
        raise TypeRefused(
            _("Files of this type cannot be attached. Allowed: %(extensions)s.")
            % {"extensions": ", ".join(allowed_extensions())}
        )
    served, expected = entry
    guess = filetype.guess_mime(head) if head else None
    if expected is None:
        if b"\x00" in head or guess is not None:
            raise TypeRefused(_("The file is named as text but its content is not text."))
    elif guess not in expected:
        raise TypeRefused(
            _("The content of the file does not match its name (.%(extension)s).") % {"extension": extension(name)}
        )
    return served
