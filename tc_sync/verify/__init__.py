"""`tc-sync verify`: the PMS's own reports beside tc-sync's open items, and why they differ.

`reports` loads an adapter's report queries (adapters/<pms>/reports/), `query` runs them,
`compare` sets each beside the open items (pure), `explain` says why each difference exists,
`knobs` names the mapping settings behind one.
"""
