"""An IAM policy evaluator for the policies this repository writes: identity, boundary, resource and trust.

It follows AWS's evaluation logic for one account
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an explicit Deny in any applicable policy wins; otherwise an identity-based Allow counts only if
every permissions boundary also allows; a resource-based policy Allow (or a trust policy's) grants
on its own. Statements support Action/NotAction, Resource/NotResource, Principal/NotPrincipal and
the condition operators used here (String*, Arn*, Bool, Null, with IfExists and
ForAnyValue/ForAllValues). Anything else raises, so a policy never passes by being misunderstood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]
ALLOW, DENY, IMPLICIT = "Allow", "ExplicitDeny", "ImplicitDeny"


@dataclass(frozen=True)
class Request:
    action: str
    resource: str = "*"
    # Condition keys as AWS sends them (names are case-insensitive); a list for multivalued keys.
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    # For resource and trust policies: who is asking, e.g. {"Service": "cloudfront.amazonaws.com"}.
    principal: Mapping[str, str] = field(default_factory=dict)


def _listify(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def _glob(pattern: str, value: str, *, case: bool) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, 0 if case else re.IGNORECASE) is not None


def _action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(_glob(p, action, case=False) for p in patterns)


def _resource_matches(patterns: Iterable[str], resource: str) -> bool:
    return any(_glob(p, resource, case=True) for p in patterns)


def _principal_matches(spec: Any, principal: Mapping[str, str]) -> bool:
    if spec == "*" or spec == {"AWS": "*"}:
        return True
    if not isinstance(spec, Mapping):
        raise ValueError(f"unsupported Principal {spec!r}")
    return any(principal.get(kind) in _listify(values) for kind, values in spec.items())


def _lookup(context: Mapping[str, str | Sequence[str]], key: str) -> list[str] | None:
    for name, value in context.items():
        if name.lower() == key.lower():
            return [str(v) for v in _listify(value)]
    return None


_STRING = {
    "StringEquals": lambda p, v: p == v,
    "StringEqualsIgnoreCase": lambda p, v: p.lower() == v.lower(),
    "StringLike": lambda p, v: _glob(p, v, case=True),
    "ArnEquals": lambda p, v: p == v,
    "ArnLike": lambda p, v: _glob(p, v, case=True),
    "Bool": lambda p, v: p.lower() == v.lower(),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike"}


def _condition_holds(operator: str, key: str, wanted: Any, context: Mapping[str, Any]) -> bool:
    qualifier, _, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    present = _lookup(context, key)
    patterns = [str(w) for w in _listify(wanted)]
    if op == "Null":
        return (present is None) == (patterns[0].lower() == "true")
    negated = op in _NEGATED
    base = _NEGATED.get(op, op)
    if base not in _STRING:
        raise ValueError(f"unsupported condition operator {operator}")
    test = _STRING[base]
    if present is None:
        # A missing key satisfies IfExists, negated operators and ForAllValues (every one of no
        # values matches), nothing else.
        return if_exists or negated or qualifier == "ForAllValues"
    if qualifier == "ForAllValues":
        return all(any(test(p, v) for p in patterns) != negated for v in present)
    matched = any(test(p, v) for p in patterns for v in present)
    return not matched if negated else matched


def _statement_applies(statement: Mapping[str, Any], request: Request, resource_policy: bool) -> bool:
    if "Action" in statement and not _action_matches(_listify(statement["Action"]), request.action):
        return False
    if "NotAction" in statement and _action_matches(_listify(statement["NotAction"]), request.action):
        return False
    if "Resource" in statement and not _resource_matches(_listify(statement["Resource"]), request.resource):
        return False
    if "NotResource" in statement and _resource_matches(_listify(statement["NotResource"]), request.resource):
        return False
    if resource_policy:
        if "Principal" in statement and not _principal_matches(statement["Principal"], request.principal):
            return False
        if "NotPrincipal" in statement and _principal_matches(statement["NotPrincipal"], request.principal):
            return False
    for operator, keys in (statement.get("Condition") or {}).items():
        for key, wanted in keys.items():
            if not _condition_holds(operator, key, wanted, request.context):
                return False
    return True


def decide(policy: Policy | None, request: Request, *, resource_policy: bool = False) -> str:
    """ALLOW, DENY (explicit) or IMPLICIT for one policy document."""
    if policy is None:
        return IMPLICIT
    result = IMPLICIT
    for statement in _listify(policy.get("Statement", [])):
        if not _statement_applies(statement, request, resource_policy):
            continue
        if statement["Effect"] == "Deny":
            return DENY
        result = ALLOW
    return result


def evaluate(request: Request, identity: Iterable[Policy] = (), boundary: Policy | None = None,
             resource: Policy | None = None) -> str:
    """The decision for a principal with `identity` policies (and a `boundary`) acting on a resource
    that may carry its own `resource` policy (or a role's trust policy), all in one account."""
    identity = list(identity)
    decisions = [decide(p, request) for p in identity]
    boundary_decision = decide(boundary, request) if boundary is not None else ALLOW
    resource_decision = decide(resource, request, resource_policy=True)
    if DENY in (*decisions, boundary_decision, resource_decision):
        return DENY
    if resource_decision == ALLOW:
        return ALLOW
    if ALLOW in decisions and boundary_decision == ALLOW:
        return ALLOW
    return IMPLICIT


def allowed(request: Request, **policies: Any) -> bool:
    return evaluate(request, **policies) == ALLOW

