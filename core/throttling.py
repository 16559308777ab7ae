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

from core import cache, metrics

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
    thousands of floats at our rates); a counter per window is one increment and loses no update
    to a parallel request. An API view plans its counters before authentication (core.generics),
    so they are counted in the round trip that reads the rest of the request's cache. If the
    cache fails, requests pass: a throttle must not turn an outage of the cache into an outage
    of the API.
    """

    def counter_key(self, request, view, member_id: int | None) -> str | None:
        """The counter of this request, as `member_id` (None: anonymous); None: not counted."""
        return self.cache_format % {
            "scope": self.scope,
            "ident": member_id or self.get_ident(request),
        }

    def get_cache_key(self, request, view):
        user = request.user
        return self.counter_key(request, view, user.pk if user.is_authenticated else None)

    def planned_counter(self, request, view, member_id: int | None) -> dict[str, int]:
        """{the windowed counter key: window seconds} this request will count, to plan it."""
        key = self.counter_key(request, view, member_id) if self.rate else None
        return {} if key is None else {self._windowed(key): self.duration}

    def _windowed(self, key: str) -> str:
        now = self.timer()
        self.window_start = now - now % self.duration
        return f"{key}:{int(self.window_start)}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count = cache.count(request, self._windowed(key), self.duration)
        if count is None:
            return True  # the cache failed (logged there): let the request through
        self.retry_after = max(self.window_start + self.duration - self.timer(), 1)
        if count > self.num_requests:
            metrics.THROTTLED.labels(self.scope).inc()
            return False
        return True

    def wait(self):
        return self.retry_after


class AnonRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.AnonRateThrottle):
    """Anonymous requests, per client address (THROTTLE_ANON)."""

    def counter_key(self, request, view, member_id):
        return None if member_id else super().counter_key(request, view, None)


class UserRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.UserRateThrottle):
    """Requests per authenticated user, per client address otherwise (THROTTLE_USER)."""


class ScopedRateThrottle(CurrentRateMixin, FixedWindowMixin, throttling.ScopedRateThrottle):
    """The stricter rate a view names in `throttle_scope` (`login`, `signup`), per client."""

    def __init__(self):
        pass  # DRF's learns its scope, and so its rate, from the view: see _use_scope_of

    def _use_scope_of(self, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            self.rate = None
            return False
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return True

    def planned_counter(self, request, view, member_id):
        return super().planned_counter(request, view, member_id) if self._use_scope_of(view) else {}

    def allow_request(self, request, view):
        return super().allow_request(request, view) if self._use_scope_of(view) else True


class LoginEmailRateThrottle(CurrentRateMixin, throttling.SimpleRateThrottle):
    """Failed logins per email, whichever addresses they come from (THROTTLE_LOGIN_EMAIL).

    Only failures spend the budget, failed admin logins too (Django's `user_login_failed`
    signal). Once an email has used up its failures, every login with it is refused, the right
    password included, until the window that its first failure opened has passed.

    A login through the API reserves its try with one atomic `incr` before the password is
    checked, and gets it back unless it failed (`settle`, when the view answers). Checking the
    count first and counting failures afterwards would let guesses sent at once all pass the
    check before the first of them is counted.
    """

    scope = "login_email"
    RESERVATION = "login_email_reservation"

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
        tries = self._spend(key)
        self.retry_at = self.cache.get(f"{key}_since", self.timer()) + self.duration
        if tries > self.num_requests:
            self._give_back(key)
            metrics.THROTTLED.labels(self.scope).inc()
            return False
        setattr(request, self.RESERVATION, {"key": key, "failed": False})
        return True

    def wait(self):
        return max(self.retry_at - self.timer(), 1)

    @classmethod
    def settle(cls, request) -> None:
        """Give the reserved try back unless the login failed (success, or a 422 before it)."""
        reservation = getattr(request, cls.RESERVATION, None)
        if reservation and not reservation["failed"]:
            cls()._give_back(reservation["key"])
            reservation["failed"] = True  # settled: never given back twice

    def record_failure(self, email, request=None) -> None:
        key = self.key_for(email) if self.rate else None
        if key is None:
            return
        reservation = getattr(request, self.RESERVATION, None)
        if reservation and reservation["key"] == key:
            reservation["failed"] = True  # the try it reserved is spent
            return
        self._spend(key)

    def _spend(self, key) -> int:
        # add() only sets a missing key: the first try opens the window, later ones count in it.
        self.cache.add(f"{key}_since", self.timer(), self.duration)
        self.cache.add(key, 0, self.duration)
        try:
            return self.cache.incr(key)
        except ValueError:  # the window closed between add() and incr()
            self.cache.add(key, 1, self.duration)
            return 1

    def _give_back(self, key) -> None:
        try:
            self.cache.decr(key)
        except ValueError:  # the window closed meanwhile: nothing left to give back
            pass


@receiver(user_login_failed, dispatch_uid="core.throttling.count_failed_login")
def count_failed_login(sender, credentials, request=None, **kwargs):
    """Every failed `authenticate()` (the API's /login, the admin) spends its email's budget."""
    email = credentials.get("username") or credentials.get("email")
    LoginEmailRateThrottle().record_failure(email, request)
