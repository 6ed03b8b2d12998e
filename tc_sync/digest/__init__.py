"""The daily digest: per coordinator or queue, counts, what is overdue, the top items.

`compose` (who gets what, and the words; pure) and `send` (from the ledger, through the push
email target's SMTP session).
"""
