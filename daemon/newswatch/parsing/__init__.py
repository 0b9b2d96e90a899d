"""The parse stage's runner: feed bodies to documents, in this process or on workers.

Kept apart from `newswatch.pipeline`, whose package imports the store (SQLAlchemy):
a parse worker imports this package and the parse path alone.
"""
