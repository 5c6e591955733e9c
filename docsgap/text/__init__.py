"""Text as docsgap compares it, shared by dedup and the docs index: markup, templates, markers,
URLs and code stripped (`textnorm`), and words, stems and concepts (`words`). Pure and fast;
imports nothing from docsgap, and nothing here is imported by the package itself."""
