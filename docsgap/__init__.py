"""docsgap: turn docs-gap reports on a Discourse forum into linked GitLab documentation issues."""

__version__ = "0.1.0"

__all__ = ["__version__"]
