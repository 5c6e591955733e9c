"""What docsgap says about Discourse's new-user and slow-mode refusals (`discourse_rules`)."""

from __future__ import annotations

import pytest

from docsgap.forum.discourse_rules import advice, explain


@pytest.mark.parametrize(("text", "says"), [
    ("Sorry, new users can only put 2 links in a post.", "allows it 2 links a post"),
    ("Sorry, new users can only put one link in a post.", "allows it 1 link a post"),
    ("Sorry, new users can't put links in posts.", "newuser_max_links"),
    ("Sorry you cannot post a link to that host.", "allowed_spam_host_domains"),
    ("Sorry, new users can only mention 2 users in a post.", "allows it 2 mentions a post"),
    ("Sorry, you can only mention 10 users in a post.", "max_mentions_per_post"),
    ("We're sorry, but new users are temporarily limited to 3 replies in the same topic.",
     "newuser_max_replies_per_topic"),
    ("This topic is in slow mode.", "a later run retries the reply"),
    ("No more than 3 consecutive replies are allowed. Please edit your previous reply, or wait "
     "for someone to reply to you.", "max_consecutive_replies"),
    ("Sorry, you can't include links in your posts.", "post_links_allowed_groups"),
])
def test_each_rule_is_named_with_what_to_do(text: str, says: str) -> None:
    said = advice(f"Discourse refused the reply (422): {text}")
    assert said is not None and says in said


def test_other_refusals_are_left_as_they_are() -> None:
    text = "Discourse refused the reply (422): Body is too short (minimum is 20 characters)"
    assert advice(text) is None and explain(text) == text
    assert explain("x: This topic is in slow mode.").startswith("x: This topic is in slow mode: ")
