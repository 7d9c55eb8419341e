"""cellzoo_analysis.xml_levels, the XML task's reference accuracies, against hand-derived
values: with one tag per document (close_p = 1 or max_steps = 1) every document is
"<name></name>" and both levels have a closed form per name length; with the task's
defaults the ceiling stays above and the no-recall level below every gated cell of
Jozefowicz et al.'s Table 1, and the mean document length matches the generator's rules
(an exact recursion)."""
import sys

try:
    from cellzoo_analysis.xml_levels import LETTERS, xml_levels
except ImportError as e:  # the package's __init__ needs the analysis stack
    print(f"SKIP: {sys.executable} cannot import cellzoo_analysis ({e})", file=sys.stderr)
    sys.exit(77)


def one_tag(length):
    """(ceiling, no_recall) of "<name></name>" with a name of `length` letters."""
    opening = 1 / LETTERS + sum(1 / LETTERS if k < 2 else 1 / (11 - k)
                                for k in range(1, length + 1))
    # ">" -> "<" and "<" -> "/" are certain; then the name and ">".
    ceiling = opening + 2 + length + 1
    no_recall = opening + 2 + length / LETTERS + 1
    steps = (length + 2) + (length + 3) - 1
    return ceiling / steps, no_recall / steps


def main():
    exact = {length: one_tag(length) for length in range(2, 11)}
    for options in (dict(close_p=1.0), dict(max_steps=1)):
        for seed in range(40):
            levels = xml_levels(documents=1, seed=seed, **options)
            length = round((levels.mean_steps - 4) / 2)
            assert length in exact, (options, seed, levels)
            want = exact[length]
            assert abs(levels.ceiling - want[0]) < 1e-12, (options, length, levels, want)
            assert abs(levels.no_recall - want[1]) < 1e-12, (options, length, levels, want)

    levels = xml_levels()
    # Table 1's XML column: gated cells 0.414-0.475, the tanh RNN 0.321, LSTM-f 0.234.
    assert 0.475 < levels.ceiling < 0.7, levels
    assert 0.234 < levels.no_recall < 0.321, levels
    # Predictions per document: every tag is opened and closed once, "<name>" and
    # "</name>" being 17 characters a pair on average (names of 2-10 letters, mean 6), and
    # every character but the last predicts the next: 17 E[tags] - 1.
    # E[tags] exactly, by recursion over (step, open tags) with the generator's rules.
    memo = {}

    def opens(step, depth, max_steps=50, p=0.5):
        if step >= max_steps:
            return 0.0  # only closes from here on
        if (step, depth) not in memo:
            if step == 0:
                memo[step, depth] = 1 + opens(1, 1)
            else:
                closing = opens(step + 1, depth - 1) if depth else 0.0
                memo[step, depth] = p * closing + (1 - p) * (1 + opens(step + 1, depth + 1))
        return memo[step, depth]

    expected = 17 * opens(0, 0) - 1
    assert abs(levels.mean_steps - expected) < 0.02 * expected, (levels, expected)
    print(f"expected {expected:.1f} predictions per document")
    assert xml_levels(seed=1) != levels and abs(xml_levels(seed=1).ceiling - levels.ceiling) < 0.01
    print(f"ok: ceiling {levels.ceiling:.4f}, no recall {levels.no_recall:.4f}, "
          f"{levels.mean_steps:.1f} predictions per document")


if __name__ == "__main__":
    main()
