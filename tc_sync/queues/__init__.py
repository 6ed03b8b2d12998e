"""Work queues: the open items as files coordinators open from a shared folder.

`rows` joins the open items with the replica (names, contacts, codes, carriers); `columns`
says what each file shows; `xlsx`, `csv_writer` and `html` write one format each; `atomic`
replaces a file in one step; `build` writes every format for every queue (and clinic).
"""
