"""GitLab list semantics: issue/MR filters, ordering, and offset or keyset pagination with the
headers python-gitlab reads (it follows only `Link: rel="next"`; CONTRACTS.md §B1)."""

from __future__ import annotations

import base64
import json
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

from docsgap.sandbox.gitlab.mrs import is_draft
from docsgap.sandbox.gitlab.search import (
    SEARCH_MODES,
    Vector,
    full_text,
    fuzzy,
    matches,
    query,
    vector,
)
from docsgap.sandbox.gitlab.state import split_labels
from docsgap.sandbox.wire import (
    JSON,
    HttpError,
    Request,
    Response,
    gitlab_bad_request,
    json_response,
    norm_time,
)

OFFSET_CAP = 50_000


def _time_arg(req: Request, name: str) -> str | None:
    value = req.arg(name)
    if not value:
        return None
    try:
        return norm_time(value)
    except ValueError:
        raise gitlab_bad_request(f"{name} is invalid") from None


def filter_items(
    req: Request, items: list[JSON], *, kind: str, search_mode: str = "unwrap",
    users: dict[int, JSON] | None = None,
) -> list[JSON]:
    """Apply GitLab's list filters for issues (`kind="issue"`) or merge requests;
    `search_mode` says how issue text is indexed (`SEARCH_MODES`)."""
    state = req.arg("state") or "all"
    allowed = ("opened", "closed", "all") if kind == "issue" else (
        "opened", "closed", "locked", "merged", "all")
    if state not in allowed:
        raise gitlab_bad_request("state does not have a valid value")
    if state != "all":
        items = [i for i in items if i["state"] == state]
    items = _label_filter(items, req.arg("labels"), req.args("not[labels]"))
    author_id = req.arg("author_id")
    if author_id:
        items = [i for i in items if str(i["author_id"]) == author_id]
    author = req.arg("author_username")
    if author:
        items = [i for i in items if (users or {}).get(i["author_id"], {}).get("username")
                 == author]
    iids = {int(x) for x in req.args("iids") if x.isdigit()}
    if iids:
        items = [i for i in items if i["iid"] in iids]
    bounds: list[tuple[str, str, Callable[[str, str], bool]]] = [
        ("updated_after", "updated_at", lambda v, b: v >= b),
        ("updated_before", "updated_at", lambda v, b: v <= b),
        ("created_after", "created_at", lambda v, b: v >= b),
        ("created_before", "created_at", lambda v, b: v <= b),
    ]
    for param, name, keep in bounds:
        bound = _time_arg(req, param)
        if bound is not None:
            items = [i for i in items if keep(i[name], bound)]
    search = req.arg("search")
    if search:
        fields = [f.strip() for f in (req.arg("in") or "title,description").split(",")]
        if not set(fields) <= {"title", "description"}:
            raise gitlab_bad_request("in does not have a valid value")
        if kind == "issue" and search_mode not in SEARCH_MODES:
            raise ValueError(f"unknown search mode {search_mode!r}")
        if kind == "issue" and full_text(search):
            terms = query(search, search_mode)
            weights = "".join(sorted({"title": "A", "description": "B"}[f] for f in fields))
            items = [i for i in items if matches(
                _vector(str(i["title"]), str(i.get("description") or ""), search_mode),
                terms, weights)]
        else:
            items = [i for i in items if fuzzy(search, [str(i.get(f) or "") for f in fields])]
    if kind == "merge_request":
        for param in ("source_branch", "target_branch"):
            value = req.arg(param)
            if value:
                items = [i for i in items if i[param] == value]
        wip = req.arg("wip")
        if wip in ("yes", "no"):
            items = [i for i in items if is_draft(i["title"]) == (wip == "yes")]
    confidential = req.arg("confidential")
    if kind == "issue" and confidential in ("true", "false"):
        items = [i for i in items if i["confidential"] == (confidential == "true")]
    return items


def _label_filter(items: list[JSON], labels: str | None, excluded: list[str]) -> list[JSON]:
    if labels:
        if labels.lower() == "none":
            items = [i for i in items if not i["labels"]]
        elif labels.lower() == "any":
            items = [i for i in items if i["labels"]]
        else:
            wanted = {n.lower() for n in split_labels(labels)}
            items = [i for i in items if wanted <= {n.lower() for n in i["labels"]}]
    drop = {n.lower() for n in split_labels(excluded)}
    if drop:
        items = [i for i in items if not drop & {n.lower() for n in i["labels"]}]
    return items


@lru_cache(maxsize=8192)
def _vector(title: str, description: str, mode: str) -> Vector:
    return vector((("A", title), ("B", description)), mode)


@dataclass
class Listing:
    """A filtered, sorted list and its sort keys (what keyset cursors compare with)."""

    items: list[JSON]
    order_by: str
    sort: str
    keys: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.keys = [(i.get(self.order_by) or "", i["id"]) for i in self.items]


def order(
    req: Request, items: list[JSON], allowed: tuple[str, ...]
) -> tuple[list[JSON], str, str]:
    """Sort by `order_by` (first of `allowed` by default) then id, in `sort` direction."""
    order_by = req.arg("order_by") or allowed[0]
    sort = req.arg("sort") or "desc"
    if order_by not in allowed:
        raise gitlab_bad_request("order_by does not have a valid value")
    if sort not in ("asc", "desc"):
        raise gitlab_bad_request("sort does not have a valid value")
    ordered = sorted(items, key=lambda i: (i.get(order_by) or "", i["id"]), reverse=sort == "desc")
    return ordered, order_by, sort


def paginate(
    req: Request,
    items: list[JSON],
    api_root: str,
    render: Callable[[JSON], JSON],
    *,
    keyset: tuple[str, str] | None = None,
    offset_cap: bool = False,
    keys: list[tuple[str, int]] | None = None,
) -> Response:
    """A list response: offset pagination (x-* headers and `Link`), or keyset when asked and
    `keyset` (order_by, sort) says the endpoint supports it (only `Link: rel="next"`).
    `offset_cap`: offsets past 50,000 answer 405 (endpoints that also offer keyset)."""
    per_page = max(1, min(100, req.int_arg("per_page", 20)))
    url = f"{api_root}{req.path}"
    params = [(k, v) for k, values in req.query.items() for v in values
              if k not in ("page", "cursor", "per_page")]
    if req.arg("pagination") == "keyset":
        if keyset is None:
            raise HttpError(json_response(
                405, {"error": "Keyset pagination is not yet available for this type of request"}))
        return _keyset(req, items, per_page, url, params, keyset, render, keys)
    page = max(1, req.int_arg("page", 1))
    if offset_cap and (page - 1) * per_page > OFFSET_CAP:
        raise HttpError(json_response(405, {"error": (
            f"Offset pagination has a maximum allowed offset of {OFFSET_CAP} for requests that "
            "return objects of type Issue. Remaining records can be retrieved using keyset "
            "pagination.")}))
    total = len(items)
    pages = max(1, -(-total // per_page))
    shown = items[(page - 1) * per_page : page * per_page]

    def link(n: int) -> str:
        return f"{url}?{urlencode(params + [('page', str(n)), ('per_page', str(per_page))])}"

    rels = []
    if page > 1:
        rels.append(f'<{link(min(page - 1, pages))}>; rel="prev"')
    if page < pages:
        rels.append(f'<{link(page + 1)}>; rel="next"')
    rels += [f'<{link(1)}>; rel="first"', f'<{link(pages)}>; rel="last"']
    headers = {
        "X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(total),
        "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else "",
        "X-Prev-Page": str(page - 1) if page > 1 else "", "Link": ", ".join(rels),
    }
    return json_response(200, [render(i) for i in shown], headers=headers)


def _keyset(
    req: Request,
    items: list[JSON],
    per_page: int,
    url: str,
    params: list[tuple[str, str]],
    keyset: tuple[str, str],
    render: Callable[[JSON], JSON],
    keys: list[tuple[str, int]] | None = None,
) -> Response:
    order_by, sort = keyset
    cursor = req.arg("cursor")
    if cursor:
        try:
            value, last_id = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
        except (ValueError, TypeError):
            raise gitlab_bad_request("cursor is invalid") from None
        after = (value, last_id)
        if keys is not None and len(keys) == len(items):  # sorted: a binary search
            desc = sort == "desc"
            start = bisect_left(range(len(keys)), True,
                                key=lambda j: keys[j] < after if desc else keys[j] > after)
            items = items[start:]
        elif sort == "desc":
            items = [i for i in items if (i.get(order_by) or "", i["id"]) < after]
        else:
            items = [i for i in items if (i.get(order_by) or "", i["id"]) > after]
    shown = items[:per_page]
    headers: dict[str, str] = {}
    if len(items) > per_page:
        last = shown[-1]
        token = json.dumps([last.get(order_by) or "", last["id"]]).encode("utf-8")
        encoded = base64.urlsafe_b64encode(token).decode("ascii")
        query = urlencode(params + [("cursor", encoded), ("per_page", str(per_page))])
        headers["Link"] = f'<{url}?{query}>; rel="next"'
    return json_response(200, [render(i) for i in shown], headers=headers)
