"""tenants, api keys, limits and usage metering

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 18:39:33.735409
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.models.UTCDateTime is stored as this; migrations keep to plain SQLAlchemy types.
UTC_DATETIME = sa.DateTime(timezone=True)
# SQLite keeps a UTC timestamp as text ('YYYY-MM-DD HH:MM:SS...'); PostgreSQL as timestamptz.
BACKFILL_DAY = {
    "sqlite": "UPDATE usage_records SET day = substr(created_at, 1, 10)",
    "postgresql": (
        "UPDATE usage_records SET day = to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
    ),
}


def upgrade() -> None:
    """Apply this revision."""
    _upgrade_usage_records()
    _create_tenants_and_keys()
    _create_limit_tables()
    op.create_table(
        "provider_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("usage_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=128), nullable=False),
        sa.Column("upstream_model", sa.String(length=256), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["usage_id"],
            ["usage_records.id"],
            name=op.f("fk_provider_attempts_usage_id_usage_records"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_attempts")),
    )
    with op.batch_alter_table("provider_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_provider_attempts_usage_id"), ["usage_id"], unique=False
        )


def _upgrade_usage_records() -> None:
    # Existing rows get their day from created_at and zeroes for the new counters; the
    # temporary server defaults are dropped afterwards because the models set them in Python.
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("finished_at", UTC_DATETIME, nullable=True))
        batch_op.add_column(sa.Column("day", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("failovers", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("cost_usd", sa.Float(), server_default="0", nullable=False))
        batch_op.alter_column(
            "tenant_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=40),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "key_id",
            existing_type=sa.String(length=64),
            type_=sa.String(length=40),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "output_bytes",
            existing_type=sa.Integer(),
            type_=sa.BigInteger(),
            existing_nullable=False,
        )
        batch_op.alter_column("latency_ms", existing_type=sa.Float(), nullable=True)
    op.execute(BACKFILL_DAY[op.get_bind().dialect.name])
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.alter_column("day", existing_type=sa.String(length=10), nullable=False)
        batch_op.alter_column(
            "failovers", existing_type=sa.Integer(), server_default=None, existing_nullable=False
        )
        batch_op.alter_column(
            "cost_usd", existing_type=sa.Float(), server_default=None, existing_nullable=False
        )
        batch_op.create_index(batch_op.f("ix_usage_records_day"), ["day"], unique=False)


def _create_tenants_and_keys() -> None:
    op.create_table(
        "tenants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("concurrency_limit", sa.Integer(), nullable=True),
        sa.Column("monthly_chars_limit", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenants")),
        sa.UniqueConstraint("name", name=op.f("uq_tenants_name")),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=True),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("models", sa.JSON(), nullable=True),
        sa.Column("rpm_limit", sa.Integer(), nullable=True),
        sa.Column("monthly_chars_limit", sa.BigInteger(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.Column("revoked_at", UTC_DATETIME, nullable=True),
        sa.Column("rotated_to_id", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_api_keys_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_keys_secret_hash")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_tenant_id"), ["tenant_id"], unique=False)


def _create_limit_tables() -> None:
    op.create_table(
        "limit_counters",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_limit_counters")),
    )
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_limit_counters_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "concurrency_leases",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("key", "holder", name=op.f("pk_concurrency_leases")),
    )
    with op.batch_alter_table("concurrency_leases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concurrency_leases_expires_at"), ["expires_at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("provider_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_attempts_usage_id"))
    op.drop_table("provider_attempts")
    with op.batch_alter_table("concurrency_leases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concurrency_leases_expires_at"))
    op.drop_table("concurrency_leases")
    with op.batch_alter_table("limit_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_limit_counters_expires_at"))
    op.drop_table("limit_counters")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_tenant_id"))
    op.drop_table("api_keys")
    op.drop_table("tenants")
    _downgrade_usage_records()


def _downgrade_usage_records() -> None:
    # 0001 required a latency; rows still in progress (or never finished) had none.
    op.execute("UPDATE usage_records SET latency_ms = 0 WHERE latency_ms IS NULL")
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_day"))
        batch_op.alter_column("latency_ms", existing_type=sa.Float(), nullable=False)
        batch_op.alter_column(
            "output_bytes",
            existing_type=sa.BigInteger(),
            type_=sa.Integer(),
            existing_nullable=False,
        )
        batch_op.alter_column(
            "key_id",
            existing_type=sa.String(length=40),
            type_=sa.String(length=64),
            existing_nullable=True,
        )
        batch_op.alter_column(
            "tenant_id",
            existing_type=sa.String(length=40),
            type_=sa.String(length=64),
            existing_nullable=False,
        )
        batch_op.drop_column("cost_usd")
        batch_op.drop_column("failovers")
        batch_op.drop_column("day")
        batch_op.drop_column("finished_at")
