"""Acting on what was found: `plan` turns signals and their matches into a Plan (pure: which
writes, in which order, and the policy that allows each), and `answers` plans the docs-first
replies the docs index finds; `apply` carries it out exactly once in effect; `planview` shows
it; `followup` closes the loop when a linked item is fixed; `mr` opens draft MRs with an
engineer's fix; `summary_issue` keeps the one summary issue current.

Nothing here is imported by the package itself, so importing one module costs only its own
dependencies.
"""
