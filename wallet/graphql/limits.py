"""What one GraphQL operation may ask for: depth, aliases, cost, breadth and logged reads, from one
pass.

graphql-core's own rules run first (so a fragment cycle or an unknown fragment is already a
validation error here), all but the one that checks fields can be merged: it compares the
fields merged into a selection set pairwise, so its cost grows with the square of the widest
set, and it runs only once the breadth here is known to be bounded. `operation_limit_errors`
walks each operation once. Each fragment's
summary is computed once and reused wherever it is spread, so the walk is linear in the size of
the document even when fragments spread each other many times over (a document whose
fragments each spread the next one twice expands exponentially; its summary does not).

Cost counts the records a query can make the server produce: a field costs 1 plus its
children's cost times its size, where the size of a paged field (`first`/`last`) is its page
size, of an unpaged list the assumed `list_size`, and of anything else 1. Every count is taken
over the operation as executed, fragments expanded, so a fragment spread twice counts twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.conf import settings
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    visit,
)
from graphql.language import Visitor

# Root fields each of whose evaluations appends to a citizen's access log, or (an export) opens
# and records everything the wallet holds about them: one per operation, not one per alias.
LOGGED_READ_FIELDS = frozenset({"citizenData", "exportMyData"})
# Counts stop growing here: the limits are far below, and a fragment bomb's numbers stay small.
_SATURATED = 10**12


class LimitCode(StrEnum):
    """Stable codes of the refusals (`extensions.code`, HTTP 400)."""

    QUERY_TOO_DEEP = "QUERY_TOO_DEEP"
    TOO_MANY_ALIASES = "TOO_MANY_ALIASES"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    TOO_MANY_FIELDS = "TOO_MANY_FIELDS"
    TOO_MANY_LOGGED_READS = "TOO_MANY_LOGGED_READS"
    BAD_USER_INPUT = "BAD_USER_INPUT"


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_logged_reads: int
    max_selections: int  # in one selection set
    max_page_size: int  # a page size given by a variable counts as this
    list_size: int  # what an unpaged list is assumed to hold

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_depth=settings.GRAPHQL_MAX_DEPTH,
            max_aliases=settings.GRAPHQL_MAX_ALIASES,
            max_cost=settings.GRAPHQL_MAX_COST,
            max_logged_reads=settings.GRAPHQL_MAX_LOGGED_READS,
            max_selections=settings.GRAPHQL_MAX_SELECTIONS,
            max_page_size=_relay_max_limit(),
            list_size=settings.GRAPHQL_LIST_COST,
        )


def _relay_max_limit() -> int:
    graphene_settings: dict[str, Any] = settings.GRAPHENE
    return int(graphene_settings["RELAY_CONNECTION_MAX_LIMIT"])


@dataclass(frozen=True)
class Summary:
    """What a selection set asks for, fragments expanded."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    logged_reads: int = 0
    breadth: int = 0  # fields this selection set merges, its fragments' included
    widest: int = 0  # the largest breadth here or in any set nested below

    def plus(self, other: Summary) -> Summary:
        """Two parts of one selection set together."""
        breadth = min(self.breadth + other.breadth, _SATURATED)
        return Summary(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, _SATURATED),
            cost=min(self.cost + other.cost, _SATURATED),
            logged_reads=min(self.logged_reads + other.logged_reads, _SATURATED),
            breadth=breadth,
            widest=max(self.widest, other.widest, breadth),
        )


class LimitError(GraphQLError):
    def __init__(self, message: str, code: LimitCode) -> None:
        super().__init__(message, extensions={"code": code.value})


def operation_limit_errors(
    schema: GraphQLSchema, document: DocumentNode, limits: Limits
) -> list[GraphQLError]:
    """The limits each operation of a (spec-valid) document breaks; empty when none."""
    analysis = _Analysis(schema, document, limits)
    errors: list[GraphQLError] = []
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = schema.get_root_type(definition.operation)
        if root is None:
            continue
        summary = analysis.selection_set(definition.selection_set, root)
        errors.extend(_broken_limits(summary, limits, definition))
    return errors


def _broken_limits(
    summary: Summary, limits: Limits, operation: OperationDefinitionNode
) -> list[GraphQLError]:
    name = f"`{operation.name.value}`" if operation.name else "The operation"
    errors: list[GraphQLError] = []
    if summary.depth > limits.max_depth:
        errors.append(
            LimitError(
                f"{name} exceeds maximum operation depth: it is nested {summary.depth} deep, "
                f"at most {limits.max_depth} is allowed.",
                LimitCode.QUERY_TOO_DEEP,
            )
        )
    if summary.aliases > limits.max_aliases:
        errors.append(
            LimitError(
                f"{name} uses {_count(summary.aliases)} aliases; at most {limits.max_aliases}.",
                LimitCode.TOO_MANY_ALIASES,
            )
        )
    if summary.cost > limits.max_cost:
        errors.append(
            LimitError(
                f"{name} could cost {_count(summary.cost)}; at most {limits.max_cost} is allowed."
                " Ask for smaller pages or fewer fields.",
                LimitCode.QUERY_TOO_COSTLY,
            )
        )
    if summary.widest > limits.max_selections:
        errors.append(
            LimitError(
                f"{name} merges {_count(summary.widest)} fields into one selection set; at most "
                f"{limits.max_selections}.",
                LimitCode.TOO_MANY_FIELDS,
            )
        )
    if summary.logged_reads > limits.max_logged_reads:
        errors.append(
            LimitError(
                f"{name} reads citizen data {_count(summary.logged_reads)} times; at most "
                f"{limits.max_logged_reads} per operation (each read is logged for the citizen).",
                LimitCode.TOO_MANY_LOGGED_READS,
            )
        )
    return errors


def _count(value: int) -> str:
    return f"more than {_SATURATED:,}" if value >= _SATURATED else f"{value:,}"


class _Analysis:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, limits: Limits) -> None:
        self.schema = schema
        self.limits = limits
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_summaries: dict[str, Summary] = {}

    def selection_set(self, selection_set: SelectionSetNode, parent: GraphQLNamedType) -> Summary:
        total = Summary()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total = total.plus(self.field(selection, parent))
            elif isinstance(selection, FragmentSpreadNode):
                total = total.plus(self.fragment(selection.name.value))
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    self.schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                total = total.plus(self.selection_set(selection.selection_set, condition or parent))
        return total

    def fragment(self, name: str) -> Summary:
        summary = self.fragment_summaries.get(name)
        if summary is None:
            definition = self.fragments[name]  # known: graphql-core's rules ran first
            condition = self.schema.get_type(definition.type_condition.name.value)
            assert condition is not None
            summary = self.selection_set(definition.selection_set, condition)
            self.fragment_summaries[name] = summary
        return summary

    def field(self, node: FieldNode, parent: GraphQLNamedType) -> Summary:
        name = node.name.value
        alias = 1 if node.alias else 0
        definition = _field_definition(parent, name)
        if definition is None:
            # __typename, or the introspection roots (refused outside DEBUG): a field to resolve,
            # counted like a leaf.
            return Summary(aliases=alias, cost=1, breadth=1, widest=1)
        children = (
            self.selection_set(node.selection_set, get_named_type(definition.type))
            if node.selection_set
            else Summary()
        )
        size = self.size(node, definition, parent)
        return Summary(
            # As graphene's depth rule counted: levels of nesting below the root's fields.
            depth=1 + children.depth if node.selection_set else 0,
            aliases=min(alias + children.aliases, _SATURATED),
            cost=min(1 + size * children.cost, _SATURATED),
            logged_reads=min(
                (1 if name in LOGGED_READ_FIELDS else 0) + children.logged_reads, _SATURATED
            ),
            breadth=1,
            widest=max(1, children.widest),
        )

    def size(self, node: FieldNode, definition: GraphQLField, parent: GraphQLNamedType) -> int:
        """How many of this field's children one evaluation can produce."""
        if "first" in definition.args or "last" in definition.args:
            return max(
                self.page_size(node, definition, "first"), self.page_size(node, definition, "last")
            )
        if isinstance(get_nullable_type(definition.type), GraphQLList):  # type: ignore[arg-type]
            # A connection's edges are its page, counted once on the connection field.
            is_page = isinstance(parent, GraphQLObjectType) and "pageInfo" in parent.fields
            return 1 if is_page else self.limits.list_size
        return 1

    def page_size(self, node: FieldNode, definition: GraphQLField, name: str) -> int:
        if name not in definition.args:
            return 0
        given = next((a.value for a in node.arguments if a.name.value == name), None)
        if given is None:
            default = definition.args[name].default_value
            # Without first or last, a connection serves its largest page.
            return default if isinstance(default, int) else self.limits.max_page_size
        if isinstance(given, IntValueNode):
            return max(int(given.value), 0)
        if isinstance(given, VariableNode):
            return self.limits.max_page_size
        return 0  # null: the resolver's own default, at most a page


def _field_definition(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    fields: Mapping[str, GraphQLField] | None = getattr(parent, "fields", None)
    return fields.get(name) if fields is not None else None


# NUL (which PostgreSQL text cannot hold) or an unpaired surrogate (not encodable as UTF-8).
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")


def _is_bad_text(value: str) -> bool:
    return _BAD_TEXT.search(value) is not None


def document_text_errors(document: DocumentNode) -> list[GraphQLError]:
    """String literals a database or an encoder would choke on, refused before anything runs."""
    errors: list[GraphQLError] = []

    class StringLiterals(Visitor):
        def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
            if not errors and _is_bad_text(node.value):
                errors.append(bad_text_error([node]))

    visit(document, StringLiterals())
    return errors


def variables_have_bad_text(value: Any) -> bool:
    if isinstance(value, str):
        return _is_bad_text(value)
    if isinstance(value, dict):
        return any(
            variables_have_bad_text(k) or variables_have_bad_text(v) for k, v in value.items()
        )
    if isinstance(value, list):
        return any(variables_have_bad_text(v) for v in value)
    return False


def bad_text_error(nodes: list[Any] | None = None) -> GraphQLError:
    return GraphQLError(
        "Text must not contain NUL characters or unpaired surrogates.",
        nodes=nodes,
        extensions={"code": LimitCode.BAD_USER_INPUT.value},
    )
