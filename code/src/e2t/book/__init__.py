"""What only the book needs, not a model: gluing computed numbers into the prose (``e2t.book.glue``).

Introduced in: the preface.
"""
