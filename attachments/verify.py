"""Are a database's files whole? Each attachment's chunks, joined in order, must have its size
and its SHA-256. Restore drills ask this of every restored backup (backups/drills.py)."""

DAMAGED = """
SELECT a.tenant_id, a.id
FROM attachments_attachment AS a
LEFT JOIN LATERAL (
    SELECT count(*) AS chunks, max(c.seq) AS last, sum(octet_length(c.data)) AS bytes,
           encode(sha256(string_agg(c.data, ''::bytea ORDER BY c.seq)), 'hex') AS digest
    FROM attachments_attachmentchunk AS c
    WHERE c.tenant_id = a.tenant_id AND c.attachment_id = a.id
) AS stored ON true
WHERE stored.chunks = 0 OR stored.last <> stored.chunks - 1
   OR stored.bytes <> a.size OR stored.digest IS DISTINCT FROM a.sha256
ORDER BY a.tenant_id, a.id
"""


def damaged_files(cursor) -> list[dict]:
    """[{"table", "tenant", "attachment"}] of the files whose bytes are missing or differ (psycopg2 cursor)."""
    cursor.execute("SELECT to_regclass('attachments_attachment') IS NOT NULL")
    if not cursor.fetchone()[0]:  # a backup from before attachments existed
        return []
    cursor.execute(DAMAGED)
    return [
        {"table": "attachments_attachment", "tenant": str(tenant_id), "attachment": pk, "problem": "bytes differ"}
        for tenant_id, pk in cursor.fetchall()
    ]
