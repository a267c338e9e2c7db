"""The search results page (GET /search/?q=), grouped by type; with htmx, the header's dropdown."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.views.decorators.http import require_GET

from search.engine import MAX_LENGTH, clean_query, search


@require_GET
@login_required
def results(request):
    raw = request.GET.get("q", "")
    context = {"q": raw.strip()[:MAX_LENGTH], "groups": [], "error": ""}
    status = 200
    if raw.strip():
        try:
            context["groups"] = search(request.user, clean_query(raw))
        except ValidationError as error:
            context["error"] = error.messages[0]
            status = 400
    context["found"] = any(group["results"] for group in context["groups"])
    template = "search/_dropdown.html" if request.htmx else "search/results.html"
    return render(request, template, context, status=200 if request.htmx else status)
