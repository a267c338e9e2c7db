"""What dead workers leave behind, cleared within minutes (tasks.sweep_dead_work, every five minutes).

Each kind of work holds a PostgreSQL advisory lock for as long as it runs, in a session
that dies with its process; work whose lock nobody holds has no worker any more:

- a backup: the one-backup lock (backups.dump) -> the run is failed, its partial files deleted;
- a restore: its run's lock (backups.restore) -> the run is failed;
- a drill: its drill's lock (backups.drills) -> the drill is failed (the backup keeps its status:
  the worker died, not the file);
- a scratch database or a decrypted copy of a backup: its claim (backups.postgres.claim), held
  in the server's "postgres" database, since other databases on the server share them -> dropped
  or deleted. One whose claim is held belongs to a live process, of this database or another,
  and is never touched.
"""

from __future__ import annotations

from dataclasses import dataclass

from backups import postgres, storage
from backups.drills import mark_stale_drills
from backups.dump import mark_stale_runs
from backups.restore import mark_stale_restores


@dataclass(frozen=True)
class SweepReport:
    backups: int
    restores: int
    drills: int
    scratch_databases: list[str]
    plain_files: list[str]


def sweep() -> SweepReport:
    return SweepReport(
        backups=mark_stale_runs(),
        restores=mark_stale_restores(),
        drills=mark_stale_drills(),
        scratch_databases=postgres.drop_dead_scratch_databases(),
        plain_files=delete_dead_plain_files(),
    )


def delete_dead_plain_files() -> list[str]:
    """Decrypted copies of backups whose reader died."""
    directory = storage.backup_dir()
    if not directory.is_dir():
        return []
    names = sorted(path.name for path in directory.glob(f"{storage.PLAIN_PREFIX}*"))
    with postgres.unclaimed(names) as dead:
        for name in dead:
            (directory / name).unlink(missing_ok=True)
    return dead
