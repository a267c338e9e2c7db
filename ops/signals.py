"""Celery signals: beat's tick (it publishes the heartbeat) and every task's run and failure."""

from celery.signals import before_task_publish, task_failure, task_postrun

from ops import heartbeat, metrics


@before_task_publish.connect
def beat_ticked(sender=None, body=None, **kwargs):
    args = body[0] if isinstance(body, (list, tuple)) and body else ()
    if sender == heartbeat.TASK and heartbeat.FROM_BEAT in args:
        heartbeat.record(heartbeat.BEAT_KEY)


@task_postrun.connect
def task_ran(sender=None, **kwargs):
    metrics.count_task(sender.name, metrics.TASK_RUNS)


@task_failure.connect
def task_failed(sender=None, **kwargs):
    metrics.count_task(sender.name, metrics.TASK_FAILURES)
