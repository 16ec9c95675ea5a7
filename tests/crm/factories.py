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
