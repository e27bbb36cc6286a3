"""Relay connections whose page arguments are checked like any other input."""

from __future__ import annotations

from typing import Any

from graphene_django.fields import DjangoConnectionField
from graphql_relay import cursor_to_offset

from wallet.graphql.errors import ApiError, ErrorCode


class PagedConnectionField(DjangoConnectionField):
    """graphene-django's connection field, except that the field's own resolver (and so its
    permission check) runs before the page arguments are looked at, and a bad page argument is
    a BAD_USER_INPUT error rather than an assertion that surfaces as an internal error."""

    @classmethod
    def connection_resolver(
        cls,
        resolver: Any,
        connection: Any,
        default_manager: Any,
        queryset_resolver: Any,
        max_limit: int | None,
        enforce_first_or_last: bool,
        root: Any,
        info: Any,
        **args: Any,
    ) -> Any:
        iterable = resolver(root, info, **args)
        page_arguments_check(args, max_limit=max_limit)
        return super().connection_resolver(
            lambda *_, **__: iterable,
            connection,
            default_manager,
            queryset_resolver,
            max_limit,
            enforce_first_or_last,
            root,
            info,
            **args,
        )


def page_arguments_check(args: dict[str, Any], *, max_limit: int | None) -> None:
    for name in ("first", "last"):
        value = args.get(name)
        if value is not None and (value < 0 or (max_limit is not None and value > max_limit)):
            raise _bad_page(f"`{name}` must be between 0 and {max_limit}.")
    offset = args.get("offset")
    if offset is not None:
        if offset < 0:
            raise _bad_page("`offset` must not be negative.")
        if args.get("before") is not None:
            raise _bad_page("`offset` and `before` cannot be used together.")
    for name in ("before", "after"):
        cursor = args.get(name)
        if cursor is not None:
            offset_of_cursor = cursor_to_offset(cursor)
            if offset_of_cursor is None or offset_of_cursor < 0:
                raise _bad_page(f"The `{name}` cursor is not valid.")


def _bad_page(message: str) -> ApiError:
    return ApiError(message, ErrorCode.BAD_USER_INPUT)
