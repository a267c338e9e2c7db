"""OpenAPI schema additions: the one error body, declared on every operation for every error it can return.

drf-spectacular documents the success responses; this post-processing hook
adds, to every operation, the 400/401/403/404/429 responses any endpoint can
give (bad query parameters, no or bad token, role or object refused, missing
or other tenant's object, rate limit), 409 and 412 on writes and 415 where a body is
accepted, all with the `Error` schema.
"""

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {
                    "type": "string",
                    "description": "Machine-readable: invalid, parse_error, not_authenticated, "
                    "authentication_failed, permission_denied, not_found, method_not_allowed, "
                    "unsupported_media_type, throttled, conflict, restore_conflict, revert_conflict, "
                    "version_conflict, ...",
                },
                "message": {"type": "string", "description": "For people: what went wrong."},
                "fields": {
                    "type": "object",
                    "description": 'Per input field (dotted when nested, e.g. "items.2.id"): its messages.',
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
                "parent": {
                    "type": "object",
                    "description": "restore_conflict only: the deleted parent to restore first.",
                    "required": ["type", "id"],
                    "properties": {"type": {"type": "string"}, "id": {"type": "integer"}},
                },
                "current_version": {
                    "type": "integer",
                    "description": "version_conflict (412) on one record: the version it is at now.",
                },
                "changed": {
                    "type": "array",
                    "items": {"type": "integer"},
                    "description": "version_conflict (412) of a bulk request: the ids that changed since.",
                },
            },
        }
    },
}

ERRORS = {
    "400": ("BadRequest", "Invalid input: malformed JSON, wrong types, unknown fields or query parameters."),
    "401": ("Unauthenticated", "No credentials, or an invalid token."),
    "403": ("Forbidden", "Your role or the object's permissions do not allow this."),
    "404": ("NotFound", "No such object in your company visible to you (or no such page)."),
    "409": ("Conflict", "The current state of the data does not allow this change."),
    "412": (
        "PreconditionFailed",
        "If-Match (or the versions sent) names a version the record no longer has; nothing was written.",
    ),
    "415": ("UnsupportedMediaType", "The body must be application/json."),
    "429": ("Throttled", "Too many requests for this token; retry after Retry-After seconds."),
}
WRITES = {"post", "put", "patch", "delete"}


def _response(code: str, description: str) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if code == "429":
        response["headers"] = {
            "Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}, "required": True}
        }
    if code == "401":
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


# A list asked for with ?format= answers with the file (crm.exports) instead of the JSON page.
EXPORT_MEDIA_TYPES = {
    "text/csv": {"schema": {"type": "string"}},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
        "schema": {"type": "string", "format": "binary"}
    },
}


def _add_export_media_types(operation, responses) -> None:
    if any(p.get("name") == "format" and p.get("in") == "query" for p in operation.get("parameters", [])):
        content = responses.setdefault("200", {"description": ""}).setdefault("content", {})
        for media_type, body in EXPORT_MEDIA_TYPES.items():
            content.setdefault(media_type, body)


def add_error_responses(result, generator, request, public):
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    shared = components.setdefault("responses", {})
    for code, (name, description) in ERRORS.items():
        shared[name] = _response(code, description)
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete", "head"}:
                continue
            codes = ["400", "401", "403", "404", "429"]
            if method in WRITES:
                codes += ["409", "412"]
            if "requestBody" in operation:
                codes.append("415")
            responses = operation.setdefault("responses", {})
            _add_export_media_types(operation, responses)
            for code in codes:
                responses.setdefault(code, {"$ref": f"#/components/responses/{ERRORS[code][0]}"})
    # Request bodies: unknown properties are refused by the resources.
    for name, schema in schemas.items():
        if name.endswith("Request") and schema.get("type") == "object":
            schema["additionalProperties"] = False
    return result
