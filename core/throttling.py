"""Request rates: per client and per user everywhere, per client on sign-up and login, and
failed logins per email (settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], from THROTTLE_*)."""

import hashlib
import logging
from collections.abc import Mapping

from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ImproperlyConfigured
from django.dispatch import receiver
from rest_framework import throttling
from rest_framework.settings import api_settings

logger = logging.getLogger(__name__)


class CurrentRateMixin:
    """Look the rate up when a request comes, not when DRF is imported.

    DRF copies the rates into a class attribute at import, so a changed setting (a test's
    `settings` fixture) would otherwise go unnoticed.
    """

    def get_rate(self):
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate for the {self.scope!r} scope") from None


class FixedWindowMixin:
    """Count requests in fixed windows with one atomic `incr`, instead of DRF's history list.

    DRF reads, rewrites and re-pickles a list of every request's time on each request (up to
    thousands of floats at our rates); a counter per window is one cache round trip and loses
    no update to a parallel request. If the cache fails, requests pass: a throttle must not
    turn an outage of the cache into an outage of the API.
    """

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window_start = now - now % self.duration
        key = f"{key}:{int(window_start)}"
        try:
            count = self._count(key)
        except Exception:
            logger.warning("Throttle cache failed; letting the request through", exc_info=True)
            return True
        self.retry_after = max(window_start + self.duration - now, 1)
        return count <= self.num_requests

    def _count(self, key) -> int:
        try:
            return self.cache.incr(key)
        except ValueError:  # the window's first request
            if self.cache.add(key, 1, self.duration):
                return 1
            return self.cache.incr(key)

    def wait(self):
        return self.retry_after


class AnonRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous requests, per client address (THROTTLE_ANON)."""


class UserRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.UserRateThrottle):
    """Requests per authenticated user, per client address otherwise (THROTTLE_USER)."""


class ScopedRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.ScopedRateThrottle):
    """The stricter rate a view names in `throttle_scope` (`login`, `signup`), per client."""

    def allow_request(self, request, view):
        # DRF's ScopedRateThrottle learns its scope from the view here; then count as the rest.
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)


class LoginEmailRateThrottle(CurrentRateMixin, throttling.SimpleRateThrottle):
    """Failed logins per email, whichever addresses they come from (THROTTLE_LOGIN_EMAIL).

    Checking does not count: only a failure does (`record_failure`, on Django's
    `user_login_failed` signal, so failed admin logins count too). Once an email has used up its
    failures, every login with it is refused, the right password included, until the window that
    its first failure opened has passed. The count is an atomic `incr`: parallel guesses cannot
    slip through on lost updates, as they could with DRF's read-modify-write history.
    """

    scope = "login_email"

    def get_cache_key(self, request, view):
        data = request.data if isinstance(request.data, Mapping) else {}
        return self.key_for(data.get("username") or data.get("email"))

    def key_for(self, email) -> str | None:
        if not isinstance(email, str) or not email.strip():
            return None
        # Login matches emails case-insensitively; a digest keeps addresses out of the cache.
        # JSON may carry lone surrogates ("\ud800"), which strict UTF-8 cannot encode.
        digest = hashlib.sha256(email.strip().lower().encode(errors="surrogatepass")).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}

    def allow_request(self, request, view):
        key = self.get_cache_key(request, view) if self.rate else None
        if key is None:
            return True
        now = self.timer()
        window = self.cache.get_many([key, f"{key}_since"])
        self.retry_at = window.get(f"{key}_since", now) + self.duration
        return window.get(key, 0) < self.num_requests

    def wait(self):
        return max(self.retry_at - self.timer(), 1)

    def record_failure(self, email) -> None:
        key = self.key_for(email) if self.rate else None
        if key is None:
            return
        # add() only sets a missing key: the first failure opens the window, later ones count in it.
        self.cache.add(f"{key}_since", self.timer(), self.duration)
        self.cache.add(key, 0, self.duration)
        try:
            self.cache.incr(key)
        except ValueError:  # the window closed between add() and incr()
            self.cache.add(key, 1, self.duration)


@receiver(user_login_failed, dispatch_uid="core.throttling.count_failed_login")
def count_failed_login(sender, credentials, **kwargs):
    """Every failed `authenticate()` (the API's /login, the admin) spends its email's budget."""
    LoginEmailRateThrottle().record_failure(credentials.get("username") or credentials.get("email"))
