"""What people decide: the review queue (`queue`: actions waiting for a person, and their
verdicts) and those verdicts as labelled data for training (`verdicts`)."""

from docsgap.review.queue import (
    VERDICTS,
    ReviewItem,
    confidential_warning,
    decide,
    dropped_with,
    edit_warnings,
    excerpt,
    find,
    item_json,
    match_lines,
    pending,
    preview_text,
    review_plan,
)

__all__ = ["VERDICTS", "ReviewItem", "confidential_warning", "decide", "dropped_with",
           "edit_warnings", "excerpt", "find", "item_json", "match_lines", "pending",
           "preview_text", "review_plan"]
