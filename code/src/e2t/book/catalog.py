"""The map from the source document's sections to the code of ``e2t`` that implements them (chapter 7).

``SOURCE_SECTIONS`` lists every heading of the source document, in its order and with its level and wording (the
Chinese ones with an English gloss), the chapters that treat it and the modules, functions and classes that
implement it. ``map_problems()`` checks the table against the package, so it cannot drift unnoticed: every object
it names exists, every section but the bibliography names code, each section names at least one object introduced
in one of its chapters ("Introduced in: chapter N" in the object's docstring or its module's), and every module
that implements a chapter (``implementation_modules()``) appears under some section. ``code/tests/test_catalog.py``
asserts that the list of problems is empty.

``catalog()`` lists every public function and class of the package with the chapter that introduces it, and
``undocumented()`` the ones whose chapter no docstring names (it should be empty).

Introduced in: chapter 7.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Sequence
from dataclasses import dataclass

import e2t

__all__ = ["Entry", "Section", "SOURCE_SECTIONS", "catalog", "undocumented", "implementation_modules",
           "map_problems", "section_rows", "section_map_markdown"]

_INTRODUCED = re.compile(r"Introduced in:\s*(the preface|chapters?\s+(\d+))", re.IGNORECASE)

#: Subpackages whose modules serve the book itself (the prose, the readers' checks), not a section of the source.
NOT_IMPLEMENTATIONS = ("e2t.book", "e2t.exercises")


@dataclass(frozen=True)
class Entry:
    """One public object of the package and the chapter that introduces it."""

    chapter: int
    module: str
    name: str
    kind: str


@dataclass(frozen=True)
class Section:
    """One heading of the source document: its level (1 = the title, 2 = ``##``, ...), its wording as the source
    writes it, an English gloss where that is Chinese, the chapters that treat it (0 = the preface) and the code
    that implements it, as ``(module under e2t, object names)`` pairs. A section without code says why in ``note``.
    """

    level: int
    heading: str
    gloss: str
    chapters: tuple[int, ...]
    code: tuple[tuple[str, tuple[str, ...]], ...]
    note: str = ""


def _s(level, heading, chapters, *code, gloss="", note=""):
    return Section(level, heading, gloss, tuple(chapters), tuple((m, tuple(n.split())) for m, n in code), note)


#: The source document's headings, in order, each with the chapters and the code that implement it.
SOURCE_SECTIONS: tuple[Section, ...] = (
    _s(1, "从EncoderDecoder到Transformer", [0], ("temperature", "softmax_with_temperature entropy"),
       ("viz.temperature", "temperature_explorer"), ("train.checkpoints", "load read_card"),
       ("viz.plot", "heatmap"), gloss="from encoder-decoder to Transformer: the title"),
    _s(2, "Encoder-Decoder", [1], ("viz.diagrams", "encoder_decoder"), ("train.loop", "fit History")),
    _s(3, "横向分析", [1], ("hog", "hog image_gradients orientation_histograms"),
       ("cnn", "ConvEncoder CNNClassifier make_cnn_classifier fit_linear_probe"),
       ("data.images", "classification_images"), gloss="horizontal analysis: features"),
    _s(3, "纵向分析", [1], ("cnn", "SegNet make_segnet mean_iou"), ("data.images", "segmentation_scenes caption_scenes"),
       ("rnn", "GRUEncoder GRUDecoder"), ("reply", "ReplyModel make_reply_model predict_replies"),
       ("data.replies", "reply_pairs"), ("data.vocab", "Vocab"),
       ("captioning", "Captioner make_captioner greedy_captions"), ("recipes.captioning", "train_captioner"),
       ("text_to_image", "TextToImage make_text_to_image drawing_loss"),
       ("train.metrics", "exact_match corpus_bleu"),
       gloss="vertical analysis: CNN, RNN and mixed encoder-decoders"),
    _s(2, "Sequence-to-Sequence", [2], ("seq2seq", "Seq2Seq Seq2SeqConfig make_seq2seq"),
       ("data.text", "number_task NumberTask batches collate"), ("train.translate", "translator"),
       ("train.evaluation", "evaluate"), ("train.metrics", "token_accuracy"),
       ("recipes.seq2seq", "train_seq2seq"), ("viz.curves", "seq2seq_curves")),
    _s(3, "Example", [1, 2], ("seq2seq", "Encoder Decoder"), ("viz.diagrams", "seq2seq"),
       ("train.losses", "teacher_forced_loss"), ("train.decoding", "greedy_decode beam_search"),
       ("cnn", "ConvAutoencoder make_conv_autoencoder")),
    _s(2, "Attention", [2, 3], ("recipes.seq2seq", "run_setting checkpoint_job"),
       ("saliency", "source_influence influence_shares peak_share row_similarity")),
    _s(3, "Attention In Bahdanau et al., 2015", [3],
       ("rnnsearch", "RNNsearch RNNsearchConfig make_rnnsearch alignments"), ("scores", "AdditiveScore"),
       ("attention", "BahdanauAttention masked_softmax"), ("viz.diagrams", "bahdanau"),
       ("viz.alignment", "plot_alignment alignment_explorer"), ("recipes.rnnsearch", "train_rnnsearch"),
       ("viz.curves", "rnnsearch_fig2_curves")),
    _s(3, "Attention or Memory", [3, 7], ("rnnsearch", "decoding_step_macs"),
       ("copy_models", "AttentionCopy TransformerCopy make_attention_copy make_transformer_copy"),
       ("recipes.copy_models", "checkpoint_job")),
    _s(3, "Attention Family", [4],
       ("scores", "cosine_score AdditiveScore LocationScore GeneralScore dot_score scaled_dot_score make_score"),
       ("scaling", "dot_product_stats softmax_jacobian_fro"), ("viz.scaling", "scaling_explorer"),
       ("recipes.score_study", "train_rnnsearch_study results_table"), ("data.word_alignment", "gold_alignment"),
       ("viz.curves", "compare_curves")),
    _s(4, "Attention分类", [4], ("self_attention", "SelfAttentionTagger"), ("hard_attention", "PatchAttentionModel"),
       ("luong", "LuongAttention"), gloss="kinds of attention"),
    _s(4, "Self-Attention", [4], ("self_attention", "SelfAttentionTagger TaggerConfig make_tagger tagger_accuracy"),
       ("recipes.tagger", "train_tagger")),
    _s(4, "Soft vs Hard Attention", [4],
       ("hard_attention", "PatchAttentionModel make_patch_model reinforce_surrogate MovingAverageBaseline "
                          "policy_gradient_variance"),
       ("data.patches", "patch_search to_patches"), ("recipes.hard_attention", "train_patch_model")),
    _s(4, "Global vs. Local Attention", [4],
       ("luong", "LuongAttention LuongTranslator local_weights gaussian_window window_mask PredictivePosition "
                 "make_luong"),
       ("recipes.luong", "train_luong"), ("viz.local_window", "local_window_explorer")),
    _s(2, "NMT", [5], ("turing", "TuringMachine increment_machine"), ("viz.turing", "draw_run"),
       ("ntm_model", "NTM NTMConfig make_ntm LSTMBaseline make_lstm"), ("viz.diagrams", "ntm"),
       ("data.copy_task", "copy_batch"), ("recipes.copy_task", "train_copy evaluate_copy"),
       ("recipes.ntm_model", "checkpoint_job"), ("viz.curves", "ntm_curves"),
       gloss="read: NTM, the Neural Turing Machine"),
    _s(4, "读写操作", [5], ("ntm", "read write"), ("viz.ntm_read_write", "read_write_explorer"),
       gloss="reading and writing"),
    _s(4, "Attention机制", [5], ("ntm", "address"), ("viz.diagrams", "ntm_addressing_flow"),
       ("viz.ntm_addressing", "addressing_explorer"), gloss="the attention mechanism: addressing"),
    _s(5, "Content-based addressing", [5], ("ntm", "cosine_rows content_addressing")),
    _s(5, "Interpolation", [5], ("ntm", "interpolate")),
    _s(5, "Location-based addressing", [5], ("ntm", "shift sharpen")),
    _s(2, "Transformer", [6], ("transformer_model", "Transformer"), ("lm", "TinyLM make_lm generate fill_masks"),
       ("data.counting", "counting_run lm_batches"), ("recipes.lm", "train_lm")),
    _s(4, "Key, Value and Query", [6], ("attention", "scaled_dot_product_attention"), ("scores", "scaled_dot_score")),
    _s(4, "Multi-Head Self-Attention", [6], ("transformer", "MultiHeadAttention record_attention")),
    _s(4, "Encoder", [6], ("transformer", "EncoderLayer Encoder FeedForward sinusoidal_positions"),
       ("masks", "padding_mask"), ("viz.plot", "positional_encoding_curves")),
    _s(4, "Decoder", [6], ("transformer", "DecoderLayer Decoder"), ("masks", "causal_mask"),
       ("viz.masking", "masking_explorer")),
    _s(4, "整个Transformer结构", [6], ("transformer_model", "Transformer TransformerConfig make_transformer"),
       ("recipes.transformer", "train_transformer task_translator warmup_decay"), ("viz.diagrams", "transformer"),
       ("viz.curves", "transformer_curves lr_schedule"), gloss="the whole Transformer"),
    _s(2, "Referrence", [], note="the bibliography (chapters/references.bib): nothing to implement"),
)


def _chapter_of(doc: str | None) -> int | None:
    match = _INTRODUCED.search(doc or "")
    if not match:
        return None
    return 0 if match.group(2) is None else int(match.group(2))


def _modules():
    """Every module of ``e2t`` (imported), by name."""
    for info in pkgutil.walk_packages(e2t.__path__, prefix="e2t."):
        yield info.name, importlib.import_module(info.name)


def _public_objects():
    """(module name, object name, object, module docstring) for every public function and class of ``e2t``."""
    for name_, module in _modules():
        for name, obj in vars(module).items():
            if name.startswith("_") or not (inspect.isfunction(obj) or inspect.isclass(obj)):
                continue
            if getattr(obj, "__module__", None) == module.__name__:
                yield name_, name, obj, module.__doc__


def _chapter(obj, module_doc: str | None) -> int | None:
    """The chapter an object's own docstring names, else its module's."""
    own = _chapter_of(inspect.getdoc(obj)) if getattr(obj, "__doc__", None) else None
    return own if own is not None else _chapter_of(module_doc)


def catalog() -> list[Entry]:
    """Every public function and class defined in ``e2t`` whose docstring names its chapter."""
    entries = []
    for module, name, obj, module_doc in _public_objects():
        chapter = _chapter(obj, module_doc)
        if chapter is not None:
            entries.append(Entry(chapter, module.removeprefix("e2t."), name,
                                 "class" if inspect.isclass(obj) else "function"))
    return sorted(entries, key=lambda e: (e.chapter, e.module, e.name))


def undocumented() -> list[str]:
    """Public functions and classes of ``e2t`` whose chapter is named neither by their docstring nor by their
    module's (should be empty)."""
    return sorted(f"{module}.{name}" for module, name, obj, module_doc in _public_objects()
                  if _chapter(obj, module_doc) is None)


def implementation_modules() -> list[str]:
    """The modules that implement a chapter: every module (outside ``NOT_IMPLEMENTATIONS``) whose docstring names
    chapter 1 to 7 and which defines a public function or class. The preface's helpers (checks, checkpoints, the
    widget framework) are left out."""
    defining = {module for module, *_ in _public_objects()}
    return sorted(name for name, module in _modules()
                  if name in defining and not name.startswith(NOT_IMPLEMENTATIONS)
                  and (_chapter_of(module.__doc__) or 0) >= 1)


def map_problems(sections: Sequence[Section] = SOURCE_SECTIONS) -> list[str]:
    """What is wrong with ``sections`` as a map of the package (an empty list when nothing is)."""
    problems, mapped = [], set()
    for s in sections:
        where = f"section {s.heading!r}"
        if not s.code:
            if not s.note:
                problems.append(f"{where} names no code and no reason (note)")
            continue
        in_chapter = False
        for module_name, names in s.code:
            try:
                module = importlib.import_module(f"e2t.{module_name}")
            except ImportError:
                problems.append(f"{where}: no module e2t.{module_name}")
                continue
            mapped.add(module.__name__)
            for name in names:
                obj = getattr(module, name, None)
                if name.startswith("_") or not (inspect.isclass(obj) or callable(obj)) \
                        or getattr(obj, "__module__", None) != module.__name__:
                    problems.append(f"{where}: e2t.{module_name} defines no public function or class {name!r}")
                    continue
                in_chapter |= _chapter(obj, module.__doc__) in s.chapters
        if not in_chapter:
            problems.append(f"{where}: none of its objects is introduced in its chapters {list(s.chapters)}")
    problems += [f"module {m} appears under no section" for m in implementation_modules() if m not in mapped]
    return problems


def _chapter_label(s: Section) -> str:
    if not s.chapters:
        return "references"
    return ", ".join("preface" if c == 0 else str(c) for c in s.chapters)


def _heading_label(s: Section) -> str:
    text = s.heading + (f" ({s.gloss})" if s.gloss else "")
    return f"**{text}**" if s.level <= 2 else "\u2003" * (s.level - 2) + text


def section_rows(sections: Sequence[Section] = SOURCE_SECTIONS) -> list[dict[str, str]]:
    """One row per heading of the source: ``level``, ``heading`` (with its gloss), ``chapters`` and ``code``
    (``"e2t.module: name, name; ..."``, or the note of a section without code)."""
    return [{"level": str(s.level), "heading": s.heading + (f" ({s.gloss})" if s.gloss else ""),
             "chapters": _chapter_label(s),
             "code": "; ".join(f"e2t.{m}: " + ", ".join(names) for m, names in s.code) or s.note}
            for s in sections]


def section_map_markdown(sections: Sequence[Section] = SOURCE_SECTIONS) -> str:
    """The map as a Markdown table (source section | chapter | code); sub-headings are indented by level."""
    lines = ["| source section | chapter | code in `e2t` |", "|---|---|---|"]
    for s in sections:
        code = "; ".join(f"`{m}`: " + ", ".join(f"`{n}`" for n in names) for m, names in s.code) or s.note
        lines.append(f"| {_heading_label(s)} | {_chapter_label(s)} | {code} |")
    return "\n".join(lines)
