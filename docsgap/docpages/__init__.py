"""What docsgap knows about docs pages: URLs and their source files (`rules/docs-map.yml`).

The docs map (`docsmap`), a docs URL mapped to its project and source file (`pages`), page
identity on any docs site (`pageid`) and a source file's addresses in every URL era (`urls`).
Shared by detection (which page a post is about), dedup (same page, same gap) and the docs index
(which page a section is), so it imports nothing but the foundation (`models`, `errors`,
`paths`, `yamlload`).
"""
