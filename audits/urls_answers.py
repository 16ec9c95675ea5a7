"""The audit answers' photos ("answers/…"), served after the scope check."""

from django.urls import path

from audits import views_answers

urlpatterns = [
    path("answers/<int:pk>/photo/<str:kind>/", views_answers.answer_photo, name="answer_photo"),
]
