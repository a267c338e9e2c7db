"""`python -m backups.walfetch SOURCE TARGET`: an encrypted archived WAL segment (SOURCE, <name>.gz.enc)
decrypted and decompressed into TARGET, for the restore_command of a recovering server
(backups/wal.py). The key comes from CRM_WAL_KEY in the environment (the scratch server's, set by
backups/pitr.py), never from the command line. Exit 1 with a line on stderr when it cannot.

It runs once per segment while a server replays WAL, so it loads no Django project.
"""

from __future__ import annotations

import base64
import gzip
import io
import os
import sys
from pathlib import Path


def fetch(source: Path, target: Path, key: bytes) -> None:
    from backups.crypto import decrypt

    with source.open("rb") as sealed:
        packed = io.BytesIO()
        decrypt(sealed, packed, key)
    partial = target.with_name(target.name + ".part")
    with partial.open("wb") as plain:
        plain.write(gzip.decompress(packed.getvalue()))
    os.replace(partial, target)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m backups.walfetch SOURCE TARGET", file=sys.stderr)
        return 2
    try:
        key = base64.urlsafe_b64decode(os.environ.get("CRM_WAL_KEY", "").encode())
        fetch(Path(argv[0]), Path(argv[1]), key)
    except Exception as error:  # the server only reads the exit code; the log keeps the reason
        print(f"walfetch: {argv[0]}: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
