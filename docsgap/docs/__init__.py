"""What docsgap knows about docs pages: URLs and their source files (`rules/docs-map.yml`).

Shared by detection (which page a post is about), dedup (same page, same gap) and composing.
"""
