"""Data generated in code (nothing is downloaded): images (``e2t.data.images``) and text (``e2t.data.text``).

Every generator takes ``seed=`` and draws from its own ``torch.Generator``.

Introduced in: chapter 1.
"""
