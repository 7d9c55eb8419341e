"""Reference levels of the XML task's accuracy (datasets/xml.cpp), so a result can be read:
what the best possible predictor scores, and the most a predictor scores that cannot recall
the names of open tags.

Both are expectations over the generator's documents (next-character accuracy over every
scored step, pooled over steps as cellzoo's `accuracy` is), estimated by Monte Carlo over
`documents` documents drawn from the same distribution as the task (not the same draws):

  ceiling    the Bayes predictor, which knows the generator and the whole prefix: it gets
             every character of a closing tag after "</" right; at "<" it guesses "/" when
             a tag is open (right with probability close_p, 1 once max_steps tags have been
             written) and a letter otherwise; inside an opening tag of k letters it guesses
             ">" once k >= 2 (right with probability 1/(11 - k), the name length being
             uniform on 2..10) and a letter before (1/26); after ">" the next "<" is sure.
  no recall  the same predictor, except that the letters of a closing tag's name are
             guessed (1/26 each); it still knows where the name ends, so this bounds from
             above what a model without memory of the names can score.

Jozefowicz et al.'s Table 1 (XML: tanh RNN 0.321, LSTM-f 0.234, gated cells 0.414-0.475)
lies between the two; a cell that clearly passes the no-recall level has learned to
close tags by name.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

LETTERS = 26


@dataclass
class XmlLevels:
    ceiling: float
    no_recall: float
    documents: int
    mean_steps: float


def xml_levels(max_steps: int = 50, close_p: float = 0.5, documents: int = 20000,
               seed: int = 2015) -> XmlLevels:
    """The two levels for the task's options (defaults: the task's own)."""
    rng = random.Random(seed)
    ceiling = no_recall = 0.0
    steps = 0
    for _ in range(documents):
        open_names: list[int] = []  # name lengths of the open tags, innermost last
        step = 0
        while True:
            closes = step > 0 and (step >= max_steps or rng.random() < close_p)
            if closes and not open_names:
                break  # the document ends; its last ">" predicts nothing
            if step > 0:
                # From the previous ">": another tag follows, so "<" is certain.
                ceiling += 1
                no_recall += 1
                steps += 1
            # From "<": "/" if a tag is open (its probability), else a letter (1/26).
            if open_names:
                p_close = 1.0 if step >= max_steps else close_p
                p = max(p_close, (1 - p_close) / LETTERS)
            else:
                p = 1 / LETTERS
            ceiling += p
            no_recall += p
            steps += 1
            if closes:
                # From "/" and each letter of the name: the name's letters, then ">".
                length = open_names.pop()
                ceiling += length + 1
                no_recall += length / LETTERS + 1
                steps += length + 1
            else:
                # From the k-th letter of a new name: a letter or ">", whose probability
                # given k letters so far is 1/(11 - k) (length uniform on 2..10).
                length = rng.randint(2, 10)
                for k in range(1, length + 1):
                    p = 1 / LETTERS if k < 2 else max(1 / (11 - k),
                                                      (1 - 1 / (11 - k)) / LETTERS)
                    ceiling += p
                    no_recall += p
                    steps += 1
                open_names.append(length)
            step += 1
    return XmlLevels(ceiling / steps, no_recall / steps, documents, steps / documents)
