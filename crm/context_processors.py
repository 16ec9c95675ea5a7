from django.http import HttpRequest

from crm.navigation import nav_items_for, user_menu_items_for


def navigation(request: HttpRequest) -> dict:
    """The role-aware navigation entries (all of them; those of the bar and those under "More"
    on a wide screen), the one that matches the page marked active."""
    items = nav_items_for(request.user)
    path = request.path
    active = max(
        # "/" is a prefix of every path: Home is marked on the home page only.
        (
            item
            for item in items
            if path == item.url or (item.url != "/" and path.startswith(item.url))
        ),
        key=lambda item: len(item.url),
        default=None,
    )
    unread = (
        request.user.notifications.filter(read_at__isnull=True).count()
        if request.user.is_authenticated and not request.user.is_integration_client
        else 0
    )
    return {
        "nav_items": items,
        "nav_main_items": [item for item in items if not item.more],
        "nav_more_items": [item for item in items if item.more],
        "nav_active": active,
        "unread_notifications": unread,
        "user_menu_items": user_menu_items_for(request.user),
    }
