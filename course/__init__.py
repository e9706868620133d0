"""The `course` command and everything a maintainer or teacher runs: run, params and sweep the
notebooks headless; tidy them (slide metadata, navigation, glossary links, metadata); build the
student edition, the slides and the website; set up the browser the classroom tests use; benchmarks.

    runner        papermill runs, parameters, profiles, recorded results
    sweep         grids of runs in parallel, resumable, one tidy CSV
    cli           the `course` command (also `python -m course`): parser and dispatch
    commands      its subcommands, each with its options (running, making, part4)
    notebooks     reading, writing, tidying and refreshing notebook files
    nav           generated previous/next links and course map
    glossary      generated glossary.md and first-use links
    slides        slide metadata rules and reveal.js decks
    site          the course as a static website (Sphinx + MyST-NB), readable offline
    student       the student edition
    browser       Debian's Chromium: installed once by the set-up, driven by the tests
    bench         benchmarks that print figures (never fail on time)
    full_results  results/full_size.json (Part III at full size)
    studies       Part IV's long studies: make pretrain-more, finetune-all, peft, direction-controls,
                  pretrain-seeds (results/)
    resume        what a long study has finished, kept so a stopped run goes on where it stopped
    label_curve   make label-curve: notebook 10 §6's frozen-state readers at few labels (results/)
    masked_ablation  make masked-ablation: the masked objective's recipes, chosen on validation (results/)
    inputs        every input checked before any kernel starts; the sweep folder's lock
    cluster       sweeps on a Dask cluster (a scheduler's address, a local cluster, a scheduler file)
    executors     where runs execute (local processes or Dask), behind one interface
    prose         the check that numbers in the prose come from the page
    layout        slides and pages measured in a real browser

It imports `helpers` (the lesson code); `helpers` never imports `course`.
"""

from helpers.paths import REPO_ROOT

BUILD_DIR = REPO_ROOT / "build"
