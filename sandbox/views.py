"""The sandbox's front page: what runs here, so a person trying `make run` can find it."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.html import escape

from sandbox.demo import DEMO_USERS

SERVICES = [
    ("OpenID Connect provider (discovery)", "/idp/.well-known/openid-configuration"),
    ("JWKS", "/idp/.well-known/jwks.json"),
    ("Youth membership API (GraphQL, POST)", "/youth/graphql/"),
]


def index(request: HttpRequest) -> HttpResponse:
    base = settings.BASE_URL
    services = "".join(
        f'<li>{escape(name)}: <a href="{escape(base + path)}">{escape(base + path)}</a></li>'
        for name, path in SERVICES
    )
    users = "".join(f"<li><code>{escape(u.username)}</code></li>" for u in DEMO_USERS)
    html = (
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>Sandbox</title>"
        "<h1>Sandbox: local stand-ins for the city's systems</h1>"
        f"<ul>{services}</ul>"
        f"<h2>Demo users (password <code>demo</code>)</h2><ul>{users}</ul></html>"
    )
    return HttpResponse(html)
