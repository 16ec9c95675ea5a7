"""rebuild_sales_facts [--customer CODE ...]: recomputes the monthly sales facts from orders."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from customers.models import Customer
from orders.services import sales_facts_rebuild


class Command(BaseCommand):
    help = (
        "Rebuilds the monthly sales facts (and the customers' purchase figures) from the "
        "orders, for everyone or the customers named. Safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--customer",
            action="append",
            metavar="CODE",
            help="Only this customer (repeat for more).",
        )

    def handle(self, *args, customer, **options):
        customer_ids = None
        if customer:
            found = dict(
                Customer.objects.filter(customer_code__in=customer).values_list(
                    "customer_code", "id"
                )
            )
            unknown = sorted(set(customer) - found.keys())
            if unknown:
                raise CommandError("No customer has the code " + ", ".join(unknown) + ".")
            customer_ids = list(found.values())
        started = time.monotonic()
        rows = sales_facts_rebuild(customer_ids=customer_ids)
        self.stdout.write(
            self.style.SUCCESS(
                f"{rows} monthly sales facts rebuilt in {time.monotonic() - started:.1f} s."
            )
        )
