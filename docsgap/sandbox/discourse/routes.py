"""The sandbox's Discourse routes: auth (all-users, single-user and granular API keys), the
shared admin-key rate limit, and the read/reply endpoints docsgap uses (CONTRACTS.md §A)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from docsgap.sandbox.discourse import anoncache, queue, users, views
from docsgap.sandbox.discourse.posting import create_post as create_post_as
from docsgap.sandbox.discourse.posting import invalid_parameters
from docsgap.sandbox.discourse.site import about_json, site_json
from docsgap.sandbox.discourse.state import ForumState
from docsgap.sandbox.wire import (
    DISCOURSE_JSON,
    DISCOURSE_NOT_FOUND,
    JSON,
    Handler,
    HttpError,
    Request,
    Response,
    Route,
    discourse_error,
    find_route,
    json_response,
    route,
    segment,
)

CHUNK_SIZE = 20
"""`TopicView::CHUNK_SIZE`: posts in `/t/{id}.json` and in one `/t/{id}/posts.json` answer."""
LATEST_POSTS_PAGE = 50
TOPICS_PER_PAGE = 30
PRINT_LIMIT = 1000
INVALID_KEY = (
    "You are not permitted to view the requested resource. The API username or key is invalid."
)
SCOPES: dict[str, frozenset[str]] = {
    "topics:read": frozenset({"topics#show", "topics#posts"}),
    "topics:write": frozenset({"posts#create"}),
    "topics:read_lists": frozenset({"list#latest"}),
    "posts:list": frozenset({"posts#latest"}),
    "categories:list": frozenset({"categories#index"}),
    "users:show": frozenset({"users#show"}),
    "wordpress:publishing": frozenset({"site#site", "posts#create", "topics#show"}),
}
"""Granular API key scopes -> the controller actions they allow (`ApiKeyScope`); `global:read`
allows every GET. `posts:list` (Discourse 3.1, 2023: PR #21913) reads `/posts.json`; nothing but
a global key reaches `posts#show`, `session#current` or `about#index`."""
NOT_LOGGED_IN = "You need to be logged in to do that."
LOGIN_EXEMPT = frozenset({"session#current"})
"""Actions a `login_required` site serves to the anonymous: `SessionController` skips
`redirect_to_login_if_required` (so `/session/current.json` is still its empty 404);
`/site.json`, `/about.json`, profiles, lists and topics are refused (only `site#basic_info`
and `site#statistics`, which the sandbox does not serve, are exempt)."""


@dataclass
class ForumCtx:
    """What a forum route handler gets besides the request."""

    state: ForumState
    viewer: JSON | None
    now: float
    root: str
    """`http://host:port` as the client addressed us (for `Location` headers)."""


def ok(data: JSON) -> Response:
    """200 with the exact content type pydiscourse insists on."""
    return json_response(200, data, content_type=DISCOURSE_JSON)


def not_found() -> HttpError:
    """The 404 body of samples/discourse-error-404.json."""
    return HttpError(discourse_error(404, DISCOURSE_NOT_FOUND, "not_found"))


def _invalid_key() -> HttpError:
    return HttpError(discourse_error(403, INVALID_KEY, "invalid_access"))


def allowed(scopes: list[str] | None, method: str, action: str) -> bool:
    """Whether a key with `scopes` (None: a global key) may run `action`."""
    if scopes is None:
        return True
    if method == "GET" and "global:read" in scopes:
        return True
    return any(action in SCOPES.get(scope, frozenset()) for scope in scopes)


def authenticate(state: ForumState, req: Request, action: str) -> tuple[JSON | None, bool]:
    """(acting user, came with an API key). A wrong key or username, or a granular key whose
    scopes do not cover `action`, is the same 403 (`DefaultCurrentUserProvider` finds no
    user); no key at all means anonymous."""
    key = req.header("Api-Key")
    if key is None:
        return None, False
    spec = state.api_keys.get(key)
    if spec is None or not allowed(spec["scopes"], req.method, action):
        raise _invalid_key()
    bound = spec["username"]
    username = req.header("Api-Username") or bound
    if bound is not None and username is not None and username.lower() != bound.lower():
        raise _invalid_key()
    user = state.user(username)
    if user is None:
        raise _invalid_key()
    return user, True


def handle(state: ForumState, req: Request, now: float, root: str) -> Response:
    """Serve one forum request: from the anonymous cache when it holds a fresh copy (the
    middleware runs before the app), else through auth, `login_required` and the route."""
    settings = state.settings
    key = None
    if settings.anon_cache_seconds > 0 and anoncache.cacheable(req):
        key = anoncache.cache_key(req)
        hit = state.anon_cache.cached(key, now)
        if hit is not None:
            return hit
    try:
        found = find_route(ROUTES, req)
        action = ACTIONS[found[0].handler] if found else "unknown"
        viewer, keyed = authenticate(state, req, action)
        if keyed:
            state.charge_admin_api(now)
        if found is None:
            raise not_found()
        if viewer is None and settings.login_required and action not in LOGIN_EXEMPT:
            raise HttpError(_not_logged_in(action))
        chosen, m = found
        response = chosen.handler(ForumCtx(state, viewer, now, root), req, m)
    except HttpError as exc:
        return exc.response
    if key is not None and action in anoncache.CACHED_ACTIONS:
        response = state.anon_cache.offer(key, response, now, settings.anon_cache_seconds,
                                          settings.anon_cache_store_threshold)
    return response


def _not_logged_in(action: str) -> Response:
    """`redirect_to_login_if_required` for a JSON request: `Discourse::NotLoggedIn`, rendered
    by `rescue_discourse_actions(:not_logged_in, 403)`; the topic view adds its error page in
    `extras` (the sandbox's is a stub)."""
    extras: JSON | None = None
    if action == "topics#show":
        extras = {"title": "Page Not Found", "html": "<div class=\"page-not-found\"></div>",
                  "group": None}
    return discourse_error(403, NOT_LOGGED_IN, "not_logged_in", extras=extras)


def _int_arg(req: Request, name: str, default: int, *, low: int = 0) -> int:
    """An integer query parameter; a non-integer or one below `low` is `invalid_parameters`."""
    value = req.arg(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise invalid_parameters(name) from None
    if number < low:
        raise invalid_parameters(name)
    return number


# --- lists -----------------------------------------------------------------------------------


def latest_posts(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/posts.json[?before=ID]`: regular, visible (not hidden), undeleted posts in categories
    the caller can see, id descending, 50 a page (`LatestPostsQuery`). With the
    `legacy_latest_posts` setting, as older Discourse did it: the ids in (before-50, before]
    filtered afterwards, so short and empty pages happen mid-stream."""
    asked = req.int_arg("before", 0)
    before = asked if asked > 0 else None
    window = LATEST_POSTS_PAGE if ctx.state.settings.legacy_latest_posts else None
    page = ctx.state.latest_posts(before, ctx.viewer, LATEST_POSTS_PAGE, window=window)
    return ok({"latest_posts": [views.post_json(ctx.state, p, ctx.viewer, "latest")
                                for p in page]})


def latest_topics(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/latest.json?page=N`: 0-based pages of 30, pinned first, `more_topics_url` only when
    the page is full (so its absence marks the last page). A page or page size that is not a
    whole number (or below its minimum) is a 400 `invalid_parameters` (`TopicQuery`)."""
    per_page = min(100, _int_arg(req, "per_page", TOPICS_PER_PAGE, low=1))
    page = _int_arg(req, "page", 0)
    order = req.arg("order", "activity") or "activity"
    field = "created_at" if order == "created" else "bumped_at"
    topics = sorted(ctx.state.visible_topics(ctx.viewer), key=lambda t: t[field],
                    reverse=req.arg("ascending") != "true")
    # Pinned topics lead (`prioritize_pinned_topics`); a stable sort keeps the rest in order.
    topics.sort(key=lambda t: not (t["pinned"] or t["pinned_globally"]))
    shown = topics[page * per_page : (page + 1) * per_page]
    items = [views.topic_list_item(ctx.state, t, ctx.viewer) for t in shown]
    user_ids = list(dict.fromkeys(p["user_id"] for item in items for p in item["posters"]))
    topic_list: JSON = {
        "can_create_topic": ctx.viewer is not None,
        "per_page": per_page,
        "top_tags": sorted(ctx.state.tags)[:10],
        "topics": items,
    }
    if len(shown) == per_page:
        params = {"no_definitions": "true", "page": str(page + 1)}
        if req.arg("per_page"):
            params["per_page"] = str(per_page)
        topic_list["more_topics_url"] = f"{ctx.state.base_path}/latest?{urlencode(params)}"
    return ok({
        "users": [views.user_brief(ctx.state.users[i], ctx.state.base_path) for i in user_ids],
        "primary_groups": [],
        "flair_groups": [],
        "topic_list": topic_list,
    })


# --- topics ----------------------------------------------------------------------------------


def topic_by_id(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/t/{id}.json` (no slug: no redirect) or `/t/{id}/{post_number}.json`."""
    near = int(m.group("n")) if m.group("n") else None
    return _topic_view(ctx, req, int(m.group("id")), near=near)


def topic_by_slug(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/t/{slug}/{id}.json`: a wrong slug answers 301 to the canonical path, empty body."""
    return _topic_view(ctx, req, int(m.group("id")), slug=segment(m, "slug"))


def _topic_view(
    ctx: ForumCtx, req: Request, topic_id: int, *, slug: str | None = None, near: int | None = None
) -> Response:
    topic = ctx.state.topic_for(topic_id, ctx.viewer)
    path = f"{ctx.state.base_path}/t/{topic['slug']}/{topic_id}.json"
    if slug is not None and slug != topic["slug"]:
        raise _redirect(ctx, path, req)
    show_deleted = req.arg("show_deleted") in ("true", "1")
    posts = ctx.state.topic_posts(topic, ctx.viewer, show_deleted=show_deleted)
    page = req.int_arg("page", 1)
    if page < 0:
        raise not_found()
    if req.arg("print") in ("true", "1"):
        shown = posts[:PRINT_LIMIT]
    elif near is not None:
        index = next((i for i, p in enumerate(posts) if p["post_number"] >= near), len(posts) - 1)
        start = max(0, index - CHUNK_SIZE // 4)
        shown = posts[start : start + CHUNK_SIZE]
    elif page > 1:
        last_page = max(1, -(-len(posts) // CHUNK_SIZE))
        if page > last_page:
            query = {k: v[-1] for k, v in req.query.items()} | {"page": str(last_page)}
            raise _redirect(ctx, f"{path}?{urlencode(query)}", None)
        shown = posts[(page - 1) * CHUNK_SIZE : page * CHUNK_SIZE]
    else:
        shown = posts[:CHUNK_SIZE]
    topic["views"] += 1
    include_raw = bool(req.arg("include_raw"))
    return ok(views.topic_view(ctx.state, topic, ctx.viewer, shown, posts, include_raw=include_raw))


def _redirect(ctx: ForumCtx, path: str, req: Request | None) -> HttpError:
    """301 with an empty body; pydiscourse turns that into `None` (it never follows)."""
    query = ""
    if req is not None and req.query:
        query = "?" + urlencode([(k, v) for k, values in req.query.items() for v in values])
    response = Response(301, b"", "text/html; charset=utf-8", {"Location": ctx.root + path + query})
    return HttpError(response)


def topic_posts(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/t/{id}/posts.json?post_ids[]=..` (or `post_number=N&asc=true`): `post_stream.posts`
    only, no `stream`. Ids asked for by name come back even when deleted, to staff
    (`filter_posts_by_ids` reads `with_deleted` for them)."""
    topic = ctx.state.topic_for(int(m.group("id")), ctx.viewer)
    wanted = {int(i) for i in req.args("post_ids") if i.strip().isdigit()}
    after = req.arg("post_number")
    if wanted:
        shown = [ctx.state.posts[i] for i in topic["post_ids"]
                 if i in wanted and ctx.state.can_see_post(ctx.state.posts[i], ctx.viewer)]
    else:
        posts = ctx.state.topic_posts(topic, ctx.viewer)
        if after is not None and after.isdigit():
            n = int(after)
            if req.arg("asc") == "true":
                shown = [p for p in posts if p["post_number"] > n][:CHUNK_SIZE]
            else:
                shown = [p for p in posts if p["post_number"] < n][-CHUNK_SIZE:]
        else:
            shown = posts[:CHUNK_SIZE]
    include_raw = bool(req.arg("include_raw"))
    data = [views.post_json(ctx.state, p, ctx.viewer, "topic", include_raw=include_raw)
            for p in shown]
    return ok({"post_stream": {"posts": data}, "id": topic["id"]})


def single_post(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/posts/{id}.json`: one post with `raw`, `post_url` and `posts_count` (deleted ones for
    staff only)."""
    post = ctx.state.posts.get(int(m.group("id")))
    if post is None or not ctx.state.can_see_post(post, ctx.viewer):
        raise not_found()
    ctx.state.topic_for(post["topic_id"], ctx.viewer)
    return ok(views.post_json(ctx.state, post, ctx.viewer, "single"))


def create_post(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`POST /posts.json`: 200 with the post at the root; the rules in `posting`."""
    if ctx.viewer is None:
        raise HttpError(discourse_error(403, NOT_LOGGED_IN, "not_logged_in"))
    post = create_post_as(ctx.state, ctx.viewer, req.form(), ctx.now)
    if post.get("action") == "enqueued":  # not nested in `post` (backwards_compatible_json)
        return ok(post)
    return ok(views.post_json(ctx.state, post, ctx.viewer, "create"))


def pending(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/posts/{username}/pending.json`: the user's posts waiting for approval (`queue`)."""
    return queue.pending_posts(ctx.state, ctx.viewer, segment(m, "name"), ctx.root)


# --- site, categories, users -----------------------------------------------------------------


def categories(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/categories.json`: top-level categories the caller can see; with
    `include_subcategories=true` each carries its visible children in `subcategory_list`."""
    state = ctx.state
    nested = req.arg("include_subcategories") == "true"

    def children_of(parent: int | None) -> list[JSON]:
        shown = sorted(
            (c for c in state.categories.values()
             if c.get("parent_category_id") == parent
             and state.can_see_category(ctx.viewer, c["id"])),
            key=lambda c: c["position"],
        )
        out = []
        for c in shown:
            data = views.category_json(state, c)
            if nested:
                data["subcategory_list"] = children_of(c["id"])
            out.append(data)
        return out

    return ok({"category_list": {
        "can_create_category": state.is_staff(ctx.viewer),
        "can_create_topic": ctx.viewer is not None,
        "categories": children_of(None),
    }})


def site(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/site.json`: site enums and every visible category (subcategories included)."""
    return ok(site_json(ctx.state, ctx.viewer))


def about(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/about.json`: title, version and the staff list (`AboutSerializer`)."""
    return ok(about_json(ctx.state, ctx.viewer))


def current_session(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/session/current.json`: the acting user; anonymous -> 404 with an empty body
    (`SessionController#current` renders `body: nil`)."""
    if ctx.viewer is None:
        raise HttpError(Response(404, b"", "text/html"))
    return ok({"current_user": users.current_user_json(ctx.state, ctx.viewer)})


def user_profile(ctx: ForumCtx, req: Request, m: re.Match[str]) -> Response:
    """`/u/{username}.json` (also `/users/{username}.json`, which pydiscourse's `user()` uses)."""
    user = ctx.state.user(segment(m, "name"))
    if user is None:
        raise not_found()
    return ok({"user_badges": [], "user": users.user_profile_json(ctx.state, user, ctx.viewer)})


_J = r"(?:\.json)?"
ROUTES: list[Route[ForumCtx]] = [
    route("GET", rf"/posts{_J}", latest_posts),
    route("POST", rf"/posts{_J}", create_post),
    route("GET", rf"/posts/(?P<id>\d+){_J}", single_post),
    route("GET", rf"/posts/(?P<name>[^/]+)/pending{_J}", pending),
    route("GET", rf"/latest{_J}", latest_topics),
    route("GET", rf"/t/(?P<id>\d+)/posts{_J}", topic_posts),
    route("GET", rf"/t/(?P<id>\d+)(?:/(?P<n>\d+))?{_J}", topic_by_id),
    route("GET", rf"/t/(?P<slug>[^/]+)/(?P<id>\d+){_J}", topic_by_slug),
    route("GET", rf"/categories{_J}", categories),
    route("GET", rf"/site{_J}", site),
    route("GET", rf"/about{_J}", about),
    route("GET", rf"/session/current{_J}", current_session),
    route("GET", rf"/u(?:sers)?/(?P<name>[^/]+?){_J}", user_profile),
]
ACTIONS: dict[Handler[ForumCtx], str] = {
    latest_posts: "posts#latest", create_post: "posts#create", single_post: "posts#show",
    latest_topics: "list#latest", topic_posts: "topics#posts", topic_by_id: "topics#show",
    topic_by_slug: "topics#show", categories: "categories#index", site: "site#site",
    about: "about#index", current_session: "session#current", user_profile: "users#show",
    pending: "posts#pending",
}
"""Each route's Rails controller action, which granular API key scopes are written against."""
