"""What the report queries share: the period as aware datetimes, filling empty buckets, owner names."""

from datetime import date, datetime, time, timedelta

from django.utils import timezone

from reports.filters import Filters, add_months


def bounds(filters: Filters) -> tuple[datetime, datetime]:
    """[start, end) in the user's time zone: the whole first and last days."""
    zone = timezone.get_current_timezone()
    start = datetime.combine(filters.start, time.min, tzinfo=zone)
    end = datetime.combine(filters.end + timedelta(days=1), time.min, tzinfo=zone)
    return start, end


def day(value) -> date | None:
    """A truncated bucket as a date (TruncMonth of a timestamp is an aware datetime)."""
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def months(filters: Filters) -> list[date]:
    """The first day of every month of the period, so months without data show as zeros."""
    first, result = add_months(filters.start, 0), []
    while first <= filters.end:
        result.append(first)
        first = add_months(first, 1)
    return result


def weeks(filters: Filters) -> list[date]:
    """The Monday of every week of the period (PostgreSQL's date_trunc('week') starts on Monday)."""
    monday = filters.start - timedelta(days=filters.start.weekday())
    result = []
    while monday <= filters.end:
        result.append(monday)
        monday += timedelta(days=7)
    return result


def percent(part, whole) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def days(duration) -> float | None:
    return round(duration.total_seconds() / 86400, 1) if duration is not None else None
