"""Posts, the votes (likes) members give them, and the counts kept beside them.

Counts are never counted per request: each post carries its vote and comment counts, and each
member's posts are counted by who may see them (`PostCounts`, with `PostTotals` over everyone).
Every write that moves one moves it with `F()` arithmetic in the same transaction, whichever
path it takes (the API, the admin, moderation, a cascade), so the counts are as exact as the
rows.
"""

from django.conf import settings
from django.db import models, router, transaction
from django.db.models import F, Q
from django.dispatch import Signal
from django.utils import timezone

from accounts.models import without_blocked
from core import cache
from core.db import CounterQuerySet

# What decides who may see a post: (field name, column attribute).
STATE_FIELDS = (("owner", "owner_id"), ("published", "published"), ("hidden_at", "hidden_at"))
# Who may see a post, by its state: everyone (public), its owner and staff (hidden by a
# moderator), its owner alone (a draft, hidden or not).
PUBLIC, HIDDEN, DRAFTS = "public", "hidden", "drafts"


def audience(*, published: bool, hidden: bool) -> str:
    if not published:
        return DRAFTS
    return HIDDEN if hidden else PUBLIC


def can_see(
    user, *, owner_id: int, published: bool, hidden: bool, blocked: frozenset = frozenset()
) -> bool:
    """`PostQuerySet.visible_to` for one post already in hand (a cached one): the same rule.

    `blocked`: the members `user` blocked or was blocked by (`Block.objects.hidden_ids`).
    """
    if user.is_authenticated and owner_id == user.pk:
        return True
    if not published:
        return False
    if user.is_authenticated and user.is_staff:
        return True
    return not hidden and owner_id not in blocked


class PostQuerySet(models.QuerySet):
    def visible_to(self, user, *, blocked: frozenset | None = None):
        """The one visibility rule, used by the API, the admin and the services.

        Everyone sees published posts that no moderator hid; owners see all of their own
        (drafts and hidden ones). Between two members where either blocked the other, neither
        sees the other's posts. Staff see every published post, hidden or not and blocks or
        not (moderating needs it), but not other people's drafts. `can_see` is the same rule
        for a post already in hand.

        `blocked`: whom `user` is blocked with, when the caller knows already (a cached set);
        the query then does without its two subqueries on blocks.
        """
        if not user.is_authenticated:
            return self.public()
        if user.is_staff:
            return self.filter(Q(published=True) | Q(owner_id=user.pk))
        shown = self.filter(Q(published=True, hidden_at__isnull=True) | Q(owner_id=user.pk))
        if blocked is None:
            return without_blocked(shown, user.pk, field="owner_id")
        return shown.exclude(owner_id__in=blocked) if blocked else shown

    def public(self):
        """What everyone sees: published posts that no moderator hid."""
        return self.filter(published=True, hidden_at__isnull=True)

    def search(self, term: str):
        """Case-insensitive literal substring of the title (`%` and `_` match themselves)."""
        return self.filter(title__icontains=term) if term else self

    def newest_first(self):
        return self.order_by("-created_at", "-id")

    def state_for_update(self, pk) -> dict | None:
        """What decides who may see post `pk`, as it is now, its row locked until commit."""
        return (
            self.select_for_update()
            .filter(pk=pk)
            .values(*(attname for _, attname in STATE_FIELDS))
            .first()
        )


class Post(models.Model):
    title = models.CharField(max_length=255)
    content = models.TextField(max_length=20_000)
    published = models.BooleanField(default=True, help_text="Unpublished posts are drafts.")
    created_at = models.DateTimeField(default=timezone.now)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts"
    )
    # Set by a moderator (moderation.services.post_hide): hidden from all but owner and staff.
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    hidden_reason = models.CharField(max_length=500, blank=True, editable=False)
    # Kept by Vote.save() and the vote deletion signal (posts/signals.py), never counted.
    vote_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # The comments no moderator hid: kept by the comments app (comments.models), never counted.
    comment_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [("hide_post", "Can hide and unhide posts")]
        indexes = [
            # The list endpoint: newest first, stable across pages. The visibility columns
            # ride along so PostgreSQL picks a page's ids from the index alone (an index-only
            # scan). Key columns, not INCLUDE: SQLite has no INCLUDE.
            models.Index(
                fields=["-created_at", "-id", "published", "owner", "hidden_at"],
                name="post_newest_visible_idx",
            ),
            # Title search (`UPPER(title) LIKE '%term%'`) has a trigram index on PostgreSQL,
            # made in migration 0003: it cannot be declared here portably.
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        """Save, and move the counts and cached reads the change touches, in one transaction.

        The row is locked and read first: what it was in the database, not what this instance
        remembers, is what the counts must leave (two edits at once would otherwise both move
        the same count).
        """
        using = kwargs.get("using") or router.db_for_write(Post, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            before = (
                None if self._state.adding else Post.objects.using(using).state_for_update(self.pk)
            )
            super().save(*args, **kwargs)
            saved = kwargs.get("update_fields")
            after = {
                attname: getattr(self, attname)
                if before is None or saved is None or {attname, name} & set(saved)
                else before[attname]
                for name, attname in STATE_FIELDS
            }
            post_state_changed(self.pk, before=before, after=after, using=using)


def post_state_changed(post_id: int, *, before: dict | None, after: dict | None, using) -> None:
    """Move the counts from the post's old state to its new one, and retire cached reads.

    `before`/`after` hold `owner_id`, `published` and `hidden_at`; None where the post did not
    exist (created) or no longer does (deleted).
    """
    was = _counted(before)
    now = _counted(after)
    if was != now:
        if was:
            PostCounts.objects.using(using).add(was[0], **{was[1]: -1})
        if now:
            PostCounts.objects.using(using).add(now[0], **{now[1]: +1})
    # post-state: what decides who sees the post changed (never a vote): comments.selectors.
    names = [f"post:{post_id}", f"post-state:{post_id}"]
    for state in (before, after):
        if state is not None:
            names.append(f"posts-of:{state['owner_id']}")
    # The shared lists hold published posts (staff see the hidden ones among them).
    published = any(state and state["published"] for state in (before, after))
    if published:
        names.append("posts")
    cache.invalidate(*names)
    if published and before != after:
        owner_ids = {state["owner_id"] for state in (before, after) if state is not None}
        published_posts_changed.send(Post, owner_ids=owner_ids, using=using)


# Sent with `owner_ids` when published posts of these members appear, go, or change who sees
# them (a hide, a publish, a new owner), never on an edit of their text: the home feeds that
# show them (social) retire their cached pages.
published_posts_changed = Signal()


def _counted(state: dict | None) -> tuple[int, str] | None:
    if state is None:
        return None
    kind = audience(published=state["published"], hidden=state["hidden_at"] is not None)
    return state["owner_id"], kind


class PostCountsQuerySet(CounterQuerySet):
    def add(self, owner_id: int, **deltas: int) -> None:
        """Add `deltas` ({"public": 1, ...}) to a member's counts and to the totals."""
        self.move({"owner_id": owner_id}, **deltas)
        totals = {name: delta for name, delta in deltas.items() if name != DRAFTS}
        PostTotals.objects.using(self.db).move({"pk": PostTotals.ONLY}, **totals)


class PostCounts(models.Model):
    """One member's posts, counted by who may see them (see `audience`)."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="post_counts",
    )
    public = models.PositiveIntegerField(default=0, db_default=0)
    hidden = models.PositiveIntegerField(default=0, db_default=0)
    drafts = models.PositiveIntegerField(default=0, db_default=0)

    objects = PostCountsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "post counts"

    def __str__(self):
        return f"posts of {self.owner_id}: {self.public}/{self.hidden}/{self.drafts}"

    @property
    def private(self) -> int:
        """Posts only the owner (and, for hidden ones, staff) sees."""
        return self.hidden + self.drafts


class PostTotalsQuerySet(CounterQuerySet):
    def current(self) -> "PostTotals":
        return self.filter(pk=PostTotals.ONLY).first() or PostTotals()


class PostTotals(models.Model):
    """Everyone's published posts, by whether a moderator hid them: one row, kept exact.

    One row every public post write updates, so such writes queue on it for as long as their
    transaction lasts (a millisecond or two): fine at hundreds of new posts a second.
    """

    ONLY = 1

    id = models.PositiveSmallIntegerField(primary_key=True, default=ONLY)
    public = models.PositiveBigIntegerField(default=0)
    hidden = models.PositiveBigIntegerField(default=0)

    objects = PostTotalsQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "post totals"
        constraints = [models.CheckConstraint(condition=Q(id=1), name="post_totals_one_row")]

    def __str__(self):
        return f"{self.public} public, {self.hidden} hidden posts"


class Vote(models.Model):
    """One member's like of one post; the database keeps it to one per member and post."""

    # No index of its own: the (user, post) unique index serves lookups by user.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="votes", db_index=False
    )
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="votes")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "post"], name="vote_one_per_user_and_post"),
        ]

    def __str__(self):
        return f"{self.user_id} likes {self.post_id}"

    def save(self, *args, **kwargs):
        """A new vote adds one to its post's count, in the insert's transaction."""
        using = kwargs.get("using") or router.db_for_write(Vote, instance=self)
        with transaction.atomic(using=using, savepoint=False):
            adding = self._state.adding
            super().save(*args, **kwargs)
            if adding:
                vote_count_add(self.post_id, self.user_id, +1, using=using)


def vote_count_add(post_id: int, user_id: int, delta: int, *, using) -> None:
    """Move a post's vote count and retire what cached it (the post, the voter's likes)."""
    Post.objects.using(using).filter(pk=post_id).update(vote_count=F("vote_count") + delta)
    cache.invalidate(f"post:{post_id}", f"votes-of:{user_id}")
