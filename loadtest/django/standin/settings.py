"""A PeeringDB stand-in for the load driver (`peerportal-load --django`).

PeeringDB's login is django-oauth-toolkit mounted at /oauth2/, a profile at
/profile/v1 and its own login page; this project is that shape and nothing
more, served by Django's own server on loopback. The load driver writes the
people and the client into STANDIN_PEOPLE, runs `migrate` and `standin_load`,
then `runserver`. Nothing here is fit for anything but a benchmark: the
secret key is made at start, passwords are hashed with MD5 (so the stand-in's
CPU goes to the OAuth flow, not to PBKDF2), DEBUG is off.
"""
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = secrets.token_urlsafe(50)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "standin",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "standin.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("STANDIN_DB", str(BASE_DIR / "standin.sqlite3")),
        # runserver answers each request on its own thread: writers queue
        # for the lock instead of failing with "database is locked".
        "OPTIONS": {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
LOGIN_URL = "/account/login/"
USE_TZ = True
TIME_ZONE = "UTC"
STANDIN_PEOPLE = os.environ.get("STANDIN_PEOPLE", "")

# Django's runserver, like Python's socketserver under it, leaves Nagle's
# algorithm on and writes a response's status line, headers and body in
# separate sends: on a reused connection the later sends can wait for the
# client's delayed ACK (up to 40 ms on Linux). Production servers in front
# of PeeringDB set TCP_NODELAY; STANDIN_NODELAY=1 does the same here, so the
# load driver can show what that costs.
if os.environ.get("STANDIN_NODELAY") == "1":
    from django.core.servers import basehttp

    basehttp.WSGIRequestHandler.disable_nagle_algorithm = True

# One signing key per start, as a fresh PeeringDB deployment would have.
_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    "OAUTH2_VALIDATOR_CLASS": "standin.validators.PeeringDbValidator",
    "PKCE_REQUIRED": True,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name",
        "email": "Your email address",
        "networks": "The networks you belong to and your permissions there",
        "amr": "How you signed in",
    },
    "DEFAULT_SCOPES": ["profile"],
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http", "https"],
    "ACCESS_TOKEN_EXPIRE_SECONDS": 3600,
}
# No line per request: the stand-in's time goes to the flow.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "WARNING"},
    "loggers": {"django.server": {"level": "WARNING"}},
}
