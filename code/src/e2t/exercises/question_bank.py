"""The self-check questions of every chapter (shown with ``e2t.exercises.self_check("6a")``).

They test understanding, not recall: each wrong choice carries the reason it is wrong. Ids are the chapter and a
letter; the preface is chapter 0.

Introduced in: the preface.
"""

from __future__ import annotations

from .quiz import Choice, Question, add_question

__all__ = []

_ = add_question

# ------------------------------------------------------------------------------------------------- the preface
_(Question("0a", 0, "Under `causal_mask(5)`, which keys may query 3 attend to?", choices=(
    Choice("keys 0, 1, 2 and 3", True, "A causal mask lets query t see keys 0..t, itself included: row 3 of the "
                                       "lower triangle."),
    Choice("keys 0, 1 and 2", False, "The diagonal is allowed: a token may attend to itself. Only the future is "
                                     "hidden."),
    Choice("keys 3 and 4", False, "That is the present and the future; the causal mask hides the future."),
    Choice("all five keys", False, "That would be no mask at all: query 3 could read token 4 before it is written."))))
_(Question("0b", 0, "You divide the scores by a temperature τ = 0.05 before the softmax. What happens?", choices=(
    Choice("the weights become nearly one-hot and almost no gradient flows back to the scores", True,
           "Small τ magnifies the gaps between scores, so the largest takes almost all the weight; the Jacobian "
           "diag(p) - p pᵀ of a nearly one-hot p is nearly 0."),
    Choice("the weights become nearly uniform", False, "That is a large τ: dividing by a big number shrinks the "
                                                        "differences between scores."),
    Choice("nothing: a softmax does not change when its scores are scaled", False,
           "A softmax ignores an added constant, not a factor: exp(z/τ) changes the ratios between weights."))))
_(Question("0c", 0, "Four equal scores with the mask [True, True, False, False]: what weight does masked_softmax "
                    "give key 1?", answer=0.5, tolerance=0.005,
           explanation="Two keys are allowed and their scores are equal, so they share the weight: 1/2 each; the "
                       "masked keys get exactly 0.",
           hint="Blocked keys get weight 0; the allowed ones share a softmax among themselves."))

# ------------------------------------------------------------------------------------------------- chapter 1
_(Question("1a", 1, "SegNet's decoder unpools with the encoder's pooling indices. What does a pixel get that did "
                    "not hold the maximum of its 2 × 2 window?", choices=(
    Choice("0; the convolutions that follow fill it in", True, "Unpooling puts each value back where its maximum "
                                                               "was and leaves the other three pixels at 0."),
    Choice("a copy of the window's maximum", False, "That is nearest-neighbour upsampling, which forgets where the "
                                                    "maximum was."),
    Choice("the average of its neighbours", False, "That is (bi)linear upsampling; unpooling does no averaging."),
    Choice("a learned value", False, "Unpooling has no parameters; a transposed convolution learns its weights."))))
_(Question("1b", 1, "What sets the length of the output of the reply model, and of the autoencoder?", choices=(
    Choice("the reply model's decoder, by writing <eos>; the autoencoder's output always has the input's size", True,
           "A seq2seq decoder chooses when to stop; an autoencoder reconstructs its input, so its output has the "
           "input's form by construction."),
    Choice("both copy the length of the input", False, "The replies are shorter or longer than the e-mails: only "
                                                      "the autoencoder copies the input's size."),
    Choice("both have a fixed length set in the config", False, "Neither does: the reply model stops at <eos>, the "
                                                               "autoencoder follows its input."))))
_(Question("1c", 1, "HOG on a 32 × 32 image, cells of 8 × 8 pixels, 9 orientation bins, overlapping blocks of "
                    "2 × 2 cells (stride one cell). How many numbers are in the feature vector?", answer=324,
           tolerance=0.5,
           explanation="4 × 4 cells give 3 × 3 block positions; each block holds 2 × 2 cells of 9 bins: "
                       "9 × 9 × 4 = 324.",
           hint="Count the block positions first: a 2 × 2 block slides over 4 × 4 cells."))

# ------------------------------------------------------------------------------------------------- chapter 2
_(Question("2a", 2, "With teacher forcing, what does the decoder read as its input at step t during training?",
           choices=(
    Choice("the true target word t - 1", True, "That is the teacher: the reference prefix, so every step can be "
                                               "computed at once and an early mistake does not derail the rest."),
    Choice("its own prediction at step t - 1", False, "That is what it reads when it decodes (greedy or beam "
                                                      "search), not in training."),
    Choice("only the encoder vector, at every step", False, "The encoder vector starts the decoder; the input at "
                                                            "each step is a word."))))
_(Question("2b", 2, "Beam search ranks its final hypotheses by log p(y) / |y|^α. Which α tends to return shorter "
                    "outputs?", choices=(
    Choice("α = 0", True, "Every extra token multiplies in a probability below 1, so raw log-probability favours "
                          "short outputs; dividing by the length (α = 1) removes that bias."),
    Choice("α = 1", False, "Dividing by the length makes long outputs competitive: α = 1 returns outputs at least "
                           "as long as α = 0 does."),
    Choice("neither: α only breaks ties", False, "α changes the ranking whenever the hypotheses differ in length."))))
_(Question("2c", 2, "Beam search with K = 4 hypotheses and a vocabulary of V = 50 words: how many candidates does "
                    "it rank at each step for one sentence?", answer=200, tolerance=0.5,
           explanation="Each of the K hypotheses is extended by each of the V words: K · V = 200 candidates, of "
                       "which the K best survive.",
           hint="Every hypothesis is extended by every word."))

# ------------------------------------------------------------------------------------------------- chapter 3
_(Question("3a", 3, "Bahdanau's score compares the encoder states with the decoder state sₜ₋₁, not sₜ. Why?",
           choices=(
    Choice("sₜ is computed from the context cₜ, which needs the weights: it does not exist yet", True,
           "The order within a step is: weights from sₜ₋₁, context cₜ, then sₜ = f(sₜ₋₁, yₜ₋₁, cₜ)."),
    Choice("sₜ₋₁ carries more information than sₜ", False, "sₜ knows more (one more word), but it is not "
                                                               "available when the weights are needed."),
    Choice("it is an arbitrary choice of the paper", False, "It is forced by the order of the computation."))))
_(Question("3b", 3, "A sentence of 3 real words is padded to 5 positions in a batch. What weight does attention "
                    "give positions 3 and 4?", choices=(
    Choice("exactly 0", True, "The padding mask blocks them in `masked_softmax`; the 3 real words share all the "
                              "weight."),
    Choice("a small weight, because padding embeddings are zero", False, "A zero vector still gets a score (and "
                                                                         "exp(score) > 0): only the mask makes it 0."),
    Choice("1/5 each", False, "That would be uniform weights over every position, padding included."))))
_(Question("3c", 3, "One RNNsearch decoding step costs a fixed part plus 384 multiply-adds per source word. By how "
                    "many multiply-adds does a step grow when the source grows from 20 to 40 words?", answer=7680,
           tolerance=0.5, explanation="20 more words at 384 each: 7,680. The cost per step grows linearly with the "
                                      "source length, so a whole translation costs O(T · S).",
           hint="Only the per-word part changes."))

# ------------------------------------------------------------------------------------------------- chapter 4
_(Question("4a", 4, "Why does the Transformer divide q · k by √dₖ?", choices=(
    Choice("for unit-variance entries q · k has variance dₖ; dividing keeps the scores' spread near 1, so the "
           "softmax does not saturate and its gradient does not vanish", True,
           "Without it, wide vectors give huge scores, nearly one-hot weights and a Jacobian near 0."),
    Choice("to turn the dot product into a cosine", False, "A cosine divides by the two norms; √dₖ is a constant."),
    Choice("to make the weights sum to 1", False, "The softmax already does that, scaled or not."),
    Choice("to make the product cheaper to compute", False, "Dividing adds work; it is done for the gradient."))))
_(Question("4b", 4, "The location score computes αₜ = softmax(Wₐ sₜ). What does it never look at?", choices=(
    Choice("the contents of the encoder states", True, "Only their number S is used: the weights are a function "
                                                       "of the decoder state alone."),
    Choice("the decoder state", False, "It is all the score looks at."),
    Choice("the position of each source word", False, "Positions are all it scores: one row of Wₐ per position."))))
_(Question("4c", 4, "Hard attention samples one region to read. Why is it trained with REINFORCE rather than plain "
                    "backpropagation?", choices=(
    Choice("the sampled index has no gradient with respect to the attention weights", True,
           "REINFORCE estimates the gradient of the expected reward from samples: (R - b) ∇ log αₛ."),
    Choice("it reads too few regions for backpropagation", False, "Backpropagation works with any number of "
                                                                  "inputs; the problem is the discrete choice."),
    Choice("REINFORCE has lower variance", False, "It has higher variance; a baseline is needed to tame it."))))

# ------------------------------------------------------------------------------------------------- chapter 5
_(Question("5a", 5, "Content addressing with key strength β = 0 gives which weighting?", choices=(
    Choice("uniform over all rows", True, "softmax(0 · cos) = softmax of equal numbers: 1/N each, whatever the key."),
    Choice("one-hot on the row most similar to the key", False, "That is the limit of a large β."),
    Choice("all zeros", False, "A softmax always sums to 1."),
    Choice("NaN", False, "Nothing is divided by zero: 0 · cos is 0."))))
_(Question("5b", 5, "The interpolation gate is g = 0. Which weighting goes on to the shift?", choices=(
    Choice("the head's weighting of the previous step, wₜ₋₁", True, "g wᶜ + (1 - g) wₜ₋₁ with g = 0: the "
                                                                      "key is ignored; this is how a head walks "
                                                                      "through memory by location alone."),
    Choice("the content weighting wᶜ", False, "That is g = 1."),
    Choice("their average", False, "That is g = 1/2."))))
_(Question("5c", 5, "The chapter's increment machine runs on the tape 1011 (eleven in binary). What number, in "
                    "decimal, is on the tape when it halts?", answer=12, tolerance=0.5,
           explanation="It adds 1: the two trailing 1s become 0s and the carry turns the 0 into 1, giving 1100.",
           hint="The machine adds one to a binary number."))

# ------------------------------------------------------------------------------------------------- chapter 6
_(Question("6a", 6, "A decoder runs with a causal mask. You change the target token at position 5. Which outputs "
                    "can change?", choices=(
    Choice("those at positions 5 and later", True, "Position t sees tokens 0..t only, so outputs 0..4 cannot "
                                                   "depend on token 5."),
    Choice("those at positions 0 to 4", False, "Those are exactly the ones that cannot see token 5."),
    Choice("all of them", False, "Only without the causal mask."))))
_(Question("6b", 6, "Multi-head attention with d_model = 512 and 8 heads, or with 1 head: how do the numbers of "
                    "parameters in `W_q`, `W_k`, `W_v` and `W_o` compare?", choices=(
    Choice("they are equal", True, "The 8 projections of width 64 sit side by side in one 512 × 512 matrix."),
    Choice("8 heads have 8 times more", False, "Each head projects to 512 / 8 = 64 dimensions, not 512."),
    Choice("8 heads have 8 times fewer", False, "All heads together cover the full width 512."))))
_(Question("6c", 6, "Without a key/value cache, decoding re-runs the decoder over the whole prefix: 1, then 2, ..., "
                    "then T positions. How many positions does it compute for T = 30 tokens?", answer=465,
           tolerance=0.5, explanation="1 + 2 + ... + 30 = 30 · 31 / 2 = 465, against 30 with the cache: O(T²) "
                                      "against O(T).",
           hint="Sum the prefix lengths 1..T."))

# ------------------------------------------------------------------------------------------------- chapter 7
_(Question("7a", 7, "The Transformer copies sequences of length 20 almost perfectly but fails at length 40. What "
                    "in its design is the likely cause?", choices=(
    Choice("its decoder queries are sinusoidal codes of positions it never saw in training", True,
           "Positions 20..39 produce codes (and query vectors) outside everything the layers were fitted on."),
    Choice("attention can look at no more than 20 keys", False, "Attention takes any number of keys."),
    Choice("the causal mask hides the second half", False, "Its copy decoder has no causal mask."),
    Choice("the bit vectors of long sequences are different", False, "They are drawn the same way at every length."))))
_(Question("7b", 7, "On the translation task, which models keep their exact match as the English source grows "
                    "from 5 to 20 words?", choices=(
    Choice("every model that attends over the source: Bahdanau, Luong's, the Transformer", True,
           "Attention reads every source word at every step, so nothing must survive in one vector."),
    Choice("only the fixed-vector GRU", False, "Its line falls with the length: the bottleneck of one context "
                                               "vector."),
    Choice("none of them", False, "The attention models stay near the top at every length."))))
