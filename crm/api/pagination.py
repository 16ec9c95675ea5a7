from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from crm.paginators import COUNT_CAP, CappedPaginator


class StandardPagination(PageNumberPagination):
    """Every list endpoint is paged: 50 rows by default, up to 500 with `page_size`.

    Counted as the list pages count (crm.paginators.CappedPaginator): `count` is exact when
    `count_exact` is true — up to 10,000 rows, or up to the end of the page asked for when that
    is farther — and otherwise a lower bound (there are at least `count` rows). `next` is null
    exactly on the last page either way, so a client reading every page follows `next`."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator

    def get_paginated_response(self, data):
        paginator = self.page.paginator
        return Response(
            {
                "count": paginator.count,
                "count_exact": not paginator.capped,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["required"] = ["count", "count_exact", "results"]
        response["properties"] = {
            "count": {
                "type": "integer",
                "example": 123,
                "description": (
                    f"The rows of the list: exact when `count_exact` is true (up to {COUNT_CAP:,} "
                    "rows, or to the end of the page asked for), otherwise a lower bound."
                ),
            },
            "count_exact": {
                "type": "boolean",
                "description": "Whether `count` is the exact number of rows or a lower bound.",
            },
            **{k: v for k, v in response["properties"].items() if k != "count"},
        }
        return response
