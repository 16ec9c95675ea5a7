from functools import cache

from django.http import HttpRequest

from crm.navigation import nav_items_for, user_menu_items_for


def navigation(request: HttpRequest) -> dict:
    """The role-aware navigation entries (all of them; those of the bar and those under "More"
    on a wide screen), the one that matches the page marked active, and the unread
    notifications. Each is worked out when a template first reads it (a template calls what it
    is given; each is worked out once): an htmx fragment, which draws no navigation bar, costs
    neither the navigation nor the count of unread notifications."""

    @cache
    def items() -> list:
        return nav_items_for(request.user)

    @cache
    def active():
        path = request.path
        return max(
            # "/" is a prefix of every path: Home is marked on the home page only.
            (
                item
                for item in items()
                if path == item.url or (item.url != "/" and path.startswith(item.url))
            ),
            key=lambda item: len(item.url),
            default=None,
        )

    @cache
    def unread() -> int:
        user = request.user
        if not user.is_authenticated or user.is_integration_client:
            return 0
        return user.notifications.filter(read_at__isnull=True).count()

    return {
        "nav_items": items,
        "nav_main_items": cache(lambda: [item for item in items() if not item.more]),
        "nav_more_items": cache(lambda: [item for item in items() if item.more]),
        "nav_active": active,
        "unread_notifications": unread,
        "user_menu_items": cache(lambda: user_menu_items_for(request.user)),
    }
