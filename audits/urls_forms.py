"""The audit form definitions (`audits.views_forms`): "forms/…" under /audits/."""

from django.urls import path

from audits import views_forms as views

urlpatterns = [
    path("forms/", views.form_list, name="forms"),
    path("forms/new/", views.form_create, name="form_create"),
    path("forms/<int:pk>/", views.form_detail, name="form"),
    path("forms/<int:pk>/edit/", views.form_edit, name="form_edit"),
    path("forms/<int:pk>/questions/new/", views.question_create, name="question_create"),
    path("forms/<int:pk>/activate/", views.form_activate, name="form_activate"),
    path("forms/<int:pk>/new-version/", views.form_new_version, name="form_new_version"),
    path("forms/<int:pk>/retire/", views.form_retire, name="form_retire"),
    path("forms/<int:pk>/delete/", views.form_delete, name="form_delete"),
    path("forms/questions/<int:pk>/", views.question_edit, name="question_edit"),
    path("forms/questions/<int:pk>/delete/", views.question_delete, name="question_delete"),
    path("forms/questions/<int:pk>/move/", views.question_move, name="question_move"),
]
