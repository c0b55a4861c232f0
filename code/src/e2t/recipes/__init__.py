"""How each shipped model was trained: one module per model (or study), each with its ``checkpoint_job``.

A recipe holds the training settings, the training function the chapter's live run calls, and
``checkpoint_job(*, quick=False, directory=None) -> card``, which trains, saves with
``e2t.train.checkpoints.save_checkpoint`` and returns the card. ``python -m e2t.jobs NAME`` (``make checkpoints``)
runs the job of ``e2t.recipes.NAME``; ``quick=True`` runs a few steps only (the tests use it, so the jobs cannot rot)
and must write to ``directory``. Model modules never import recipes.

Introduced in: chapter 1.
"""
