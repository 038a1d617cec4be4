"""Vectorized featurization vs matminer, on the same compositions, in one run.

    .venv/bin/python benchmarks/featurize.py [--n 10000] [--memory-n 100000] [--n-jobs N]

Draws ``--n`` random binary and ternary compositions (seeded) of the metals in
``data/li_binary_phase_data.csv`` and featurizes them twice:

* Magpie: lithioscreen's ``MagpieFeaturizer`` vs matminer's
  ``ElementProperty.from_preset("magpie").featurize_dataframe``;
* Miedema: lithioscreen's vectorized ``miedema_enthalpies`` vs matminer's
  ``Miedema(struct_types="all", ss_types="min").featurize_dataframe``.

lithioscreen starts from the formula strings (parsing is timed, caches cleared); matminer gets
ready-made pymatgen Compositions (their construction is not timed) and its default
multiprocessing (``--n-jobs``, default all cores). Both results are compared, feature by feature
(rtol 1e-9). Then the peak memory of featurizing ``--memory-n`` candidates with every
lithioscreen featurizer (``make_featurizer()``: Magpie, phase diagram, interfacial energy,
geometry) is measured with tracemalloc (numpy reports its buffers to it) and the process's max RSS.
Target (issue 6): >= 100x matminer's rows/s, < 1 GiB for 100,000 candidates.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd


def random_compositions(elements: list[str], n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        k = 2 if i % 2 == 0 else 3
        chosen = rng.choice(elements, size=k, replace=False)
        fractions = rng.dirichlet(np.ones(k))
        out.append("".join(f"{symbol}{fraction:.4f}" for symbol, fraction in zip(chosen, fractions)))
    return out


def clear_caches() -> None:
    from lithioscreen import compositions as composition_matrix

    composition_matrix._parsed.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--memory-n", type=int, default=100_000)
    parser.add_argument("--n-jobs", type=int, default=os.cpu_count())
    parser.add_argument(
        "--memory-only", action="store_true", help="only the memory measurement (max RSS then excludes matminer)"
    )
    args = parser.parse_args()

    from lithioscreen.data import load_phase_data

    elements = load_phase_data()["element"].tolist()
    if not args.memory_only:
        compare(args, elements)
    memory(args, elements)


def compare(args, elements) -> None:
    from lithioscreen.compositions import from_formulas
    from lithioscreen.features import MagpieFeaturizer
    from lithioscreen.features._vectorized import MIEDEMA_LABELS, miedema_enthalpies

    formulas = random_compositions(elements, args.n)
    table = pd.DataFrame({"candidate": formulas, "overlayer_nm": 30.0, "underlayer": "Mg", "underlayer_nm": 200.0})
    print(
        f"{args.n} compositions ({args.n // 2 + args.n % 2} binary, {args.n // 2} ternary) of {len(elements)} metals; "
        f"{os.cpu_count()} CPU cores; matminer n_jobs={args.n_jobs}"
    )

    # --- lithioscreen ---
    clear_caches()
    magpie = MagpieFeaturizer().fit()
    start = time.perf_counter()
    ours_magpie = magpie.transform(table)
    t_ours_magpie = time.perf_counter() - start
    clear_caches()
    start = time.perf_counter()
    ours_miedema = miedema_enthalpies(from_formulas(formulas))
    t_ours_miedema = time.perf_counter() - start

    # --- matminer ---
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from matminer.featurizers.composition import ElementProperty
        from matminer.featurizers.composition.alloy import Miedema
        from pymatgen.core import Composition

        frame = pd.DataFrame({"composition": [Composition(formula) for formula in formulas]})
        element_property = ElementProperty.from_preset("magpie")
        element_property.set_n_jobs(args.n_jobs)
        start = time.perf_counter()
        reference_magpie = element_property.featurize_dataframe(frame.copy(), "composition", pbar=False)
        t_mm_magpie = time.perf_counter() - start
        miedema = Miedema(struct_types="all", ss_types="min")
        miedema.set_n_jobs(args.n_jobs)
        start = time.perf_counter()
        reference_miedema = miedema.featurize_dataframe(frame.copy(), "composition", pbar=False)
        t_mm_miedema = time.perf_counter() - start

    magpie_ok = np.allclose(
        ours_magpie.to_numpy(float),
        reference_magpie[element_property.feature_labels()].to_numpy(float),
        rtol=1e-9,
        atol=0,
        equal_nan=True,
    )
    miedema_ok = all(
        np.allclose(ours_miedema[label], reference_miedema[label].to_numpy(float), rtol=1e-9, atol=0, equal_nan=True)
        for label in MIEDEMA_LABELS
    )

    def line(name, t_ours, t_mm, same):
        print(
            f"{name:8s} lithioscreen {args.n / t_ours:12,.0f} rows/s ({t_ours:7.3f} s) | matminer {args.n / t_mm:9,.0f} rows/s "
            f"({t_mm:7.2f} s) | ratio {t_mm / t_ours:7.0f}x | identical to 1e-9: {same}"
        )

    line("Magpie", t_ours_magpie, t_mm_magpie, magpie_ok)
    line("Miedema", t_ours_miedema, t_mm_miedema, miedema_ok)


def memory(args, elements) -> None:
    """Peak memory of featurizing --memory-n candidates with every lithioscreen featurizer."""
    from lithioscreen.candidates import make_candidates
    from lithioscreen.features import make_featurizer

    big = random_compositions(elements, args.memory_n, seed=1)
    candidates = make_candidates(["W"]).iloc[[0] * args.memory_n].reset_index(drop=True).assign(candidate=big)
    featurizer = make_featurizer().fit(candidates.head(5))
    clear_caches()
    tracemalloc.start()
    start = time.perf_counter()
    described = featurizer.transform(candidates)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f"memory   {args.memory_n:,} candidates x {described.shape[1]} descriptors (make_featurizer) in {elapsed:.2f} s: "
        f"peak traced {peak / 2**20:.0f} MiB, process max RSS {rss:.0f} MiB "
        + ("" if args.memory_only else " (whole run, matminer included)")
    )


if __name__ == "__main__":
    main()
