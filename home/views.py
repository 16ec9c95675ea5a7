"""The home page: one per role, what that person needs first when they sign in.

The page is a loop over the home panels of the registry (crm.panels): each app declares its
own panels in its `panels.py`, so this module imports no app."""

from __future__ import annotations

from django.views.generic import TemplateView

from crm import panels
from crm.views import PeopleOnlyMixin


class HomeView(PeopleOnlyMixin, TemplateView):
    """The panels the user's role sees, the most urgent first (account managers read it on a
    phone: each panel also has its place on a narrow screen). Every panel is scoped to the user
    by the selectors its context function reads; the charts are drawn by
    static/js/home_charts.js from #home-chart-data (each panel adds its part under
    `home_chart`), with their figures as links under each chart."""

    template_name = "home/home.html"

    def get_context_data(self, **kwargs):
        ctx = super().get_context_data(**kwargs)
        drawn, merged = panels.gather(panels.Surface.HOME, self.request)
        chart = {}
        for item in drawn:
            chart.update(item.context.get("home_chart") or {})
        ctx.update(merged)
        ctx["panels"] = drawn
        ctx["home_chart"] = chart or None
        ctx["my_areas"] = self.request.user.areas.order_by("code")
        return ctx
