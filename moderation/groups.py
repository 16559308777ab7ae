"""The "moderators" group: staff who work reports without being superusers."""

from django.contrib.auth.models import Group, Permission

MODERATORS = "moderators"

# What a moderator needs, and nothing more: read users, posts, votes, comments, follows, blocks
# and reports; suspend users, hide posts and comments, and close reports. No add, change or
# delete of users, posts or comments.
MODERATOR_PERMISSIONS = [
    ("accounts", "view_user"),
    ("accounts", "suspend_user"),
    ("accounts", "view_block"),
    ("social", "view_follow"),
    ("posts", "view_post"),
    ("posts", "hide_post"),
    ("posts", "view_vote"),
    ("comments", "view_comment"),
    ("comments", "hide_comment"),
    ("moderation", "view_report"),
    ("moderation", "change_report"),
]


def sync_moderators_group(**kwargs):
    """Create the group, or put its permissions back to exactly MODERATOR_PERMISSIONS."""
    group, _ = Group.objects.get_or_create(name=MODERATORS)
    permissions = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in MODERATOR_PERMISSIONS
    ]
    group.permissions.set(permissions)
    return group
