"""The sandbox's Discourse payloads validated against Discourse's official OpenAPI schema
(../shared/api/discourse-openapi.json; skipped where absent).

The schema is stricter than real Discourse in a few documented places; `relax` loosens exactly
those, so any other drift fails here."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from docsgap.sandbox import SANDBOX_DISCOURSE_API_KEY, SANDBOX_DISCOURSE_API_USERNAME, Sandbox

ADMIN = {"Api-Key": SANDBOX_DISCOURSE_API_KEY, "Api-Username": SANDBOX_DISCOURSE_API_USERNAME}
Schema = dict[str, Any]
pytestmark = pytest.mark.shared

# Where the official schema and real Discourse disagree (each checked against Discourse source):
NULLABLE = {
    "image_url",  # TopicListItemSerializer: null for topics without an image
    "featured_topic",  # UserSerializer: null until the user features a topic
}
INTEGER_TOO = {"reply_to_post_number"}  # an integer column; the schema says string|null
EXTRA_POST_FIELDS = {
    # Solved plugin fields (forum.gitlab.com runs Solved) and `raw`, which TopicsController adds
    # to every post when asked with include_raw=true.
    "accepted_answer": {"type": "boolean"},
    "can_accept_answer": {"type": "boolean"},
    "can_unaccept_answer": {"type": "boolean"},
    "topic_accepted_answer": {"type": "boolean"},
    "raw": {"type": "string"},
    "action_code": {"type": "string"},  # PostSerializer, on small-action posts ("closed.enabled")
}


def _types(node: Schema) -> list[str]:
    kind = node.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def relax(node: Any) -> Any:
    """A copy of `node` with the documented deviations allowed."""
    if isinstance(node, list):
        return [relax(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: relax(value) for key, value in node.items()}
    props = out.get("properties")
    if isinstance(props, dict):
        for name in NULLABLE & set(props):
            props[name] = {"anyOf": [props[name], {"type": "null"}]}
        for name in INTEGER_TOO & set(props):
            props[name] = {"type": sorted({*_types(props[name]), "integer"})}
        if {"post_number", "cooked", "topic_id"} <= set(props):
            for name, extra in EXTRA_POST_FIELDS.items():
                props.setdefault(name, extra)
    return out


@pytest.fixture(scope="module")
def spec(shared_dir: Path) -> Schema:
    path = shared_dir / "api" / "discourse-openapi.json"
    if not path.is_file():
        pytest.skip("discourse-openapi.json is absent")
    data: Schema = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def shared_dir() -> Path:  # module scope for `spec`; same skip rule as tests/conftest.py
    from tests.conftest import SHARED

    if not SHARED.is_dir():
        pytest.skip("../shared is absent")
    return SHARED


def response_schema(spec: Schema, path: str, method: str = "get") -> Schema:
    content = spec["paths"][path][method]["responses"]["200"]["content"]
    schema: Schema = relax(content["application/json"]["schema"])
    return schema


Fetch = Callable[[Sandbox], requests.Response]


def _get(path: str, *, anonymous: bool = False) -> Fetch:
    return lambda sb: requests.get(sb.forum_url + path, timeout=5,
                                   headers=None if anonymous else ADMIN)


def _rest_of_long_topic(sb: Sandbox) -> requests.Response:
    stream = requests.get(f"{sb.forum_url}/t/1007.json", headers=ADMIN, timeout=5).json()
    ids = stream["post_stream"]["stream"][20:]
    assert ids
    return requests.get(f"{sb.forum_url}/t/1007/posts.json", params={"post_ids[]": ids},
                        headers=ADMIN, timeout=5)


def _reply(sb: Sandbox) -> requests.Response:
    form = {"topic_id": "1011", "raw": "Thanks! We opened an issue to document this case."}
    return requests.post(f"{sb.forum_url}/posts", data=form, headers=ADMIN, timeout=5)


CASES: list[tuple[str, str, Fetch]] = [
    ("/posts.json", "get", _get("/posts.json")),
    ("/posts.json", "get", _get("/posts.json?before=5040", anonymous=True)),
    ("/t/{id}.json", "get", _get("/t/1007.json")),
    ("/t/{id}.json", "get", _get("/t/1001.json?include_raw=true")),
    ("/t/{id}.json", "get", _get("/t/1028.json", anonymous=True)),
    ("/t/{id}/posts.json", "get", _rest_of_long_topic),
    ("/latest.json", "get", _get("/latest.json")),
    ("/latest.json", "get", _get("/latest.json?page=1", anonymous=True)),
    ("/categories.json", "get", _get("/categories.json")),
    ("/site.json", "get", _get("/site.json")),
    ("/u/{username}.json", "get", _get("/u/docsgap-bot.json")),
    ("/u/{username}.json", "get", _get("/u/lena_h.json")),
    ("/posts.json", "post", _reply),
]


@pytest.mark.parametrize(("path", "method", "fetch"), CASES,
                         ids=[f"{m} {p} #{n}" for n, (p, m, _) in enumerate(CASES)])
def test_payload_matches_the_official_schema(
    spec: Schema, sandbox: Sandbox, path: str, method: str, fetch: Fetch
) -> None:
    response = fetch(sandbox)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    validator = jsonschema.Draft202012Validator(response_schema(spec, path, method))
    found = validator.iter_errors(response.json())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in found]
    assert errors == []


def test_relaxations_are_still_needed(spec: Schema) -> None:
    """If the official schema catches up, drop the matching relaxation above."""
    raw = spec["paths"]["/latest.json"]["get"]["responses"]["200"]["content"]
    item = raw["application/json"]["schema"]["properties"]["topic_list"]["properties"]
    assert "null" not in _types(item["topics"]["items"]["properties"]["image_url"])
    posts = spec["paths"]["/posts.json"]["get"]["responses"]["200"]["content"]
    latest = posts["application/json"]["schema"]["properties"]["latest_posts"]["items"]
    assert "integer" not in _types(latest["properties"]["reply_to_post_number"])
