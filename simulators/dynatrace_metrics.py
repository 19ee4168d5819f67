"""Dynatrace metric selectors, entity selectors and their evaluation over the estate's lazy telemetry."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from simulators import hashing
from simulators.model import PRODUCTION, Component
from simulators.timeseries import SlotStats, Telemetry


class SelectorError(ValueError):
    """A selector the real API would refuse (answered with 400)."""


# --- entities --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Entity:
    entity_id: str
    type: str
    display_name: str
    component: Component
    environment: str
    app: str
    team: str
    domain: str
    tags: list[tuple[str, str, str | None]]
    first_seen_ms: int

    def tag_strings(self) -> list[str]:
        return [f"{k}:{v}" if v is not None else k for _, k, v in self.tags]


def process_group_id(service_id: str) -> str:
    """The process group a service runs on (SERVICE runsOn PROCESS_GROUP)."""
    return hashing.dynatrace_entity_id("PROCESS_GROUP", service_id)


def process_instance_id(container_id: str) -> str:
    """The process group instance inside a container (PROCESS_GROUP_INSTANCE isPgiOfCgi CONTAINER_GROUP_INSTANCE)."""
    return hashing.dynatrace_entity_id("PROCESS_GROUP_INSTANCE", container_id)


def build_entities(components: Iterable[tuple[Component, str, str, str]], first_seen_ms: int) -> list[Entity]:
    """SERVICE, PROCESS_GROUP_INSTANCE and CONTAINER_GROUP_INSTANCE entities per (component, team, domain, app) and
    environment: a service runs on a process group instance, which runs in a container, as Dynatrace links them."""
    entities: list[Entity] = []
    for comp, team, domain, app in components:
        for env in comp.environments():
            tags: list[tuple[str, str, str | None]] = [
                ("CONTEXTLESS", "app", app),
                ("CONTEXTLESS", "environment", env),
                ("CONTEXTLESS", "team", team),
                ("CONTEXTLESS", "component", comp.name),
            ]
            service_id = comp.service_id if env == PRODUCTION else comp.staging_service_id
            container_id = comp.container_id if env == PRODUCTION else comp.staging_container_id
            assert service_id is not None and container_id is not None
            entities.append(Entity(service_id, "SERVICE", comp.name, comp, env, app, team, domain, tags, first_seen_ms))
            # The service runs on a process group instance, which runs in the container.
            for entity_id, kind, name in (
                (process_instance_id(container_id), "PROCESS_GROUP_INSTANCE", f"{comp.name} ({comp.name}-{env})"),
                (container_id, "CONTAINER_GROUP_INSTANCE", f"{comp.name}-{env}"),
            ):
                entities.append(Entity(entity_id, kind, name, comp, env, app, team, domain, tags, first_seen_ms))
    return entities


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split on a separator outside parentheses and double quotes."""
    parts: list[str] = []
    depth, quoted, current = 0, False, []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and quoted and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == '"':
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if not quoted and depth == 0 and text.startswith(separator, index):
            parts.append("".join(current))
            current = []
            index += len(separator)
            continue
        current.append(char)
        index += 1
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def unquote(arg: str) -> str:
    arg = arg.strip()
    if len(arg) >= 2 and arg[0] == arg[-1] == '"':
        return arg[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return arg


_PREDICATE_RE = re.compile(r"^([A-Za-z][\w.]*)\((.*)\)$", re.S)


def entity_filter(selector: str) -> Callable[[Entity], bool]:
    """An entitySelector as a predicate: type(), entityId(), tag(), entityName(.equals/.startsWith), mzName()."""
    predicates: list[Callable[[Entity], bool]] = []
    # Commas are the documented conjunction; " AND " is seen in the wild (keptn) and accepted too.
    for part in split_top_level(selector.replace(" AND ", ",")):
        match = _PREDICATE_RE.match(part)
        if not match:
            raise SelectorError(f"Invalid entity selector part: {part}")
        name, raw = match.group(1), match.group(2)
        args = [unquote(a) for a in split_top_level(raw)]
        predicates.append(_entity_predicate(name, args))

    def accept(entity: Entity) -> bool:
        return all(p(entity) for p in predicates)

    return accept


def _entity_predicate(name: str, args: list[str]) -> Callable[[Entity], bool]:
    if name == "type":
        wanted = {a.upper() for a in args}
        return lambda e: e.type in wanted
    if name == "entityId":
        ids = set(args)
        return lambda e: e.entity_id in ids
    if name == "tag":
        wanted_tags = [_parse_tag(a) for a in args]
        return lambda e: any(_tag_matches(t, e) for t in wanted_tags)
    if name in ("entityName", "entityName.equals"):
        names = set(args)
        return lambda e: e.display_name in names
    if name == "entityName.startsWith":
        return lambda e: any(e.display_name.startswith(a) for a in args)
    if name == "entityName.contains":
        return lambda e: any(a.lower() in e.display_name.lower() for a in args)
    if name == "mzName":
        zones = set(args)
        return lambda e: e.domain in zones
    raise SelectorError(f"Unsupported entity selector predicate: {name}")


def _parse_tag(text: str) -> tuple[str | None, str, str | None]:
    context = None
    if text.startswith("["):
        context, _, text = text[1:].partition("]")
    key, sep, value = text.partition(":")
    return context, key, (value if sep else None)


def _tag_matches(tag: tuple[str | None, str, str | None], entity: Entity) -> bool:
    context, key, value = tag
    for tag_context, tag_key, tag_value in entity.tags:
        if context not in (None, tag_context) and not (context == "Environment" and tag_context == "CONTEXTLESS"):
            continue
        if tag_key == key and (value is None or tag_value == value):
            return True
    return False


# --- metric definitions -----------------------------------------------------------------------------------------
Extract = Callable[[SlotStats, str, float | None], float | None]


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    key: str
    display_name: str
    unit: str
    entity_type: str
    dimension: str
    default_aggregation: str
    aggregations: tuple[str, ...]
    additive: bool
    extract: Extract


def _response_time(stats: SlotStats, aggregation: str, percentile: float | None) -> float | None:
    if aggregation == "percentile":
        points = [
            (0, stats.response_p50_us * 0.2),
            (50, stats.response_p50_us),
            (90, stats.response_p90_us),
            (95, stats.response_p95_us),
            (99, stats.response_p99_us),
            (100, stats.response_max_us),
        ]
        p = max(0.0, min(100.0, percentile if percentile is not None else 50.0))
        for (p0, v0), (p1, v1) in itertools.pairwise(points):
            if p <= p1:
                return v0 + (v1 - v0) * (p - p0) / (p1 - p0)
        return stats.response_max_us
    return {
        "avg": stats.response_avg_us,
        "auto": stats.response_avg_us,
        "median": stats.response_p50_us,
        "max": stats.response_max_us,
        "min": stats.response_p50_us * 0.2,
        "count": stats.requests,
        "sum": stats.response_avg_us * stats.requests,
    }.get(aggregation)


def _count(value: Callable[[SlotStats], float]) -> Extract:
    def extract(stats: SlotStats, aggregation: str, percentile: float | None) -> float | None:
        return value(stats) if aggregation in ("auto", "value", "sum", "count", "avg", "max", "min") else None

    return extract


def _gauge(value: Callable[[SlotStats], float]) -> Extract:
    def extract(stats: SlotStats, aggregation: str, percentile: float | None) -> float | None:
        base = value(stats)
        return {
            "auto": base,
            "avg": base,
            "value": base,
            "max": min(100.0, base * 1.3),
            "min": base * 0.7,
            "count": 60.0,
            "sum": base * 60,
        }.get(aggregation)

    return extract


def _client_errors(stats: SlotStats) -> float:
    return float(round(stats.requests * 0.002))


_SERVICE = ("SERVICE", "dt.entity.service")
_CONTAINER = ("CONTAINER_GROUP_INSTANCE", "dt.entity.container_group_instance")
_COUNT_AGGS = ("auto", "value")
_TIME_AGGS = ("auto", "avg", "count", "max", "median", "min", "percentile", "sum")
_GAUGE_AGGS = ("auto", "avg", "count", "max", "min", "sum")

METRICS: dict[str, MetricDefinition] = {
    m.key: m
    for m in (
        MetricDefinition(
            "builtin:service.response.time",
            "Response time",
            "MicroSecond",
            *_SERVICE,
            "avg",
            _TIME_AGGS,
            False,
            _response_time,
        ),
        MetricDefinition(
            "builtin:service.requestCount.total",
            "Request count",
            "Count",
            *_SERVICE,
            "value",
            _COUNT_AGGS,
            True,
            _count(lambda s: s.requests),
        ),
        MetricDefinition(
            "builtin:service.errors.server.count",
            "Failed requests count (server side)",
            "Count",
            *_SERVICE,
            "value",
            _COUNT_AGGS,
            True,
            _count(lambda s: s.errors),
        ),
        MetricDefinition(
            "builtin:service.errors.server.successCount",
            "Successful requests count (server side)",
            "Count",
            *_SERVICE,
            "value",
            _COUNT_AGGS,
            True,
            _count(lambda s: s.requests - s.errors),
        ),
        MetricDefinition(
            "builtin:service.errors.server.rate",
            "Failure rate (server side)",
            "Percent",
            *_SERVICE,
            "avg",
            _GAUGE_AGGS,
            False,
            _gauge(lambda s: s.error_rate_percent),
        ),
        MetricDefinition(
            "builtin:service.errors.total.count",
            "Failed requests count",
            "Count",
            *_SERVICE,
            "value",
            _COUNT_AGGS,
            True,
            _count(lambda s: s.errors + _client_errors(s)),
        ),
        MetricDefinition(
            "builtin:service.errors.total.successCount",
            "Successful requests count",
            "Count",
            *_SERVICE,
            "value",
            _COUNT_AGGS,
            True,
            _count(lambda s: s.requests - s.errors - _client_errors(s)),
        ),
        MetricDefinition(
            "builtin:service.errors.total.rate",
            "Failure rate",
            "Percent",
            *_SERVICE,
            "avg",
            _GAUGE_AGGS,
            False,
            _gauge(lambda s: 100.0 * (s.errors + _client_errors(s)) / s.requests if s.requests else 0.0),
        ),
        MetricDefinition(
            "builtin:service.cpu.time",
            "Service CPU time",
            "MicroSecond",
            *_SERVICE,
            "sum",
            ("auto", "avg", "count", "max", "min", "sum"),
            True,
            _count(lambda s: s.requests * s.cpu_percent * 40.0),
        ),
        MetricDefinition(
            "builtin:containers.cpu.usagePercent",
            "Containers: CPU usage % of limit",
            "Percent",
            *_CONTAINER,
            "avg",
            _GAUGE_AGGS,
            False,
            _gauge(lambda s: s.cpu_percent),
        ),
        MetricDefinition(
            "builtin:containers.memory.usagePercent",
            "Containers: Memory usage % of limit",
            "Percent",
            *_CONTAINER,
            "avg",
            _GAUGE_AGGS,
            False,
            _gauge(lambda s: s.memory_percent),
        ),
    )
}

_AGGREGATIONS = {"auto", "avg", "sum", "min", "max", "count", "median", "percentile", "value"}
_SUPPORTED = _AGGREGATIONS | {"splitBy", "merge", "names", "fold", "default", "limit", "sort", "rate", "parents"}


# --- selector syntax --------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Transform:
    name: str
    args: list[str]


@dataclass(slots=True)
class MetricNode:
    key: str
    transforms: list[Transform]


@dataclass(slots=True)
class NumberNode:
    value: float


@dataclass(slots=True)
class BinaryNode:
    op: str
    left: Node
    right: Node
    transforms: list[Transform] = field(default_factory=list)


Node = MetricNode | NumberNode | BinaryNode

_KEY_RE = re.compile(r"[A-Za-z][\w]*:[A-Za-z_][\w.]*")
_NUMBER_RE = re.compile(r"\d+(?:\.\d+)?")
_NAME_RE = re.compile(r"[A-Za-z][\w]*")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> SelectorError:
        return SelectorError(f"Invalid metric selector at position {self.pos}: {what}")

    def peek(self) -> str:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def parse(self) -> Node:
        node = self.expression()
        if self.peek():
            raise self.fail(f"unexpected {self.text[self.pos :]!r}")
        return node

    def expression(self) -> Node:
        node = self.term()
        while self.peek() in ("+", "-"):
            op = self.text[self.pos]
            self.pos += 1
            node = BinaryNode(op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek() in ("*", "/"):
            op = self.text[self.pos]
            self.pos += 1
            node = BinaryNode(op, node, self.unary())
        return node

    def unary(self) -> Node:
        char = self.peek()
        if char == "(":
            self.pos += 1
            inner = self.expression()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.pos += 1
            transforms = self.transforms()
            if isinstance(inner, MetricNode | BinaryNode):
                inner.transforms.extend(transforms)
            return inner
        number = _NUMBER_RE.match(self.text, self.pos)
        if number:
            self.pos = number.end()
            return NumberNode(float(number.group()))
        key = _KEY_RE.match(self.text, self.pos)
        if not key:
            raise self.fail("expected a metric key")
        self.pos = key.end()
        return MetricNode(key.group(), self.transforms())

    def transforms(self) -> list[Transform]:
        found: list[Transform] = []
        while self.pos < len(self.text) and self.text[self.pos] == ":":
            self.pos += 1
            name = _NAME_RE.match(self.text, self.pos)
            if not name:
                raise self.fail("expected a transformation")
            self.pos = name.end()
            args: list[str] = []
            if self.pos < len(self.text) and self.text[self.pos] == "(":
                depth, start = 0, self.pos
                quoted = False
                while self.pos < len(self.text):
                    char = self.text[self.pos]
                    if char == '"':
                        quoted = not quoted
                    elif not quoted and char == "(":
                        depth += 1
                    elif not quoted and char == ")":
                        depth -= 1
                        if depth == 0:
                            break
                    self.pos += 1
                if self.pos >= len(self.text):
                    raise self.fail("unbalanced parentheses")
                args = split_top_level(self.text[start + 1 : self.pos])
                self.pos += 1
            if name.group() not in _SUPPORTED:
                raise SelectorError(f"The transformation {name.group()} is not supported")
            found.append(Transform(name.group(), args))
        return found


def parse_metric_selector(selector: str) -> list[tuple[str, Node]]:
    """Comma-separated metric selectors (at most 10), each with its original text (the response's metricId)."""
    parts = split_top_level(selector)
    if not parts:
        raise SelectorError("The metric selector is empty")
    if len(parts) > 10:
        raise SelectorError("A query may contain at most 10 metric selectors")
    return [(part, _Parser(part).parse()) for part in parts]


# --- evaluation -------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class Frame:
    """The time slots of a query: [start_ms, end_ms) cut into slots of resolution_ms (or one slot for Inf)."""

    from_ms: int
    to_ms: int
    resolution_ms: int | None

    def slots(self) -> list[tuple[int, int]]:
        if self.resolution_ms is None:
            return [(self.from_ms, self.to_ms)]
        step = self.resolution_ms
        first = self.from_ms - self.from_ms % step
        return [(s, s + step) for s in range(first, self.to_ms, step)]

    def timestamps(self) -> list[int]:
        return [end for _, end in self.slots()]


@dataclass(slots=True)
class Series:
    dims: dict[str, str]
    values: list[float | None]
    weights: list[float]


@dataclass(slots=True)
class Group:
    dims: dict[str, str]
    members: list[Entity]


@dataclass
class MetricResult:
    """One metric selector's series, computed lazily page by page when the selector allows it."""

    metric_id: str
    groups: list[Group]
    compute: Callable[[Group], Series]
    names: bool
    warnings: list[str]
    precomputed: list[Series] | None = None

    def __len__(self) -> int:
        return len(self.precomputed) if self.precomputed is not None else len(self.groups)

    def page(self, offset: int, size: int) -> list[Series]:
        if self.precomputed is not None:
            return self.precomputed[offset : offset + size]
        return [self.compute(g) for g in self.groups[offset : offset + size]]


class Evaluator:
    def __init__(self, telemetry: Telemetry, entities: list[Entity], name_dimension: Callable[[Entity], str]):
        self.telemetry = telemetry
        self.entities = entities
        self.by_id = {e.entity_id: e for e in entities}
        self.name_dimension = name_dimension

    def evaluate(
        self, metric_id: str, node: Node, frame: Frame, entity_predicate: Callable[[Entity], bool] | None
    ) -> MetricResult:
        if isinstance(node, MetricNode):
            return self._metric(metric_id, node, frame, entity_predicate)
        series = self._expression(node, frame, entity_predicate)
        return MetricResult(metric_id, [], lambda g: Series({}, [], []), False, [], precomputed=series)

    def _metric(
        self, metric_id: str, node: MetricNode, frame: Frame, entity_predicate: Callable[[Entity], bool] | None
    ) -> MetricResult:
        definition = METRICS.get(node.key)
        if definition is None:
            raise SelectorError(f"The metric key {node.key} does not exist")
        aggregation, percentile = definition.default_aggregation, None
        for t in node.transforms:
            if t.name in _AGGREGATIONS:
                aggregation = t.name
                if t.name == "percentile":
                    if not t.args:
                        raise SelectorError("percentile needs an argument")
                    percentile = float(t.args[0])
                if aggregation == "median":
                    aggregation, percentile = "percentile", 50.0
        if aggregation not in definition.aggregations and aggregation != "auto":
            raise SelectorError(f"The aggregation {aggregation} is not supported by {definition.key}")
        selected = [
            e
            for e in self.entities
            if e.type == definition.entity_type and (entity_predicate is None or entity_predicate(e))
        ]
        groups = [Group({definition.dimension: e.entity_id}, [e]) for e in selected]
        warnings: list[str] = []
        names = False
        value_steps: list[Transform] = []
        for t in node.transforms:
            if t.name in ("splitBy", "merge"):
                keys = [unquote(a) for a in t.args]
                unknown = [k for k in keys if k != definition.dimension]
                for key in unknown:
                    entity_type = key.removeprefix("dt.entity.") if key.startswith("dt.entity.") else key
                    warnings.append(
                        f"The dimension key `{key}` has been referenced, but `{entity_type}` is not a "
                        "known entity type."
                    )
                    warnings.append(f"The dimension key `{key}` has been referenced, but the metric has no such key.")
                if unknown:
                    groups = []
                    continue
                kept = keys if t.name == "splitBy" else [k for k in (definition.dimension,) if k not in keys]
                groups = _regroup(groups, kept)
            elif t.name == "names":
                names = True
            elif t.name not in _AGGREGATIONS:
                value_steps.append(t)

        slots = frame.slots()

        def compute(group: Group) -> Series:
            series = self._group_series(definition, aggregation, percentile, group, slots)
            for step in value_steps:
                series = _apply_value_step(step, series, definition, slots)
            return series

        result = MetricResult(metric_id, groups, compute, names, warnings)
        if any(step.name in ("sort", "limit") for step in value_steps):
            result.precomputed = _sort_and_limit([compute(g) for g in groups], value_steps)
        return result

    def _group_series(
        self,
        definition: MetricDefinition,
        aggregation: str,
        percentile: float | None,
        group: Group,
        slots: list[tuple[int, int]],
    ) -> Series:
        values: list[float | None] = []
        weights: list[float] = []
        for start_ms, end_ms in slots:
            acc, weight_sum, extreme = 0.0, 0.0, None
            seen = False
            for entity in group.members:
                stats = self.telemetry.slot_stats(
                    entity.component, entity.environment, start_ms // 1000, (end_ms - start_ms) // 1000
                )
                if stats is None:
                    continue
                value = definition.extract(stats, aggregation, percentile)
                if value is None:
                    continue
                seen = True
                weight = stats.requests if definition.entity_type == "SERVICE" else 1.0
                if aggregation in ("max", "min"):
                    extreme = value if extreme is None else (max if aggregation == "max" else min)(extreme, value)
                elif definition.additive or aggregation in ("count", "sum"):
                    acc += value
                else:
                    acc += value * weight
                weight_sum += weight
            if not seen:
                values.append(None)
                weights.append(0.0)
                continue
            if aggregation in ("max", "min"):
                values.append(extreme)
            elif definition.additive or aggregation in ("count", "sum"):
                values.append(acc)
            else:
                values.append(acc / weight_sum if weight_sum else None)
            weights.append(weight_sum)
        dims = dict(group.dims)
        return Series(dims, values, weights)

    def _expression(self, node: Node, frame: Frame, entity_predicate: Callable[[Entity], bool] | None) -> list[Series]:
        slots = frame.slots()
        if isinstance(node, NumberNode):
            return [Series({}, [node.value] * len(slots), [1.0] * len(slots))]
        if isinstance(node, MetricNode):
            result = self._metric("", node, frame, entity_predicate)
            return result.page(0, len(result))
        left = self._expression(node.left, frame, entity_predicate)
        right = self._expression(node.right, frame, entity_predicate)
        combined = _combine(node.op, left, right)
        for step in node.transforms:
            if step.name in ("splitBy", "merge"):
                continue
            combined = [_apply_value_step(step, s, None, slots) for s in combined]
        return combined

    def add_names(self, series: Series) -> tuple[list[str], dict[str, str]]:
        """The `dimensions` list and `dimensionMap` of a series; `:names` puts each name before its id."""
        dimensions: list[str] = []
        dimension_map: dict[str, str] = {}
        for key, value in series.dims.items():
            entity = self.by_id.get(value)
            if entity is not None:
                name = self.name_dimension(entity)
                dimensions.append(name)
                dimension_map[f"{key}.name"] = name
            dimensions.append(value)
            dimension_map[key] = value
        return dimensions, dimension_map


def _regroup(groups: list[Group], keys: list[str]) -> list[Group]:
    merged: dict[tuple[tuple[str, str], ...], Group] = {}
    for group in groups:
        dims = {k: v for k, v in group.dims.items() if k in keys}
        key = tuple(sorted(dims.items()))
        if key in merged:
            merged[key].members.extend(group.members)
        else:
            merged[key] = Group(dims, list(group.members))
    return list(merged.values())


def _apply_value_step(
    step: Transform, series: Series, definition: MetricDefinition | None, slots: list[tuple[int, int]]
) -> Series:
    if step.name == "default":
        if any(v is not None for v in series.values):
            fill = float(step.args[0]) if step.args else 0.0
            series.values = [fill if v is None else v for v in series.values]
        return series
    if step.name == "rate":
        unit_ms = _duration_ms(step.args[0] if step.args else "1m")
        series.values = [
            None if v is None else v * unit_ms / (end - start)
            for v, (start, end) in zip(series.values, slots, strict=True)
        ]
        return series
    if step.name == "fold":
        present = [(v, w) for v, w in zip(series.values, series.weights, strict=True) if v is not None]
        mode = step.args[0] if step.args else ("sum" if definition is not None and definition.additive else "avg")
        if not present:
            folded: float | None = None
        elif mode in ("sum", "value", "count"):
            folded = sum(v for v, _ in present)
        elif mode == "max":
            folded = max(v for v, _ in present)
        elif mode == "min":
            folded = min(v for v, _ in present)
        else:
            total_weight = sum(w for _, w in present)
            folded = (
                sum(v * w for v, w in present) / total_weight
                if total_weight
                else sum(v for v, _ in present) / len(present)
            )
        series.values = [folded]
        series.weights = [sum(series.weights)]
        return series
    return series


def _sort_and_limit(series: list[Series], steps: list[Transform]) -> list[Series]:
    for step in steps:
        if step.name == "sort":
            descending = any("descending" in a for a in step.args)

            def average(s: Series) -> float:
                present = [v for v in s.values if v is not None]
                return sum(present) / len(present) if present else float("-inf")

            series = sorted(series, key=average, reverse=descending)
        elif step.name == "limit":
            series = series[: int(step.args[0])] if step.args else series
    return series


def _combine(op: str, left: list[Series], right: list[Series]) -> list[Series]:
    def apply(a: float | None, b: float | None) -> float | None:
        if a is None or b is None:
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b if b != 0 else None

    def pair(a: Series, b: Series, dims: dict[str, str]) -> Series:
        length = max(len(a.values), len(b.values))
        av = a.values if len(a.values) == length else a.values * length
        bv = b.values if len(b.values) == length else b.values * length
        return Series(
            dims,
            [apply(x, y) for x, y in zip(av, bv, strict=True)],
            a.weights if len(a.weights) == length else b.weights,
        )

    if len(right) == 1 and not right[0].dims:
        return [pair(a, right[0], a.dims) for a in left]
    if len(left) == 1 and not left[0].dims:
        return [pair(left[0], b, b.dims) for b in right]
    by_dims = {tuple(sorted(b.dims.items())): b for b in right}
    out = []
    for a in left:
        match = by_dims.get(tuple(sorted(a.dims.items())))
        if match is not None:
            out.append(pair(a, match, a.dims))
    return out


_DURATION_RE = re.compile(r"^(\d+)([smhdw])$")
_DURATION_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}


def _duration_ms(text: str) -> int:
    match = _DURATION_RE.match(text.strip())
    if not match:
        raise SelectorError(f"Invalid duration {text}")
    return int(match.group(1)) * _DURATION_MS[match.group(2)]


STANDARD_RESOLUTIONS = ["1m", "2m", "5m", "10m", "15m", "30m", "1h", "2h", "6h", "1d", "1w"]
MAX_POINTS = 10_080


def resolve_resolution(requested: str | None, from_ms: int, to_ms: int, now_ms: int) -> tuple[str, int | None]:
    """The resolution actually served, as the real API coarsens requests it cannot honour.

    Default: the finest standard resolution giving at most 120 points. Minute data is kept 14 days and
    5-minute data 28 days, so older frames are served coarser; more than 10,080 points per series is refused
    by coarsening too.
    """
    if requested and requested.lower() == "inf":
        return "Inf", None
    span = max(1, to_ms - from_ms)
    if requested:
        step = _duration_ms(requested)
        label = requested
    else:
        label = next((r for r in STANDARD_RESOLUTIONS if span / _duration_ms(r) <= 120), "1w")
        step = _duration_ms(label)
    age = now_ms - from_ms
    floor = 60_000
    if age > 14 * 86_400_000:
        floor = 300_000
    if age > 28 * 86_400_000:
        floor = 3_600_000
    if step < floor or span / step > MAX_POINTS:
        for candidate in STANDARD_RESOLUTIONS:
            candidate_ms = _duration_ms(candidate)
            if candidate_ms >= max(step, floor) and span / candidate_ms <= MAX_POINTS:
                return candidate, candidate_ms
        return "1w", _duration_ms("1w")
    return label, step
