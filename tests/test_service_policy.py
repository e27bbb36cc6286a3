"""With REQUIRE_SERVICES=1 (CI's second run) the suite must really use PostgreSQL and Redis."""

import redis
from django.conf import settings
from django.db import connection


def test_database_is_postgresql_when_services_are_there(postgres, db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        assert cursor.fetchone()[0].startswith("PostgreSQL")


def test_broker_is_a_live_redis_and_tasks_are_not_eager(redis_broker):
    assert redis.Redis.from_url(redis_broker, socket_connect_timeout=2).ping() is True
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
