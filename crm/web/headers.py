"""Cache-Control for what only one person may see."""

from django.utils.cache import add_never_cache_headers


class NoStoreForSignedIn:
    """Pages for a signed-in user and every API answer are never stored by a browser or a proxy
    (`Cache-Control: no-store`): after sign-out, the back button or a shared computer's cache
    must not show a company's records. Static files and the sign-in page stay cacheable."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        already = "no-store" in response.get("Cache-Control", "")
        if not already and (request.path.startswith("/api/") or (user is not None and user.is_authenticated)):
            add_never_cache_headers(response)
        return response
