"""The audit form pages (namespace "audits", "forms/…"): the list of every version, a
version's page (its versions, its targeting in words and how many shops it targets now, its
questions with their conditions, and a read-only preview of the form as the account manager
sees it), the draft editor, the question editor and the lifecycle's buttons.

Administrators write (`policies.can_define_forms`); supervisors read (`can_read_forms`).
Every write is a service call; its DomainError goes beside the fields or into a message.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from audits import policies, selectors_forms, services_forms
from audits.choices import PRODUCT_KINDS, FormStatus, PriceUnit, ProductScope, QuestionKind
from audits.forms import AuditFormForm, QuestionForm
from audits.models import AuditForm, AuditQuestion
from crm.choices import AuditSource
from crm.exceptions import DomainError
from crm.paginators import CappedPaginator
from crm.selectors import area_choices
from crm.services import Actor
from crm.views import list_query_context, page_context, people_allowed, version_actions
from customers.choices import BusinessFormat, MarketType, ValueTier
from orders.selectors import product_list

FORMS_PER_PAGE = 25

readers_only = people_allowed(policies.can_read_forms)
definers_only = people_allowed(policies.can_define_forms)


def _actor(request: HttpRequest) -> Actor:
    return Actor.of(request.user, AuditSource.PAGE)


# --- the list -----------------------------------------------------------------------------


@readers_only
def form_list(request: HttpRequest) -> HttpResponse:
    """Every version, by code, newest version first; by status and a search of code or name."""
    status = request.GET.get("status", "")
    if status not in FormStatus.values:
        status = ""
    q = request.GET.get("q", "").strip()[:64]
    page = CappedPaginator(selectors_forms.form_list(status=status, q=q), FORMS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "audits/form_list.html",
        {
            "forms": page.object_list,
            **page_context(page),
            "status": status,
            "q": q,
            "statuses": FormStatus.choices,
            "may_define": policies.can_define_forms(request.user),
            **list_query_context(request),
        },
    )


# --- the form editor ------------------------------------------------------------------------


def _form_form(request: HttpRequest, form: AuditForm | None) -> AuditFormForm:
    kwargs: dict[str, Any] = {"areas": area_choices(user=request.user), "with_code": form is None}
    if request.method == "POST":
        return AuditFormForm(request.POST, **kwargs)
    initial = services_forms.form_as_data(form) if form else {}
    if form is not None:
        initial["structure_classes"] = [str(c) for c in form.structure_classes]
    return AuditFormForm(initial=initial, **kwargs)


def _unless_draft(request: HttpRequest, form: AuditForm) -> HttpResponse | None:
    """Back to the version's page when it is not a draft (the services refuse too; this
    spares reading a form the page does not show)."""
    if form.status == FormStatus.DRAFT:
        return None
    messages.error(
        request,
        _("Version %(v)d is no longer a draft: make a new version to change it.")
        % {"v": form.version},
    )
    return redirect("audits:form", form.pk)


def _save_form(request: HttpRequest, form: AuditForm | None) -> HttpResponse:
    editor = _form_form(request, form)
    if request.method == "POST" and editor.is_valid():
        data = editor.form_data()
        try:
            if form is None:
                form = services_forms.form_create(
                    code=editor.cleaned_data.get("code", ""), actor=_actor(request), **data
                )
                messages.success(
                    request, _("Draft %(f)s was created: add its questions.") % {"f": form}
                )
            else:
                form = services_forms.form_update(form=form, actor=_actor(request), **data)
                messages.success(request, _("The draft was saved."))
            return redirect("audits:form", form.pk)
        except DomainError as exc:
            editor.add_service_errors(exc.errors)
    return render(request, "audits/form_edit.html", {"audit_form": form, "form": editor})


@definers_only
def form_create(request: HttpRequest) -> HttpResponse:
    return _save_form(request, None)


@definers_only
def form_edit(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors_forms.form_get(pk=pk)
    return _unless_draft(request, form) or _save_form(request, form)


# --- a version's page -----------------------------------------------------------------------


def _labels(values: list[str], choices: type) -> list[str]:
    return [str(choices(v).label) if v in choices.values else v for v in values]


def targeting_words(form: AuditForm) -> list[tuple[str, list[str], str]]:
    """Who the form is for, in words: (what, the values set, what empty means)."""
    return [
        (
            _("Business formats"),
            _labels(form.business_formats, BusinessFormat),
            _("every format"),
        ),
        (_("Market types"), _labels(form.market_types, MarketType), _("every market type")),
        (_("Value tiers"), _labels(form.value_tiers, ValueTier), _("every tier")),
        (
            _("Structure classes"),
            [str(c) for c in form.structure_classes],
            _("every structure class"),
        ),
        (
            _("Areas"),
            selectors_forms.area_labels(area_ids=form.area_ids) if form.area_ids else [],
            _("every area"),
        ),
    ]


def _answer_label(value: str) -> str:
    return {"yes": _("Yes"), "no": _("No")}.get(value, value)


def condition_words(question: AuditQuestion) -> str:
    """When a conditional question is asked, in words ("" when always)."""
    condition = question.condition_question
    if condition is None:
        return ""
    values = [f"“{_answer_label(v)}”" for v in question.condition_values]
    words = {
        "n": condition.position,
        "q": condition.label,
        "values": _(" or ").join(values),
    }
    if condition.kind == QuestionKind.MULTIPLE_CHOICE:
        text = _("Asked only when the answer to %(n)d. “%(q)s” includes %(values)s.") % words
    else:
        text = _("Asked only when the answer to %(n)d. “%(q)s” is %(values)s.") % words
    if condition.kind in PRODUCT_KINDS:
        text += " " + _("(for the same product)")
    return text


def _decorate(questions: list[AuditQuestion]) -> list[AuditQuestion]:
    """Adds what the page words: the condition, the products listed, the range's unit."""
    for question in questions:
        question.condition_text = condition_words(question)
        question.is_per_product = question.kind in PRODUCT_KINDS
        question.listed_products = (
            list(question.products.all()) if question.product_scope == ProductScope.LISTED else []
        )
        question.asks_eligible = question.product_scope == ProductScope.ELIGIBLE
        question.unit_label = (
            PriceUnit(question.price_unit).label if question.price_unit in PriceUnit.values else ""
        )
        question.input_id = f"preview-{question.pk}"
    return questions


@readers_only
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    form = selectors_forms.form_get(pk=pk)
    versions = list(selectors_forms.form_versions(form=form).only("pk", "version", "status"))
    questions = _decorate(selectors_forms.form_questions(form=form))
    is_draft = form.status == FormStatus.DRAFT
    context = {
        "audit_form": form,
        "versions": versions,
        "draft": next((v for v in versions if v.status == FormStatus.DRAFT), None),
        "questions": questions,
        "targeting": targeting_words(form),
        "targets": selectors_forms.form_target_count(form=form, user=request.user),
        "sees_everything": request.user.is_administrator,
        "may_define": policies.can_define_forms(request.user),
        "is_draft": is_draft,
        "problems": (
            [m for msgs in services_forms.form_problems(form).values() for m in msgs]
            if is_draft
            else []
        ),
        "active": next((v for v in versions if v.status == FormStatus.ACTIVE), None),
    }
    return render(request, "audits/form_detail.html", context)


# --- questions ------------------------------------------------------------------------------


def _question_form(
    request: HttpRequest, form: AuditForm, question: AuditQuestion | None
) -> QuestionForm:
    questions = list(form.questions.order_by("position", "id"))
    position = question.position if question else len(questions) + 1
    products = [
        (p.code, f"{p.code} {p.name}")
        for p in product_list(filters={"active": "true"}).only("code", "name")
    ]
    if question is not None:
        known = {code for code, _label in products}
        products += [
            (p.code, f"{p.code} {p.name} ({_('withdrawn')})")
            for p in question.products.all()
            if p.code not in known
        ]
    kwargs = {"products": products, "earlier": [q for q in questions if q.position < position]}
    if request.method == "POST":
        return QuestionForm(request.POST, **kwargs)
    initial = QuestionForm.initial_of(question) if question else {}
    return QuestionForm(initial=initial, **kwargs)


def _save_question(
    request: HttpRequest, form: AuditForm, question: AuditQuestion | None
) -> HttpResponse:
    refused = _unless_draft(request, form)
    if refused:
        return refused
    editor = _question_form(request, form, question)
    if request.method == "POST" and editor.is_valid():
        try:
            saved = services_forms.question_save(
                form=form, question=question, data=editor.question_data(), actor=_actor(request)
            )
        except DomainError as exc:
            editor.add_service_errors(exc.errors)
        else:
            messages.success(request, _("Question %(n)d was saved.") % {"n": saved.position})
            return redirect(f"{_form_url(form)}#question-{saved.pk}")
    return render(
        request,
        "audits/form_question.html",
        {"audit_form": form, "question": question, "form": editor},
    )


def _form_url(form: AuditForm) -> str:
    return reverse("audits:form", args=[form.pk])


@definers_only
def question_create(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_question(request, selectors_forms.form_get(pk=pk), None)


@definers_only
def question_edit(request: HttpRequest, pk: int) -> HttpResponse:
    question = selectors_forms.question_get(pk=pk)
    return _save_question(request, question.form, question)


def _question_action(act, done) -> Any:
    """A POST-only administrators' view on a question: `act(question, request)` (a service
    call), then back to its form's page saying `done` or the refusal."""

    @definers_only
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        question = selectors_forms.question_get(pk=pk)
        try:
            act(question, request)
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, str(done) % {"n": question.position})
        return redirect("audits:form", question.form_id)

    return view


question_delete = _question_action(
    lambda question, request: services_forms.question_delete(
        question=question, actor=_actor(request)
    ),
    gettext_lazy("Question %(n)d was deleted."),
)
question_move = _question_action(
    lambda question, request: services_forms.question_move(
        question=question, direction=request.POST.get("direction", ""), actor=_actor(request)
    ),
    gettext_lazy("The question was moved."),
)


# --- the lifecycle --------------------------------------------------------------------------


_lifecycle = version_actions(
    guard=definers_only,
    get=selectors_forms.form_get,
    page="audits:form",
    listing="audits:forms",
    key="f",
)


form_activate = _lifecycle(
    lambda form, request: services_forms.form_activate(form=form, actor=_actor(request)),
    gettext_lazy("%(f)s is active: the shops it targets are asked it from now on."),
)
form_new_version = _lifecycle(
    lambda form, request: services_forms.form_new_version(form=form, actor=_actor(request)),
    gettext_lazy("Draft %(f)s was made: change it, then activate it to replace the current one."),
)
form_retire = _lifecycle(
    lambda form, request: services_forms.form_retire(
        form=form, reason=request.POST.get("reason", ""), actor=_actor(request)
    ),
    gettext_lazy("%(f)s was retired: no shop is asked it any more; its audits stay."),
)
form_delete = _lifecycle(
    lambda form, request: services_forms.form_delete(form=form, actor=_actor(request)),
    gettext_lazy("The draft %(f)s was deleted."),
)
