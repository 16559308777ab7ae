"""Who may change a post."""

from rest_framework import permissions


class IsOwnerOrReadOnly(permissions.BasePermission):
    """Anyone who can see a post may read it; only its owner may change or delete it."""

    message = "Not authorized to perform requested action"

    def has_object_permission(self, request, view, obj):
        return request.method in permissions.SAFE_METHODS or obj.owner_id == request.user.pk
