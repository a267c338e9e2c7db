"""Import pages: upload, the mapping, the preview, progress, the result and its revert; delete by list."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from crm.recyclebin.requests import bin_view
from imports import actions, listdelete, tasks
from imports.files import BadFile, read_table
from imports.forms import DeleteListForm, UploadForm
from imports.models import Import, ImportRow
from imports.specs import spec_for

SHOWN_ROWS = 200


def _job(request, pk) -> Import:
    job = actions.visible_imports(request.user).filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@bin_view
@require_GET
def import_list(request):
    jobs = actions.visible_imports(request.user)[:100]
    return render(request, "imports/import_list.html", {"jobs": jobs})


@bin_view
@require_http_methods(["GET", "POST"])
def new(request):
    form = UploadForm(
        request.POST or None, request.FILES or None, initial={"record_type": request.GET.get("type", "customer")}
    )
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = actions.upload(
                upload.read(),
                upload.name,
                form.cleaned_data["record_type"],
                mode=form.cleaned_data["mode"],
                acting_user=request.user,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            return redirect("imports:detail", job.pk)
    return render(request, "imports/upload.html", {"form": form})


@bin_view
@require_http_methods(["GET", "POST"])
def detail(request, pk):
    job = _job(request, pk)
    error = None
    if request.method == "POST":
        step = request.POST.get("step")
        try:
            if step == "preview":
                mapping = {header: request.POST.get(f"map-{index}", "") for index, header in enumerate(job.headers)}
                job = actions.set_mapping(
                    job,
                    mapping,
                    request.POST.get("mode", job.mode),
                    allow_duplicates=request.POST.get("allow_duplicates") == "1",
                    acting_user=request.user,
                )
                tasks.start(job, "preview", request.user)
            elif step == "run":
                tasks.start(job, "run", request.user)
            elif step == "revert":
                job = actions.revert(job, acting_user=request.user)
                messages.success(
                    request,
                    _("The import was reverted. What it created is in the recycle bin."),
                    extra_tags=f"undo:{job.revert_batch}",
                )
            return redirect("imports:detail", job.pk)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        except actions.ActionConflict as problem:
            error = str(problem)
    spec = spec_for(job.record_type)
    fields = [(name, spec.model._meta.get_field(name).verbose_name) for name in spec.fields]
    columns = [
        {"index": index, "header": header, "field": job.mapping.get(header, "")}
        for index, header in enumerate(job.headers)
    ]
    rows = ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job).order_by("line")
    outcome = request.GET.get("outcome")
    if outcome in ImportRow.Outcome.values:
        rows = rows.filter(outcome=outcome)
    context = {
        "job": job,
        "error": error,
        "fields": fields,
        "columns": columns,
        "modes": Import.Mode.choices,
        "rows": rows.only("line", "outcome", "reason", "record_id")[:SHOWN_ROWS],
        "done": actions.progress(job),
        "editable": job.status in (Import.Status.UPLOADED, Import.Status.PREVIEWED),
        "outcome": outcome,
    }
    return render(request, "imports/detail.html", context, status=409 if error else 200)


@bin_view
@require_GET
def failed_rows(request, pk):
    """The lines that failed, as they were read, with a reason column: fix them and import again."""
    job = _job(request, pk)
    out = io.StringIO()
    out.write("\ufeff")  # Excel reads UTF-8 (Chinese) right with a BOM
    writer = csv.writer(out)
    writer.writerow([*job.headers, _("reason")])
    for row in ImportRow.all_objects.filter(tenant_id=job.tenant_id, batch=job, outcome="error").order_by("line"):
        writer.writerow([*row.cells, row.reason])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-failed.csv"'
    return response


@bin_view
@require_http_methods(["GET", "POST"])
def delete_by_list(request):
    form = DeleteListForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        spec = spec_for(form.cleaned_data["record_type"])
        try:
            values = _list_values(form.cleaned_data["file"], form.cleaned_data["column"])
        except BadFile as problem:
            form.add_error("file", problem.messages)
        else:
            if not request.membership or not actions.records.may(request.user, "delete", spec.model):
                raise PermissionDenied(
                    _("Your role may not delete %(types)s.") % {"types": spec.model._meta.verbose_name_plural}
                )
            found, missing = listdelete.match(spec.model, values, form.cleaned_data["kind"], request.user)
            context = {
                "previewed": True,
                "form": form,
                "found": found[:100],
                "found_count": len(found),
                "missing": missing[:100],
                "missing_count": len(missing),
            }
            context["ids"] = ",".join(str(record.pk) for record in found)
            context["delete_url"] = reverse("bin:delete", args=[spec.name])
            return render(request, "imports/delete_list.html", context)
    return render(request, "imports/delete_list.html", {"form": form})


def _list_values(upload, column: str) -> list[str]:
    table = read_table(upload.read(), upload.name)
    header = column.strip()
    if header and header not in table.headers:
        raise BadFile(_("The file has no column “%(header)s”.") % {"header": header[:100]})
    index = table.headers.index(header) if header else 0
    values = list(dict.fromkeys(row[index] for row in table.rows() if row[index]))
    if len(values) > listdelete.MAX_VALUES:
        raise BadFile(_("A list holds at most %(max)s values.") % {"max": listdelete.MAX_VALUES})
    first = table.headers[0]
    if not header and ("@" in first or any(character.isdigit() for character in first)):
        values = list(dict.fromkeys([table.headers[0], *values]))  # a list without a header line
    return values
