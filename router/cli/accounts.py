"""`tts-router tenants …` and `tts-router keys …`: account management against the database."""

from __future__ import annotations

import argparse
import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import get_args

from router.accounts.management import Accounts, KeyOptions
from router.http.dialects import DialectName
from router.http.object_views import key_view, tenant_view
from router.settings import Settings
from storage.database import create_engine, session_factory, upgrade
from storage.keys import KeyRepository
from storage.models import utcnow
from storage.tenants import TenantRepository

_DURATION = re.compile(r"^(\d+)([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Command = Callable[[Accounts, argparse.Namespace], Awaitable[list[str]]]


def duration(text: str) -> timedelta:
    """`90s`, `15m`, `24h`, `30d` or `2w` as a timedelta."""
    match = _DURATION.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"not a duration like 30d or 24h: {text!r}")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def expiry(text: str) -> datetime:
    """A duration from now (`30d`) or an ISO 8601 moment with a timezone."""
    if _DURATION.match(text.strip()):
        return utcnow() + duration(text)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a duration or ISO 8601 time: {text!r}") from exc
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"give a timezone, e.g. {text}+00:00")
    return moment


def add_account_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    """Register the `tenants` and `keys` command groups."""
    group = commands.add_parser("tenants", help="manage tenants", parents=[common])
    tenants = group.add_subparsers(dest="action", required=True)
    create = tenants.add_parser("create", help="create a tenant", parents=[common])
    create.add_argument("name")
    create.add_argument("--rpm", type=int, help="requests per minute for the whole tenant")
    create.add_argument("--concurrency", type=int, help="concurrent requests at most")
    create.add_argument("--monthly-chars", type=int, help="input characters per month")
    create.set_defaults(run=_create_tenant)
    tenants.add_parser("list", help="list tenants", parents=[common]).set_defaults(
        run=_list_tenants
    )

    group = commands.add_parser("keys", help="manage API keys", parents=[common])
    keys = group.add_subparsers(dest="action", required=True)
    create_key = keys.add_parser(
        "create", help="create a key; prints it alone on the last line", parents=[common]
    )
    create_key.add_argument("--tenant", required=True, help="tenant name or id")
    create_key.add_argument("--name")
    create_key.add_argument("--rpm", type=int, help="requests per minute for this key")
    create_key.add_argument("--monthly-chars", type=int, help="input characters per month")
    create_key.add_argument("--models", help="comma-separated models the key may call")
    create_key.add_argument("--expires", type=expiry, help="30d, 24h, or an ISO 8601 time")
    create_key.add_argument("--admin", action="store_true", help="may use the admin API")
    create_key.add_argument(
        "--dialect",
        choices=get_args(DialectName),
        help="the dialect this key speaks on the shared root paths such as /v1/audio/speech",
    )
    create_key.set_defaults(run=_create_key)
    list_keys = keys.add_parser("list", help="list keys (never their secrets)", parents=[common])
    list_keys.add_argument("--tenant")
    list_keys.set_defaults(run=_list_keys)
    revoke = keys.add_parser("revoke", help="revoke a key at once", parents=[common])
    revoke.add_argument("key_id")
    revoke.set_defaults(run=_revoke_key)
    rotate = keys.add_parser(
        "rotate", help="replace a key; prints the new one on the last line", parents=[common]
    )
    rotate.add_argument("key_id")
    rotate.add_argument("--grace", type=duration, default=timedelta(hours=24))
    rotate.set_defaults(run=_rotate_key)


def run_account_command(settings: Settings, args: argparse.Namespace) -> list[str]:
    """Run the chosen command; its output lines (a refusal raises RouterError)."""
    command: Command = args.run
    return asyncio.run(_with_accounts(settings, lambda accounts: command(accounts, args)))


async def _with_accounts(
    settings: Settings, action: Callable[[Accounts], Awaitable[list[str]]]
) -> list[str]:
    async with _accounts(settings) as accounts:
        return await action(accounts)


@asynccontextmanager
async def _accounts(settings: Settings) -> AsyncIterator[Accounts]:
    if settings.embedded_database:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(upgrade, settings.resolved_database_url)
    engine = create_engine(settings.resolved_database_url)
    try:
        sessions = session_factory(engine)
        yield Accounts(TenantRepository(sessions), KeyRepository(sessions))
    finally:
        await engine.dispose()


def _line(view: dict[str, object]) -> str:
    return "  ".join(f"{name}={value}" for name, value in view.items() if name != "object")


async def _create_tenant(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    tenant = await accounts.create_tenant(
        args.name,
        rpm_limit=args.rpm,
        concurrency_limit=args.concurrency,
        monthly_chars_limit=args.monthly_chars,
    )
    return [_line(tenant_view(tenant))]


async def _list_tenants(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    return [_line(tenant_view(tenant)) for tenant in await accounts.tenants()]


async def _create_key(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    models = None if args.models is None else tuple(filter(None, args.models.split(",")))
    options = KeyOptions(
        name=args.name,
        rpm_limit=args.rpm,
        monthly_chars_limit=args.monthly_chars,
        models=models,
        expires_at=args.expires,
        is_admin=args.admin,
        dialect=args.dialect,
    )
    key, secret = await accounts.create_key(args.tenant, options)
    return [_line(key_view(key)), secret]


async def _list_keys(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    return [_line(key_view(key)) for key in await accounts.keys(args.tenant)]


async def _revoke_key(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    return [_line(key_view(await accounts.revoke_key(args.key_id)))]


async def _rotate_key(accounts: Accounts, args: argparse.Namespace) -> list[str]:
    key, secret = await accounts.rotate_key(args.key_id, args.grace)
    return [_line(key_view(key)), secret]


async def bootstrap(settings: Settings) -> str | None:
    """Migrate the embedded database; on an empty one, create the default tenant and key."""
    async with _accounts(settings) as accounts:
        return await accounts.bootstrap()
