"""The demo site's URLs plus a single sign-on endpoint, for the tests of logins the service
worker never sees: it logs a user in with Django's own login(), with no login form. Like a
SAML assertion consumer, it takes a POST and answers with a page; the GET variant redirects,
like an OAuth callback."""

from __future__ import annotations

from django.contrib.auth import get_user_model, login
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from config.urls import urlpatterns as site_urlpatterns

PAGE = "<!doctype html><html lang='en'><title>Signed in</title><h1>Signed in as {name}</h1></html>"


@csrf_exempt  # the identity provider's form posts here, as SAML's POST binding does
def sso(request):
    user = get_user_model()._default_manager.get_by_natural_key(
        request.POST.get("user") or request.GET["user"]
    )
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    if request.method == "POST":
        return HttpResponse(PAGE.format(name=user.get_username()))
    return redirect("inbox:index")


urlpatterns = [*site_urlpatterns, path("sso/", sso)]
