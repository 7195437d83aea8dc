"""The floor for the HTTP figures: the cheapest logged-in view the site's stack can serve."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET


@require_GET
@never_cache
def trivial(request):
    """Same server, middleware and login as the badge (reading request.user loads the session
    and the user: 2 queries), then a constant tiny response."""
    return HttpResponse(b"ok" if request.user.is_authenticated else b"anonymous", content_type="text/plain")
