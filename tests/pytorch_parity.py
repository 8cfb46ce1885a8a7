#!/usr/bin/python3
"""PyTorch parity of the five shipped classifiers (issue 17, "An independent reference").

    /usr/bin/python3 tests/pytorch_parity.py REPO_ROOT ATTNLENS [--reviews 50] [--max-tokens 400] [--seed 17]

For each of models/{bilstm-attention,lstm,cnn,gru-attention,transformer}.safetensors and a fixed,
seeded sample of IMDB test reviews, runs

    ATTNLENS explain --model M --method attention|gradient-x-input|integrated-gradients --json --batch --input FILE

(attention only where the model has some: the attention-pooling models' alpha, and the
Transformer's self-attention received in its last layer, mean over heads), maps each output
token's text to an id through the model's vocabulary (a word it lacks is <unk>, id 1, and the
CLI must say oov for exactly those), runs the PyTorch reference of tools/pytorch/attnlens_torch.py
(float64) on those ids, and compares:

    probability                 within 1e-5, absolute
    attention weights           within 1e-5, absolute
    gradient x input            within 1e-4, absolute
    integrated gradients        within 1e-4 x max(1, the review's largest |score|)

Why integrated gradients is compared relative to the review's largest |score| (absolute when
the scores are within +-1): on a few reviews the straight path from the zero baseline crosses a
near-discontinuity of a recurrent model (on one LSTM review F(alpha x) jumps from +6.6 to -7.9
between alpha = 0.10 and 0.15; the 50-point quadrature is then far from converged, with a
completeness gap of 46, and the integrand at the nodes there is ill-conditioned). Rounding
alone then moves the largest scores by a few 1e-5 of their size: on that review the reference
itself, run in float32 instead of float64, moves a score of 38.47 by 2.2e-3 -- more than the
engine's 1.7e-3. An absolute 1e-4 would fail there on float32 rounding, not on a difference of
definition; everywhere else the differences are about 1e-6.

The reviews come from imdb/aclImdb-labeled.tar.gz (members aclImdb/test/{pos,neg}/*.txt) in
$ATTNLENS_DATA, else ../shared/data seen from the repository root, read with tarfile; newlines
and tabs become spaces, one review per line of a file in a temporary directory (never in the
repository). Reviews longer than --max-tokens tokens (default 400; 0: no limit) are passed over
to keep the Transformer's integrated gradients quick; the output says how many. The CLI runs
and the reference run on two worker processes (one thread each).

Exit status: 0 when everything agrees, 1 on any mismatch or failure, 77 (skipped) when the data
or torch is missing -- but 1 then too when the environment variable CI is "true".
"""

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time

sys.dont_write_bytecode = True  # importing attnlens_torch must leave nothing in the repository

MODELS = ["bilstm-attention", "lstm", "cnn", "gru-attention", "transformer"]
METHODS = ["attention", "gradient-x-input", "integrated-gradients"]
TOLERANCE = {"probability": 1e-5, "attention": 1e-5, "gradient-x-input": 1e-4, "integrated-gradients": 1e-4}
SKIP = 77
CHUNK = 10  # reviews per reference task


def skip(message):
    print(message, flush=True)
    if os.environ.get("CI") == "true":
        print("CI=true: a missing prerequisite is a failure here", flush=True)
        sys.exit(1)
    sys.exit(SKIP)


def read_test_reviews(archive):
    """{member name: text} of every aclImdb/test/{pos,neg}/*.txt, in one pass over the archive."""
    reviews = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if (member.isfile() and member.name.endswith(".txt") and len(parts) == 4 and parts[0] == "aclImdb"
                    and parts[1] == "test" and parts[2] in ("pos", "neg")):
                reviews[member.name] = tar.extractfile(member).read().decode("utf-8", errors="replace")
    return reviews


def one_line(text):
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def run_cli(command, expected):
    """One JSON object per line of the command's output, `expected` of them."""
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()}")
    lines = [line for line in done.stdout.split("\n") if line.strip()]
    if len(lines) != expected:
        raise RuntimeError(f"{' '.join(command)}: {len(lines)} results for {expected} reviews")
    return [json.loads(line) for line in lines]


# ----------------------------------------------------------------------------- worker tasks

_models = {}


def _worker_init(module_dir):
    sys.dont_write_bytecode = True
    sys.path.insert(0, module_dir)
    import torch
    torch.set_num_threads(1)  # two workers on two cores


def cli_task(task):
    name, method, command, expected = task
    t0 = time.time()
    try:
        return ("cli", name, method, run_cli(command, expected), time.time() - t0, None)
    except Exception as error:
        return ("cli", name, method, None, time.time() - t0, str(error))


def reference_task(task):
    """The reference's results for some reviews of one model: [(review, {method: result})]."""
    import attnlens_torch as at
    name, path, methods, reviews = task
    t0 = time.time()
    try:
        if path not in _models:
            _models[path] = at.load_classifier(path)[0]
        model = _models[path]
        out = [(r, {m: model.explain(ids, m) for m in methods}) for r, ids in reviews]
        return ("reference", name, None, out, time.time() - t0, None)
    except Exception as error:
        return ("reference", name, None, None, time.time() - t0, f"{type(error).__name__}: {error}")


# ----------------------------------------------------------------------------- the test

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", help="the repository's root")
    parser.add_argument("attnlens", help="the attnlens binary (build/release/attnlens)")
    parser.add_argument("--reviews", type=int, default=50, help="reviews per model (default 50)")
    parser.add_argument("--max-tokens", type=int, default=400, help="pass over longer reviews (0: no limit)")
    parser.add_argument("--seed", type=int, default=17, help="the sample's seed")
    parser.add_argument("--models", nargs="*", default=MODELS, help="model names under models/")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    args = parser.parse_args()
    started = time.time()
    repo = os.path.abspath(args.repo)
    attnlens = os.path.abspath(args.attnlens)
    if not (os.path.isfile(attnlens) and os.access(attnlens, os.X_OK)):
        print(f"error: {attnlens} is not an executable attnlens (build it first: tools/build)")
        return 1

    data = os.environ.get("ATTNLENS_DATA") or os.path.join(repo, "..", "shared", "data")
    archive = os.path.join(data, "imdb", "aclImdb-labeled.tar.gz")
    if not os.path.isfile(archive):
        skip(f"skipped: the IMDB archive is missing: put aclImdb-labeled.tar.gz at {os.path.abspath(archive)} "
             f"(or set ATTNLENS_DATA to a folder holding imdb/aclImdb-labeled.tar.gz)")
    try:
        import numpy as np
        import torch  # noqa: F401 (the workers' dependency, checked here)
    except ImportError as error:
        skip(f"skipped: {error}: install Debian's python3-torch and python3-numpy and run this with /usr/bin/python3")
    module_dir = os.path.join(repo, "tools", "pytorch")
    sys.path.insert(0, module_dir)
    import attnlens_torch as at

    reviews = read_test_reviews(archive)
    if len(reviews) < args.reviews:
        print(f"error: {archive} holds {len(reviews)} test reviews, {args.reviews} needed")
        return 1
    names = sorted(reviews)
    random.Random(args.seed).shuffle(names)

    failures = []
    with tempfile.TemporaryDirectory(prefix="attnlens-pytorch-parity-") as tmp:
        # The sample: the first reviews of the seeded order with at most --max-tokens tokens, as
        # the engine tokenises them (attnlens classify with the first model); these tokens are
        # then checked against every model's and method's output.
        pool = names[: max(args.reviews * 3, args.reviews + 50)]
        pool_path = os.path.join(tmp, "pool.txt")
        with open(pool_path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(one_line(reviews[n]) + "\n" for n in pool)
        try:
            probe = run_cli([attnlens, "classify", "--model", os.path.join(repo, "models", args.models[0] + ".safetensors"),
                             "--json", "--batch", "--input", pool_path], len(pool))
        except RuntimeError as error:
            print(f"error: {error}")
            return 1
        words_of = {n: [t["text"] for t in p["tokens"]] for n, p in zip(pool, probe)}
        chosen = [n for n in pool if args.max_tokens <= 0 or len(words_of[n]) <= args.max_tokens][: args.reviews]
        if len(chosen) < args.reviews:
            print(f"error: only {len(chosen)} of {len(pool)} candidate reviews have at most {args.max_tokens} tokens")
            return 1
        considered = pool[: pool.index(chosen[-1]) + 1]
        passed_over = len(considered) - len(chosen)
        sample_path = os.path.join(tmp, "sample.txt")
        with open(sample_path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(one_line(reviews[n]) + "\n" for n in chosen)
        lengths = [len(words_of[n]) for n in chosen]
        positives = sum(1 for n in chosen if "/pos/" in n)
        limit = (f"at most {args.max_tokens} tokens ({passed_over} longer ones passed over)" if args.max_tokens > 0
                 else "no length limit")
        print(f"sample: {len(chosen)} IMDB test reviews ({positives} positive, seed {args.seed}), {limit}; "
              f"{min(lengths)}-{max(lengths)} tokens, {sum(lengths)} in all", flush=True)

        # The tasks: every CLI run, and the reference on chunks of reviews (the ids from the probe's
        # tokens; each CLI output is checked to hold the same tokens). Slowest first.
        plans = {}
        tasks = []
        for name in args.models:
            path = os.path.join(repo, "models", name + ".safetensors")
            file = at.read_model(path)
            has_attention = file.config.get("pooling") == "attention" or any(
                layer.get("type") == "transformer" for layer in file.config.get("encoder", []))
            methods = [m for m in METHODS if m != "attention" or has_attention]
            index = file.word_ids()
            ids = [[index.get(w, at.UNK) for w in words_of[n]] for n in chosen]
            plans[name] = {"path": path, "methods": methods, "ids": ids,
                           "attention": "alpha" if file.config.get("pooling") == "attention" else "self-attention"}
            for m in methods:
                command = [attnlens, "explain", "--model", path, "--method", m, "--json", "--batch", "--input", sample_path]
                tasks.append((cli_task, (name, m, command, len(chosen))))
            for begin in range(0, len(chosen), CHUNK):
                reviews_part = [(r, ids[r]) for r in range(begin, min(begin + CHUNK, len(chosen)))]
                tasks.append((reference_task, (name, path, methods, reviews_part)))
        cost = {"transformer": 0}  # the Transformer's chunks first: they take longest
        tasks.sort(key=lambda t: (t[0] is not cli_task, cost.get(t[1][0], 1)))

        cli = {}
        reference = {name: {} for name in args.models}
        seconds = {name: {"cli": 0.0, "reference": 0.0} for name in args.models}
        context = multiprocessing.get_context("spawn")
        with context.Pool(args.workers, initializer=_worker_init, initargs=(module_dir,)) as workers:
            pending = [workers.apply_async(function, (task,)) for function, task in tasks]
            for job in pending:
                kind, name, method, out, took, error = job.get()
                seconds[name][kind] += took
                if error is not None:
                    failures.append(f"{name}: {kind} failed: {error}")
                elif kind == "cli":
                    cli[(name, method)] = out
                else:
                    for r, results in out:
                        reference[name][r] = results

    # The comparison.
    worst_overall = {}
    for name in args.models:
        plan = plans[name]
        methods = plan["methods"]
        if any((name, m) not in cli for m in methods) or len(reference[name]) != len(chosen):
            print(f"{name:17s} not compared: a task failed", flush=True)
            continue
        worst = {"probability": 0.0, "logit": 0.0}
        worst.update({m: 0.0 for m in methods})
        worst_ig_relative = 0.0
        largest_score = 0.0
        gap = 0.0
        for r in range(len(chosen)):
            ids = plan["ids"][r]
            for method in methods:
                out = cli[(name, method)][r]
                ref = reference[name][r][method]
                tokens = out["tokens"]
                if [t["text"] for t in tokens] != words_of[chosen[r]]:
                    failures.append(f"{name} review {r + 1} ({method}): the CLI's tokens differ from the probe's")
                    continue
                bad = [t["text"] for t, i in zip(tokens, ids) if t["oov"] != (i == at.UNK)]
                if bad:
                    failures.append(f"{name} review {r + 1} ({method}): oov flags disagree with the vocabulary for {bad[:5]}")
                dp = abs(ref["probability"] - out["probability"])
                worst["probability"] = max(worst["probability"], dp)
                worst["logit"] = max(worst["logit"], abs(ref["logit"] - out["logit"]))
                if dp > TOLERANCE["probability"]:
                    failures.append(f"{name} review {r + 1} ({method}): probability {out['probability']:.9f}, "
                                    f"PyTorch {ref['probability']:.9f} (|diff| {dp:.2e})")
                scores = np.array([t["score"] for t in tokens], dtype=np.float64)
                expected = ref["scores"]
                if len(scores) == 0:
                    continue
                differences = np.abs(scores - expected)
                diff = float(differences.max())
                worst[method] = max(worst[method], diff)
                allowed = TOLERANCE[method]
                if method == "integrated-gradients":
                    largest = float(np.abs(expected).max())
                    allowed *= max(1.0, largest)
                    worst_ig_relative = max(worst_ig_relative, diff / max(1.0, largest))
                    gap = max(gap, ref["completeness_gap"])
                if method != "attention":
                    largest_score = max(largest_score, float(np.abs(expected).max()))
                if diff > allowed:
                    t = int(differences.argmax())
                    failures.append(f"{name} review {r + 1} ({method}): token {t + 1} {tokens[t]['text']!r} scores "
                                    f"{scores[t]:.9f}, PyTorch {expected[t]:.9f} (|diff| {diff:.2e} > {allowed:.1e})")
        line = (f"{name:17s} probability {worst['probability']:.1e}  logit {worst['logit']:.1e}  "
                + (f"{plan['attention']} {worst['attention']:.1e}  " if "attention" in methods else "")
                + f"grad×input {worst['gradient-x-input']:.1e}  IG {worst['integrated-gradients']:.1e} "
                f"({worst_ig_relative:.1e} of max(1, largest |score|))  |  largest |score| {largest_score:.1f}, "
                f"reference IG completeness gap ≤ {gap:.1e}; CLI {seconds[name]['cli']:.0f} s, "
                f"PyTorch {seconds[name]['reference']:.0f} s")
        print(line, flush=True)
        for key, value in worst.items():
            worst_overall[key] = max(worst_overall.get(key, 0.0), value)
        worst_overall["integrated-gradients (scaled)"] = max(worst_overall.get("integrated-gradients (scaled)", 0.0),
                                                             worst_ig_relative)

    print(f"worst over {len(args.models)} models × {len(chosen)} reviews: "
          + ", ".join(f"{k} {v:.1e}" for k, v in worst_overall.items())
          + f"; tolerances: probability and attention 1e-5, grad×input 1e-4, IG 1e-4 scaled; "
          f"{time.time() - started:.0f} s", flush=True)
    if failures:
        print(f"FAILED: {len(failures)} mismatches", flush=True)
        for f in failures[:40]:
            print("  " + f)
        if len(failures) > 40:
            print(f"  … and {len(failures) - 40} more")
        return 1
    print("PASSED: the C++ engine and the PyTorch reference agree", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
