import factory

from crm.choices import Role
from crm.models import Area, User

TEST_PASSWORD = "correct-horse-battery"


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"A{n:03d}")
    name = factory.LazyAttribute(lambda o: f"Area {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    name = factory.Faker("name", locale="zh_CN")
    role = Role.ACCOUNT_MANAGER
    is_staff = factory.LazyAttribute(lambda o: o.role == Role.ADMINISTRATOR)
    password = factory.django.Password(TEST_PASSWORD)

    @factory.post_generation
    def areas(self, create, extracted, **kwargs):
        if create and extracted:
            self.areas.set(extracted)


def password_reset_path(user: User, token: str | None = None) -> str:
    """The path of a password reset link of `user` (a valid one unless `token` is given)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.urls import reverse
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    return reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": token or default_token_generator.make_token(user),
        },
    )


def reset_link_on(response) -> str:
    """The password reset link an administrator's page shows."""
    import re

    match = re.search(
        r'data-testid="reset-link">(http[^<]+/reset/[^<]+)</textarea>', response.content.decode()
    )
    assert match, "no reset link on the page"  # noqa: S101 (a test helper)
    return match.group(1)
