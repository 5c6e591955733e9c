"""`reply_gone`: docsgap's reply under which a follow-up would go, found by its post number."""

from __future__ import annotations

from dataclasses import replace

from docsgap.act.ownreply import reply_gone
from tests.fakes import docs_thread

DELETED = "docsgap's reply in this thread was deleted: no follow-up"


def thread_with_reply(withheld: str | None = None):  # type: ignore[no-untyped-def]
    thread = docs_thread(7, "Docs gap", "The page is wrong.", "docsgap's reply")
    first, reply = thread.posts
    return replace(thread, posts=(first, replace(reply, withheld=withheld)))


def test_a_reply_still_there_carries_the_followup() -> None:
    assert reply_gone(thread_with_reply(), "https://forum.test/t/t-7/7/2") is None


def test_deleted_withdrawn_or_absent_is_deleted_and_hidden_says_so() -> None:
    url = "https://forum.test/t/t-7/7/2"
    assert reply_gone(thread_with_reply("deleted by a moderator"), url) == DELETED
    assert reply_gone(thread_with_reply("withdrawn by its author"), url) == DELETED
    assert reply_gone(thread_with_reply(), "https://forum.test/t/t-7/7/3") == DELETED
    assert reply_gone(thread_with_reply("hidden after flags"), url) == (
        "docsgap's reply in this thread was hidden after flags: no follow-up")


def test_a_reply_url_of_another_topic_or_none_is_not_judged() -> None:
    thread = thread_with_reply("deleted by a moderator")
    assert reply_gone(thread, "https://forum.test/t/other/8/2") is None
    assert reply_gone(thread, None) is None
