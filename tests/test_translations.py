"""The Simplified Chinese catalogue is complete: every message translated, none fuzzy.

`make makemessages` refreshes locale/zh_Hans/LC_MESSAGES/django.po from the code; a new
or changed UI string then shows up here as untranslated (or fuzzy) until someone
translates it. The .po is read with Babel, which the build already uses to compile it.
"""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def load():
    with PO.open("rb") as f:
        return read_po(f, locale="zh_Hans")


def label(message) -> str:
    msgid = message.id[0] if message.pluralizable else message.id
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    return f"{msgid!r} ({where})"


def translations(message) -> list[str]:
    if message.pluralizable:
        return list(message.string or ())
    return [message.string or ""]


@pytest.fixture(scope="module")
def catalogue():
    return [message for message in load() if message.id]


def test_the_catalogue_has_messages(catalogue):
    assert len(catalogue) > 500


def test_chinese_has_one_plural_form():
    header = load().mime_headers
    assert ("Plural-Forms", "nplurals=1; plural=0;") in header


def test_every_message_is_translated(catalogue):
    untranslated = [label(m) for m in catalogue if not all(s.strip() for s in translations(m))]
    assert not untranslated, f"{len(untranslated)} untranslated zh_Hans messages:\n" + "\n".join(untranslated)


def test_no_message_is_fuzzy(catalogue):
    fuzzy = [label(m) for m in catalogue if m.fuzzy]
    assert not fuzzy, f"{len(fuzzy)} fuzzy zh_Hans messages (check, then drop the flag):\n" + "\n".join(fuzzy)


def test_plural_messages_have_exactly_one_form(catalogue):
    wrong = [label(m) for m in catalogue if m.pluralizable and len(translations(m)) != 1]
    assert not wrong, "zh_Hans plural messages need exactly msgstr[0]:\n" + "\n".join(wrong)


def test_placeholders_survive_translation():
    # Babel's checkers: the same %(name)s placeholders in msgid and msgstr.
    problems = [f"{label(message)}: {'; '.join(str(error) for error in errors)}" for message, errors in load().check()]
    assert not problems, "\n".join(problems)


def test_the_catalogue_holds_every_message_of_the_code(tmp_path):
    """makemessages run on a copy of the sources finds no message the committed catalogue lacks."""
    sources = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for name in sources.splitlines():
        if not name.startswith(("tests/", "bench/")) and (ROOT / name).is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "--locale", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        capture_output=True,
        check=True,
    )
    with (tmp_path / PO.relative_to(ROOT)).open("rb") as f:
        extracted = {
            message.id if isinstance(message.id, str) else message.id[0] for message in read_po(f) if message.id
        }
    committed = {message.id if isinstance(message.id, str) else message.id[0] for message in load() if message.id}
    missing = sorted(extracted - committed)
    assert not missing, "messages missing from the zh_Hans catalogue (run `make makemessages`):\n" + "\n".join(
        repr(message) for message in missing
    )
