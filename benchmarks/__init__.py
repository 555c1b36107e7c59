"""zoo against the code a skilled user writes by hand with ``hub.KerasLayer``.

Run from the repository root (offline; nothing is downloaded)::

    python -m benchmarks                 # all cases, 3 repetitions per side (tens of minutes on 2 cores)
    python -m benchmarks --quick         # small N, 1 repetition: proves it runs (CI); timings meaningless
    python -m benchmarks --cases 1,3 --reps 5 --out /tmp/results.json

The modules are TF-Hub-format SavedModels with the real architectures and sizes
and random weights, built once into ``benchmarks/out/hub`` (`benchmarks.modules`)
under the TF Hub cache names of the real handles, so the baseline's
``hub.KerasLayer(handle)`` and zoo's registry entries load the very same module.

Cases (`benchmarks.cases`; every ratio is zoo / baseline):

1. frozen MobileNetV2, N epochs on the same images, end to end (zoo caches features): <= 0.2,
   and the same validation accuracy within noise;
2. MobileNetV2 full fine-tuning, training images/s: >= 1.0;
3. BERT (small_bert L-4/H-512/A-8 shape, real tensorflow_text preprocessing) fine-tuning, sequences/s: >= 1.0;
4. YAMNet-shape audio embeddings, zoo's batched waveform path vs the tutorial's per-clip loop, clips/s: >= 2.0;
5. inference of zoo's exported SavedModel (raw images in) vs the in-memory hand-written model, images/s: >= 1.0;
6. start-up: ``zoo list`` vs ``python -c "import tensorflow"`` (<= 0.1) and the build latency of a model
   whose module is cached (zoo.build vs the hand-written KerasLayer model; <= 1.0);
7. peak RSS of the runs of cases 1 and 2: <= 1.1.

Each (job, side, repetition) runs in a fresh worker process; sides alternate. The
table (case, metric, baseline median, zoo median, ratio, target, met) is printed
and everything, samples included, is written to ``benchmarks/results.json``. The
exit status is 1 only when a run failed; missed targets show as ``NO``.
"""
