"""The docs index and what docsgap does with it: syncing a docs project (`sync`, `service`,
`gitlab_archive`) into the state (`store`, `mdpage`, `model`), searching its sections (`index`,
`bm25`, `querytext`), the answerability gate of docs-first replies (`gate`, `gatefeatures`,
`gatetrain`, `evaluate`), the open forum questions (`questions`), what the index says about a
detected gap (`checks`) and spike alerts (`spikes`). Page identity is `docsgap.docpages`; the
replies are planned in `docsgap.act.answers`.
"""
