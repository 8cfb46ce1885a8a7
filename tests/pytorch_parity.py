#!/usr/bin/python3
"""PyTorch parity of the five shipped classifiers (issue 17, "An independent reference").

    /usr/bin/python3 tests/pytorch_parity.py REPO_ROOT ATTNLENS [--reviews 50] [--max-tokens 400] [--seed 17]

For each of models/{bilstm-attention,lstm,cnn,gru-attention,transformer}.safetensors and a fixed,
seeded sample of IMDB test reviews, runs

    ATTNLENS explain --model M --method attention|gradient-x-input|integrated-gradients --json --batch --input FILE

(attention only where the model has some: the attention-pooling models' alpha, and the
Transformer's self-attention received in its last layer, mean over heads), maps each output
token's text to an id through the model's vocabulary (oov -> <unk>, id 1), runs the PyTorch
reference of tools/pytorch/attnlens_torch.py on those ids, and compares:

    probability                                 within 1e-5 (absolute)
    attention weights                           within 1e-5 (absolute)
    gradient x input, integrated gradients      within 1e-4 (absolute)

The scores are compared in absolute terms: they are O(1) (the largest |score| of a review is
typically 0.5-10, a logit's share), so 1e-4 absolute is already a relative 1e-5 to 2e-4 of the
review's largest score, and the measured differences (float32 engine against the float64
reference) are about 1e-6; a relative test would only loosen the check on reviews whose scores
are all small.

The reviews come from imdb/aclImdb-labeled.tar.gz (members aclImdb/test/{pos,neg}/*.txt) in
$ATTNLENS_DATA, else ../shared/data seen from the repository root, read with tarfile; newlines
and tabs become spaces, one review per line of a file in a temporary directory (never in the
repository). Reviews longer than --max-tokens tokens (default 400; 0: no limit) are passed over
to keep the Transformer's integrated gradients quick; the output says how many.

Exit status: 0 when everything agrees, 1 on any mismatch or failure, 77 (skipped) when the data
or torch is missing -- but 1 then too when the environment variable CI is "true".
"""

import argparse
import json
import math
import os
import queue
import random
import subprocess
import sys
import tarfile
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # importing attnlens_torch must leave nothing in the repository

MODELS = ["bilstm-attention", "lstm", "cnn", "gru-attention", "transformer"]
TOLERANCE = {"probability": 1e-5, "attention": 1e-5, "gradient-x-input": 1e-4, "integrated-gradients": 1e-4}
SKIP = 77


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
            name = member.name
            if not member.isfile() or not name.endswith(".txt"):
                continue
            parts = name.split("/")
            if len(parts) == 4 and parts[0] == "aclImdb" and parts[1] == "test" and parts[2] in ("pos", "neg"):
                reviews[name] = tar.extractfile(member).read().decode("utf-8", errors="replace")
    return reviews


def one_line(text):
    return text.replace("\r", " ").replace("\n", " ").replace("\t", " ")


def run_cli(attnlens, model_path, method, input_path, expected):
    command = [attnlens, "explain", "--model", model_path, "--method", method, "--json", "--batch", "--input", input_path]
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}: {done.stderr.strip()}")
    lines = [line for line in done.stdout.split("\n") if line.strip()]
    if len(lines) != expected:
        raise RuntimeError(f"{' '.join(command)}: {len(lines)} results for {expected} reviews")
    return [json.loads(line) for line in lines]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo", help="the repository's root")
    parser.add_argument("attnlens", help="the attnlens binary (build/release/attnlens)")
    parser.add_argument("--reviews", type=int, default=50, help="reviews per model (default 50)")
    parser.add_argument("--max-tokens", type=int, default=400, help="pass over longer reviews (0: no limit)")
    parser.add_argument("--seed", type=int, default=17, help="the sample's seed")
    parser.add_argument("--models", nargs="*", default=MODELS, help="model names under models/")
    args = parser.parse_args()
    started = time.time()
    repo = os.path.abspath(args.repo)
    attnlens = os.path.abspath(args.attnlens)
    if not os.access(attnlens, os.X_OK):
        print(f"error: {attnlens} is not an executable attnlens (build it first: tools/build)")
        return 1

    data = os.environ.get("ATTNLENS_DATA") or os.path.join(repo, "..", "shared", "data")
    archive = os.path.join(data, "imdb", "aclImdb-labeled.tar.gz")
    if not os.path.isfile(archive):
        skip(f"skipped: the IMDB archive is missing: put aclImdb-labeled.tar.gz at {os.path.abspath(archive)} "
             f"(or set ATTNLENS_DATA to a folder holding imdb/aclImdb-labeled.tar.gz)")

    try:
        import numpy as np
        import torch
    except ImportError as error:
        skip(f"skipped: {error}: install Debian's python3-torch and python3-numpy and run this with /usr/bin/python3")
    sys.path.insert(0, os.path.join(repo, "tools", "pytorch"))
    import attnlens_torch as at
    torch.set_num_threads(1)  # the other core runs the CLI meanwhile

    reviews = read_test_reviews(archive)
    if len(reviews) < args.reviews:
        print(f"error: {archive} holds {len(reviews)} test reviews, {args.reviews} needed")
        return 1
    names = sorted(reviews)
    random.Random(args.seed).shuffle(names)

    with tempfile.TemporaryDirectory(prefix="attnlens-pytorch-parity-") as tmp:
        # The sample: the first reviews of the seeded order with at most --max-tokens tokens,
        # counted by the engine's own tokenizer (attnlens classify with the first model).
        pool = names[: max(args.reviews * 3, args.reviews + 50)]
        pool_path = os.path.join(tmp, "pool.txt")
        with open(pool_path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(one_line(reviews[n]) + "\n" for n in pool)
        probe = [attnlens, "classify", "--model", os.path.join(repo, "models", args.models[0] + ".safetensors"),
                 "--json", "--batch", "--input", pool_path]
        done = subprocess.run(probe, capture_output=True, text=True, encoding="utf-8")
        if done.returncode != 0:
            print(f"error: {' '.join(probe)} exited with {done.returncode}: {done.stderr.strip()}")
            return 1
        counts = [len(json.loads(line)["tokens"]) for line in done.stdout.split("\n") if line.strip()]
        if len(counts) != len(pool):
            print(f"error: {' '.join(probe)}: {len(counts)} results for {len(pool)} reviews")
            return 1
        chosen = [n for n, c in zip(pool, counts) if args.max_tokens <= 0 or c <= args.max_tokens][: args.reviews]
        if len(chosen) < args.reviews:
            print(f"error: only {len(chosen)} of {len(pool)} candidate reviews have at most {args.max_tokens} tokens")
            return 1
        passed_over = sum(1 for c in counts[: pool.index(chosen[-1]) + 1] if args.max_tokens > 0 and c > args.max_tokens)
        sample_path = os.path.join(tmp, "sample.txt")
        with open(sample_path, "w", encoding="utf-8", newline="\n") as f:
            f.writelines(one_line(reviews[n]) + "\n" for n in chosen)
        chosen_set = set(chosen)
        lengths = [c for n, c in zip(pool, counts) if n in chosen_set]
        positives = sum(1 for n in chosen if "/pos/" in n)
        limit = f"at most {args.max_tokens} tokens, {passed_over} longer ones passed over" if args.max_tokens > 0 else "no length limit"
        print(f"sample: {len(chosen)} IMDB test reviews ({positives} positive), seed {args.seed}, {limit}; "
              f"{min(lengths)}-{max(lengths)} tokens, {sum(lengths)} in all", flush=True)

        # The CLI runs on one thread, model after model, while the reference checks the last.
        plans = []
        for name in args.models:
            path = os.path.join(repo, "models", name + ".safetensors")
            config = at.read_model(path).config
            methods = (["attention"] if config.get("pooling") == "attention" or
                       any(layer.get("type") == "transformer" for layer in config.get("encoder", [])) else [])
            plans.append((name, path, methods + ["gradient-x-input", "integrated-gradients"]))
        results = queue.Queue()

        def producer():
            for name, path, methods in plans:
                try:
                    t0 = time.time()
                    outputs = {m: run_cli(attnlens, path, m, sample_path, len(chosen)) for m in methods}
                    results.put((name, outputs, time.time() - t0, None))
                except Exception as error:  # reported by the consumer
                    results.put((name, None, 0.0, error))

        threading.Thread(target=producer, daemon=True).start()

        failures = []
        summary = []
        worst_overall = {}
        for name, path, methods in plans:
            got_name, outputs, cli_seconds, error = results.get()
            assert got_name == name
            if error is not None:
                failures.append(f"{name}: {error}")
                print(f"{name}: FAILED to run the CLI: {error}", flush=True)
                continue
            t0 = time.time()
            model, file = at.load_classifier(path)
            index = file.word_ids()
            worst = {"probability": 0.0, "logit": 0.0, "attention": 0.0, "gradient-x-input": 0.0,
                     "integrated-gradients": 0.0}
            largest_score = 0.0
            gap_reference = 0.0
            for r in range(len(chosen)):
                first = outputs[methods[0]][r]
                words = [t["text"] for t in first["tokens"]]
                ids = []
                for t in first["tokens"]:
                    if t["oov"]:
                        ids.append(at.UNK)
                    elif t["text"] in index:
                        ids.append(index[t["text"]])
                    else:
                        failures.append(f"{name} review {r + 1}: token {t['text']!r} is not oov but not in the vocabulary")
                        ids.append(at.UNK)
                for method in methods:
                    cli = outputs[method][r]
                    if [t["text"] for t in cli["tokens"]] != words:
                        failures.append(f"{name} review {r + 1}: {method} tokenised the review differently")
                        continue
                    ref = model.explain(ids, method)
                    dp = abs(ref["probability"] - cli["probability"])
                    dl = abs(ref["logit"] - cli["logit"])
                    worst["probability"] = max(worst["probability"], dp)
                    worst["logit"] = max(worst["logit"], dl)
                    if dp > TOLERANCE["probability"]:
                        failures.append(f"{name} review {r + 1} ({method}): probability {cli['probability']:.9f} vs "
                                        f"PyTorch {ref['probability']:.9f} (|diff| {dp:.2e})")
                    scores = np.array([t["score"] for t in cli["tokens"]], dtype=np.float64)
                    diff = float(np.max(np.abs(scores - ref["scores"]))) if len(scores) else 0.0
                    worst[method] = max(worst[method], diff)
                    if method != "attention":
                        largest_score = max(largest_score, float(np.max(np.abs(scores))) if len(scores) else 0.0)
                    if method == "integrated-gradients":
                        gap_reference = max(gap_reference, ref["completeness_gap"])
                    if diff > TOLERANCE[method]:
                        t = int(np.argmax(np.abs(scores - ref["scores"])))
                        failures.append(f"{name} review {r + 1} ({method}): token {t} {words[t]!r} scores "
                                        f"{scores[t]:.9f} vs PyTorch {ref['scores'][t]:.9f} (|diff| {diff:.2e})")
            seconds = time.time() - t0
            attention_kind = ("" if "attention" not in methods else
                              "alpha" if model.pooling == "attention" else "self-attn")
            line = (f"{name:17s} p {worst['probability']:.1e}  logit {worst['logit']:.1e}  "
                    + (f"attention ({attention_kind}) {worst['attention']:.1e}  " if "attention" in methods else "")
                    + f"grad×input {worst['gradient-x-input']:.1e}  IG {worst['integrated-gradients']:.1e}  "
                    f"(largest |score| {largest_score:.2f}; PyTorch IG completeness gap ≤ {gap_reference:.1e}; "
                    f"CLI {cli_seconds:.1f} s, PyTorch {seconds:.1f} s)")
            print(line, flush=True)
            summary.append(line)
            for key, value in worst.items():
                if key == "attention" and "attention" not in methods:
                    continue
                worst_overall[key] = max(worst_overall.get(key, 0.0), value)

    print(f"worst over {len(args.models)} models × {len(chosen)} reviews: "
          + ", ".join(f"{k} {v:.1e}" + (f" (tolerance {TOLERANCE[k]:.0e})" if k in TOLERANCE else "")
                      for k, v in worst_overall.items())
          + f"; {time.time() - started:.0f} s", flush=True)
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
