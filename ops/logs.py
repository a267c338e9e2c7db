"""Log lines as JSON (python-json-logger), each with the request id of what it belongs to.

A request's id comes from the request (crm.tenancy.middleware); a Celery task's is its
context's, else the task id; a command's is its context's, else one id for the process.
"""

from __future__ import annotations

import logging

from celery import current_task
from pythonjsonlogger.json import JsonFormatter

from crm.tenancy.context import get_context

FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        context = get_context()
        record.request_id = context.request_id
        if current_task and current_task.request.id:
            record.task_id = current_task.request.id
            record.task = current_task.name
            if context.process == "" and context.user is None and context.tenant is None:
                record.request_id = current_task.request.id
        if context.tenant is not None:
            record.company = context.tenant.slug
        return True


def json_formatter() -> JsonFormatter:
    return JsonFormatter(FIELDS, rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})
