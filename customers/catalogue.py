"""The field catalogue: the one declaration of every customer field.

For each field it says its content category (basic, network, management, business, personal),
its maintenance class (static, dynamic, system), its English and Chinese label, and its change
policy. Forms, the detail page, the change-request flow, the API serializers, the exports and
the import headers all read this module; the storage (which of the three models holds the
column) is found from the models themselves.

To add a field: add the column to the right model (with a migration) and one entry here.
The entries here are the defaults: administrators override a field's class (static/dynamic),
policy (direct/approval/supervisor) and "required" through catalogue versions
(customers.services_catalogue), and every reader of those three asks `effective()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from contextlib import suppress
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import get_language, override
from django.utils.translation import gettext_lazy as _

from crm.choices import Role
from crm.models import Area, User
from crm.stored_text import label as stored_label
from crm.stored_text import rendered
from customers.models import Customer, CustomerDynamic, CustomerSystem


class Category(models.TextChoices):
    BASIC = "basic", _("Basic information")
    NETWORK = "network", _("Network information")
    MANAGEMENT = "management", _("Management information")
    BUSINESS = "business", _("Business information")
    PERSONAL = "personal", _("Personal information")


class Maintenance(models.TextChoices):
    STATIC = "static", _("Static")
    DYNAMIC = "dynamic", _("Dynamic")
    SYSTEM = "system", _("System-generated")


class Policy(models.TextChoices):
    DIRECT = "direct", _("Edited directly by the assigned account manager")
    APPROVAL = "approval", _("Needs a supervisor's approval")
    SUPERVISOR = "supervisor", _("Set by a supervisor of the area")
    SYSTEM = "system", _("Written only by the system")


# The three models holding customer information, by the name the API uses for each block.
PARTS: dict[str, type[models.Model]] = {
    "static": Customer,
    "dynamic": CustomerDynamic,
    "system": CustomerSystem,
}
# Foreign keys are written and read by a natural key: areas by code, users by username.
REFERENCE_KEYS: dict[type[models.Model], str] = {Area: "code", User: "username"}
# References to people name someone of the right role.
REFERENCE_ROLES: dict[str, Role] = {
    "account_manager": Role.ACCOUNT_MANAGER,
    "license_officer": Role.LICENSE_OFFICER,
}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    category: Category
    maintenance: Maintenance
    policy: Policy
    label_en: str
    label_zh: str
    required: bool = False  # needed to create a customer

    @property
    def label(self) -> str:
        return self.label_zh if (get_language() or "").startswith("zh") else self.label_en

    @property
    def part(self) -> str:
        """Which block ("static", "dynamic", "system") stores the column."""
        return _PART_OF[self.name]

    @property
    def model_field(self) -> models.Field:
        return PARTS[self.part]._meta.get_field(self.name)

    @property
    def is_reference(self) -> bool:
        return self.model_field.is_relation

    @property
    def is_system(self) -> bool:
        return self.policy == Policy.SYSTEM


def _spec(name, category, maintenance, policy, en, zh, required=False) -> FieldSpec:
    return FieldSpec(name, category, maintenance, policy, en, zh, required)


B, N, M, U, P = (
    Category.BASIC,
    Category.NETWORK,
    Category.MANAGEMENT,
    Category.BUSINESS,
    Category.PERSONAL,
)
ST, DY, SY = Maintenance.STATIC, Maintenance.DYNAMIC, Maintenance.SYSTEM
DIRECT, APPROVAL, SUPERVISOR, SYSTEM = (
    Policy.DIRECT,
    Policy.APPROVAL,
    Policy.SUPERVISOR,
    Policy.SYSTEM,
)

FIELDS: tuple[FieldSpec, ...] = (
    # Basic 基本信息
    _spec("customer_code", B, ST, APPROVAL, "Customer code", "客户编码", required=True),
    _spec("store_name", B, ST, APPROVAL, "Store name", "店铺名称", required=True),
    _spec("license_number", B, ST, APPROVAL, "Licence number", "许可证号", required=True),
    _spec("legal_representative", B, ST, APPROVAL, "Legal representative", "法定代表人"),
    _spec("business_scope", B, ST, APPROVAL, "Business scope", "经营范围"),
    _spec("address", B, ST, APPROVAL, "Business address", "经营地址"),
    _spec("payment_method", B, DY, APPROVAL, "Payment method", "结算方式"),
    _spec("bank_account", B, DY, APPROVAL, "Bank account", "银行账号"),
    _spec("order_cycle", B, DY, DIRECT, "Order cycle", "订货周期"),
    # Network 网络信息
    _spec("business_format", N, ST, APPROVAL, "Business format", "业态", required=True),
    _spec("market_type", N, ST, APPROVAL, "Market type", "市场类型", required=True),
    _spec("area", N, ST, APPROVAL, "Management area", "管理区域", required=True),
    _spec("account_manager", N, ST, SUPERVISOR, "Account manager", "客户经理"),
    _spec("registered_capital", N, ST, APPROVAL, "Registered capital (CNY)", "注册资金（元）"),
    _spec("premises", N, ST, APPROVAL, "Premises", "经营场所"),
    _spec("floor_area_m2", N, ST, APPROVAL, "Floor area (m²)", "经营面积（平方米）"),
    _spec("order_taker", N, DY, DIRECT, "Telephone order-taker", "电话订货员"),
    _spec("delivery_person", N, DY, DIRECT, "Delivery person", "送货员"),
    _spec("delivery_segment", N, DY, DIRECT, "Delivery segment", "配送区段"),
    _spec("delivery_route", N, DY, DIRECT, "Delivery route", "送货线路"),
    _spec("order_batch", N, DY, DIRECT, "Order batch", "订货批次"),
    _spec("visit_batch", N, DY, DIRECT, "Visit batch", "访销批次"),
    _spec("visit_cycle", N, DY, DIRECT, "Visit cycle", "拜访周期"),
    _spec("order_frequency", N, DY, DIRECT, "Order frequency (per month)", "订货频率（次/月）"),
    _spec("outlet_size", N, DY, DIRECT, "Outlet size", "网点规模"),
    _spec("latitude", N, DY, DIRECT, "Latitude", "纬度"),
    _spec("longitude", N, DY, DIRECT, "Longitude", "经度"),
    # Management 管理信息
    _spec("license_type", M, ST, APPROVAL, "Licence type", "许可证类型"),
    _spec("issuing_bureau", M, ST, APPROVAL, "Issuing bureau", "发证机关"),
    _spec("license_officer", M, ST, SUPERVISOR, "License officer", "专管员"),
    _spec("license_issue_date", M, ST, APPROVAL, "Licence issue date", "发证日期"),
    _spec("license_expiry_date", M, ST, APPROVAL, "Licence expiry date", "有效期至"),
    _spec("annual_review_date", M, ST, APPROVAL, "Annual review date", "年审日期"),
    _spec("is_monitored", M, ST, APPROVAL, "Monitored outlet", "监测户"),
    _spec("is_model_outlet", M, ST, APPROVAL, "Model outlet", "示范户"),
    _spec("credit_rating", M, DY, APPROVAL, "Credit rating", "信用等级"),
    _spec("category_code", M, SY, SYSTEM, "Customer category", "客户分类"),
    _spec("compliance_flag", M, SY, SYSTEM, "Compliant", "守法经营"),
    # Business 经营信息
    _spec("status", U, DY, APPROVAL, "Customer status", "客户状态"),
    _spec("operating_status", U, DY, DIRECT, "Operating status", "经营状况"),
    _spec("cooperation", U, DY, DIRECT, "Cooperation", "合作情况"),
    _spec("business_characteristics", U, DY, DIRECT, "Business characteristics", "经营特点"),
    _spec("trade_area", U, DY, DIRECT, "Trade-area environment", "商圈环境"),
    _spec("grade", U, SY, SYSTEM, "Monthly grade", "档位"),
    _spec("business_scale", U, SY, SYSTEM, "Business scale", "经营规模"),
    _spec("structure_class", U, SY, SYSTEM, "Structure class", "结构类别"),
    _spec("value_tier", U, SY, SYSTEM, "Value tier", "价值类别"),
    _spec("contribution_score", U, SY, SYSTEM, "Contribution score", "贡献度得分"),
    _spec("support_score", U, SY, SYSTEM, "Support score", "支持度得分"),
    _spec("credit_score", U, SY, SYSTEM, "Credit score", "信用度得分"),
    _spec("growth_score", U, SY, SYSTEM, "Growth score", "成长度得分"),
    _spec("influence_score", U, SY, SYSTEM, "Influence score", "影响力得分"),
    _spec("current_value", U, SY, SYSTEM, "Current value", "当前价值"),
    _spec("potential_value", U, SY, SYSTEM, "Potential value", "潜在价值"),
    _spec("is_core", U, SY, SYSTEM, "Core customer", "核心客户"),
    _spec("is_problem", U, SY, SYSTEM, "Problem customer", "问题客户"),
    _spec("purchase_quantity", U, SY, SYSTEM, "Purchase quantity (cartons)", "购进数量（条）"),
    _spec("purchase_amount", U, SY, SYSTEM, "Purchase amount (CNY)", "购进金额（元）"),
    _spec("average_price", U, SY, SYSTEM, "Average price per carton (CNY)", "单条值（元）"),
    _spec("e_settlement_rate", U, SY, SYSTEM, "E-settlement rate", "电子结算率"),
    _spec("last_order_date", U, SY, SYSTEM, "Last order date", "最近订货日期"),
    # Personal 个人信息
    _spec("contact_person", P, DY, DIRECT, "Contact person", "联系人"),
    _spec("phone", P, DY, DIRECT, "Phone", "电话"),
    _spec("home_address", P, DY, DIRECT, "Home address", "住址"),
    _spec("mailing_address", P, DY, DIRECT, "Mailing address", "通讯地址"),
    _spec("care_need", P, DY, DIRECT, "Family service (care need)", "亲情服务对象"),
    _spec("owner_birthday", P, DY, DIRECT, "Owner's birthday", "店主生日"),
)

CATALOGUE: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}


def _locate() -> dict[str, str]:
    """Finds the block of every catalogue field and checks the catalogue against the models:
    each field in exactly one model, system fields only in CustomerSystem, and every editable
    column of the three models in the catalogue."""
    where: dict[str, str] = {}
    for spec in FIELDS:
        homes = [part for part, model in PARTS.items() if _has_field(model, spec.name)]
        if len(homes) != 1:
            raise LookupError(f"catalogue field {spec.name!r} is in models {homes or 'none'}")
        where[spec.name] = homes[0]
        if (homes[0] == "system") != (spec.policy == Policy.SYSTEM):
            raise LookupError(f"{spec.name!r}: only CustomerSystem fields are system-only")
    for model in PARTS.values():
        for field in model._meta.concrete_fields:
            if field.editable and not field.primary_key and field.name not in CATALOGUE:
                raise LookupError(f"{model.__name__}.{field.name} is missing from the catalogue")
    return where


def _has_field(model: type[models.Model], name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


_PART_OF = _locate()


# --- reading values -------------------------------------------------------------------


def part_instance(customer: Customer, part: str) -> models.Model:
    return customer if part == "static" else getattr(customer, part)


def internal_value(customer: Customer, name: str) -> Any:
    """The Python value of a field (an Area or User for references)."""
    return getattr(part_instance(customer, CATALOGUE[name].part), name)


def external(name: str, value: Any) -> Any:
    """A value in the form the API, exports, imports and change requests use: references by
    natural key, dates as ISO text, decimals as text, choices by code."""
    if value is None:
        return None
    if isinstance(value, models.Model):
        return getattr(value, REFERENCE_KEYS[type(value)])
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        # With the field's own decimal places: money reads "80000.50", coordinates "23.100000".
        places = CATALOGUE[name].model_field.decimal_places if name in CATALOGUE else None
        if places is not None:
            # Too many digits for the field: shown as it came (validation refuses it).
            with suppress(InvalidOperation):
                value = value.quantize(Decimal(1).scaleb(-places))
        return format(value, "f")
    return value


def external_value(customer: Customer, name: str) -> Any:
    return external(name, internal_value(customer, name))


def display(name: str, value: Any) -> str:
    """A value as a person reads it: choice labels, yes/no (and "Unknown" for a yes/no
    nobody answered; a system flag not computed yet stays a dash), empty as an em dash."""
    spec = CATALOGUE[name]
    field = spec.model_field
    if value is None and isinstance(field, models.BooleanField) and not spec.is_system:
        return str(_("Unknown"))
    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, models.Model):
        return str(value)
    return str(external(name, value))


def display_value(customer: Customer, name: str) -> str:
    return display(name, internal_value(customer, name))


def block(customer: Customer, part: str) -> dict[str, Any]:
    """One block of a customer ("static", "dynamic", "system") by catalogue names."""
    return {spec.name: external_value(customer, spec.name) for spec in FIELDS if spec.part == part}


# --- writing values -------------------------------------------------------------------


def to_internal(name: str, value: Any, *, references: Mapping[str, Mapping[str, Any]]) -> Any:
    """Converts an external (or already Python) value to the field's Python value.

    `references` maps a reference field name to {natural key: instance}, loaded once by the
    caller so a batch does no query per row. Raises ValidationError with a clear message.
    """
    spec = CATALOGUE[name]
    field = spec.model_field
    if spec.is_reference:
        if value in (None, ""):
            return None
        if isinstance(value, models.Model):
            return value
        target = references.get(name, {}).get(str(value).strip().lower())
        if target is None:
            raise ValidationError(
                rendered(
                    "customers.upsert.unknown_reference",
                    what=stored_label("customers.catalogue.field_label", name),
                    value=str(value),
                ),
                code="unknown_reference",
            )
        return target
    if isinstance(value, list | dict | tuple | set):
        raise ValidationError(_("Enter a single value."), code="not_scalar")
    if isinstance(value, str):
        value = value.strip()
    if isinstance(value, float) and isinstance(field, models.DecimalField):
        value = Decimal(repr(value))  # 23.1, not 23.100000000000001421…
    if value in (None, "") and (field.null or isinstance(field, models.BooleanField)):
        return None if field.null else False
    if value is None:
        value = ""
    if isinstance(field, models.BooleanField) and isinstance(value, str):
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "y", "是"}:
            return True
        if lowered in {"0", "false", "no", "n", "否"}:
            return False
    if field.choices and isinstance(value, str) and value not in _choice_codes(field):
        # Accept a choice's label, in English or Chinese, as well as its code (spreadsheets
        # often carry labels).
        value = _choice_by_label(field).get(value.lower(), value)
    try:
        return field.to_python(value)
    except (TypeError, InvalidOperation) as error:  # e.g. a number where a date belongs
        raise ValidationError(
            field.error_messages["invalid"], code="invalid", params={"value": value}
        ) from error


@cache
def _choice_codes(field: models.Field) -> frozenset:
    return frozenset(code for code, _label in field.flatchoices)


@cache
def _choice_by_label(field: models.Field) -> dict[str, Any]:
    """Label (English or Chinese, lower-cased) -> code. Cached: a batch converts the same
    choice fields tens of thousands of times."""
    labels: dict[str, Any] = {}
    for language in ("en", "zh-hans"):
        with override(language):
            labels.update({str(label).lower(): code for code, label in field.flatchoices})
    return labels


def reference_lookups(names: Iterable[str], raw_values: Iterable[Mapping[str, Any]]) -> dict:
    """Loads, in one query per reference field, the instances the rows refer to, keyed by
    their lower-cased natural key (codes and usernames match whatever their case)."""
    rows = list(raw_values)
    lookups: dict[str, dict[str, Any]] = {}
    for name in names:
        spec = CATALOGUE.get(name)
        if spec is None or not spec.is_reference:
            continue
        model = spec.model_field.related_model
        key = REFERENCE_KEYS[model]
        wanted = {
            str(row[name]).strip()
            for row in rows
            if row.get(name) not in (None, "") and not isinstance(row.get(name), models.Model)
        }
        if not wanted:
            continue
        match = models.Q(*[models.Q(**{f"{key}__iexact": w}) for w in wanted], _connector="OR")
        queryset = model._default_manager.filter(match)
        if model is User:
            queryset = queryset.filter(is_active=True, role=REFERENCE_ROLES[name])
        lookups[name] = {getattr(obj, key).lower(): obj for obj in queryset}
    return lookups


def field_label(name: str) -> str:
    """A field's label in the active language; the name itself when it is not in the
    catalogue (stored texts name fields by key: `crm.stored_text`)."""
    spec = CATALOGUE.get(name)
    return spec.label if spec is not None else name


def fields_in(category: Category) -> list[FieldSpec]:
    return [spec for spec in FIELDS if spec.category == category]


def editable_fields() -> list[FieldSpec]:
    """Every field a person or a sync may write (all but system-generated)."""
    return [spec for spec in FIELDS if not spec.is_system]


# --- the effective catalogue (code defaults + the active version's overrides) ---------------
#
# Administrators override a field's class, policy and "required" through catalogue versions
# (customers.services_catalogue). Readers that depend on those three ask `effective()`; labels,
# categories and storage come from the code only.
#
# Where it is cached: in Django's cache (Redis in production, shared by every web and worker
# process), under a key naming the database, holding the active version's id and overrides,
# so reading it costs no query. Activation deletes the key (at once and again on commit, so a
# process that read the old state between the two cannot keep it): the next reader, in any
# process, loads the new state in one query. The key also expires after CACHE_SECONDS, a bound
# on staleness should a delete ever be lost. Each process keeps the built FieldSpecs per
# active version id, so a read is one cache get and a dict lookup.

CACHE_SECONDS = 300
# Keyed by the overrides themselves (not the version id: ids can be reused after a rollback).
_BUILT: dict[tuple, dict[str, FieldSpec]] = {}


def cache_key() -> str:
    from django.db import connection

    # Named by database: test workers (and two sites) sharing one Redis keep apart.
    return f"customers:catalogue:{connection.settings_dict['NAME']}"


def _load() -> dict[str, Any]:
    """The active version's id and overrides, from the cache or (one query) the database."""
    from django.core.cache import cache

    from crm.choices import SchemeStatus
    from customers.models import CatalogueVersion

    key = cache_key()
    state = cache.get(key)
    if state is None:
        rows = CatalogueVersion.objects.filter(status=SchemeStatus.ACTIVE).values_list(
            "pk",
            "overrides__field",
            "overrides__maintenance",
            "overrides__policy",
            "overrides__required",
        )
        state = {"id": 0, "overrides": {}}
        for pk, name, maintenance, policy, required in rows:
            state["id"] = pk
            if name:
                state["overrides"][name] = (maintenance, policy, required)
        cache.set(key, state, CACHE_SECONDS)
    return state


def forget_effective() -> None:
    """Drops the cached state (after an activation); see the note above `CACHE_SECONDS`."""
    from django.core.cache import cache
    from django.db import transaction

    key = cache_key()
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


def with_overrides(overrides: Mapping[str, tuple[str, str, bool]]) -> dict[str, FieldSpec]:
    """The catalogue with `overrides` (name -> (maintenance, policy, required)) applied, in the
    code's order. Unknown and system fields in `overrides` are ignored (never overridden)."""
    specs: dict[str, FieldSpec] = {}
    for spec in FIELDS:
        override = overrides.get(spec.name)
        if override is not None and not spec.is_system:
            maintenance, policy, required = override
            spec = replace(
                spec,
                maintenance=Maintenance(maintenance),
                policy=Policy(policy),
                required=bool(required),
            )
        specs[spec.name] = spec
    return specs


def effective() -> dict[str, FieldSpec]:
    """Every field's spec as administrators set it: name -> FieldSpec, in the code's order.
    Callers read it once per operation (a page, a row, a request) and pass the specs on."""
    overrides = _load()["overrides"]
    if not overrides:
        return CATALOGUE
    key = tuple(sorted(overrides.items()))
    built = _BUILT.get(key)
    if built is None:
        built = with_overrides(overrides)
        _BUILT.clear()  # one active version at a time: keep only its specs
        _BUILT[key] = built
    return built


def spec(name: str) -> FieldSpec:
    """One field's effective spec (KeyError for a name outside the catalogue)."""
    return effective()[name]
