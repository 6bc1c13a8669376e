"""voice files, stored audio, speech jobs, router secrets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 21:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# storage.models.UTCDateTime is stored as this; migrations keep to plain SQLAlchemy types.
UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Apply this revision."""
    _create_router_secrets()
    _create_speech_jobs()
    _create_stored_audio()
    _create_voice_files()
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dialect", sa.String(length=16), nullable=True))

    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_request_id"))
        batch_op.create_unique_constraint(batch_op.f("uq_usage_records_request_id"), ["request_id"])


def _create_router_secrets() -> None:
    op.create_table(
        "router_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=256), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_router_secrets")),
    )


def _create_speech_jobs() -> None:
    op.create_table(
        "speech_jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=True),
        sa.Column("dialect", sa.String(length=32), nullable=False),
        sa.Column("model", sa.String(length=256), nullable=False),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=True),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("worker", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("audio_id", sa.String(length=40), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=1024), nullable=True),
        sa.Column("expires_at", UTC_DATETIME, nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_speech_jobs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_speech_jobs")),
    )
    with op.batch_alter_table("speech_jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_speech_jobs_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_speech_jobs_lease_until"), ["lease_until"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_speech_jobs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_speech_jobs_tenant_id"), ["tenant_id"], unique=False)


def _create_stored_audio() -> None:
    op.create_table(
        "stored_audio",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("blob_key", sa.String(length=200), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("expires_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_stored_audio_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_audio")),
    )
    with op.batch_alter_table("stored_audio", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stored_audio_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_stored_audio_tenant_id"), ["tenant_id"], unique=False)


def _create_voice_files() -> None:
    op.create_table(
        "voice_files",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("tenant_id", sa.String(length=40), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("sample_rate", sa.Integer(), nullable=False),
        sa.Column("blob_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_voice_files_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_voice_files")),
    )
    with op.batch_alter_table("voice_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_voice_files_tenant_id"), ["tenant_id"], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_usage_records_request_id"), type_="unique")
        batch_op.create_index(
            batch_op.f("ix_usage_records_request_id"), ["request_id"], unique=False
        )

    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("dialect")

    with op.batch_alter_table("voice_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_voice_files_tenant_id"))

    op.drop_table("voice_files")
    with op.batch_alter_table("stored_audio", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_audio_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_stored_audio_expires_at"))

    op.drop_table("stored_audio")
    with op.batch_alter_table("speech_jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_speech_jobs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_speech_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_speech_jobs_lease_until"))
        batch_op.drop_index(batch_op.f("ix_speech_jobs_expires_at"))

    op.drop_table("speech_jobs")
    op.drop_table("router_secrets")
