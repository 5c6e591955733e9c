"""`docsgap doctor`: check what a first run needs (configuration, forum and GitLab reachable,
credentials, scopes, project, labels, where draft MRs come from, state file, rules) and say what
to fix. Read-only: every remote check is a GET; nothing is written anywhere.

The remote probes are small protocols (`ForumProbe`, `TrackerProbe`) implemented by the
adapters in `forum/discourse_checks.py` and `tracker/gitlab_checks.py`, so tests can pass fakes;
the adapters never import the doctor. `report` holds the results and their text, `runner` the
order of checks and the local ones, `forum` and `gitlab` the remote ones.
"""

from docsgap.doctor.report import Check, DoctorReport, Status, render_text, summary_line
from docsgap.doctor.runner import remote_checks, run_doctor

__all__ = [
    "Check",
    "DoctorReport",
    "Status",
    "remote_checks",
    "render_text",
    "run_doctor",
    "summary_line",
]
