import json
from functools import cache

from django.conf import settings
from django.http import HttpResponseForbidden, JsonResponse
from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.oauth2 import Server

from .validators import PeeringDbValidator


@cache
def profiles():
    """Each person's `/profile/v1` answer, by user id, from the file the
    load driver wrote (the stand-in has no networks of its own)."""
    with open(settings.STANDIN_PEOPLE, encoding="utf-8") as f:
        return {p["profile"]["id"]: p["profile"] for p in json.load(f)["people"]}


def profile(request):
    """PeeringDB's `/profile/v1`: who the token's owner is, their email with
    the `email` scope, their networks with `networks`; 403 with an empty
    body for a token it does not know, as PeeringDB answers."""
    valid, oauth = OAuthLibCore(Server(PeeringDbValidator())).verify_request(request, scopes=["profile"])
    if not valid:
        return HttpResponseForbidden()
    scopes = set(oauth.access_token.scope.split())
    answer = dict(profiles()[oauth.user.pk])
    if "email" not in scopes:
        answer.pop("email", None)
        answer.pop("verified_email", None)
    if "networks" not in scopes:
        answer.pop("networks", None)
    return JsonResponse(answer)
