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
