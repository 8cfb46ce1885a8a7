#!/usr/bin/python3
"""Training beyond one machine (issue 18): tools/pytorch/train.py under torchrun, two processes.

    /usr/bin/python3 tests/pytorch_ddp.py REPO_ROOT ATTNLENS [--models NAME ...] [--limit 600] [--reviews 12]

For each architecture (models/NAME.json: the five shipped configs by default):

1. `ATTNLENS train --config models/NAME.json --limit N --vocab-size 2000 --write-dataset DATA` writes
   the engine's own tokens, vocabulary and split of N IMDB training reviews;
2. `torchrun --standalone --nproc_per_node 2 tools/pytorch/train.py --data DATA ...` trains it for
   two short epochs with DistributedDataParallel (gloo, CPU) and writes an attnlens file;
3. the file's provenance must say two processes, identical replicas, two epochs, and the dataset's
   command; `ATTNLENS info` must load it;
4. PyTorch's padded-batch forward pass (the one train.py trains) must equal its one-review forward
   pass on every review of a batch of mixed lengths (logit and attention within 1e-6);
5. tests/pytorch_parity.py then compares the CLI with PyTorch on the saved models over IMDB test
   reviews: probability and attention within 1e-5, gradient x input within 1e-4 (evaluation
   only: nothing here trains on test reviews).

Everything runs in a temporary directory. Exit 0 when all agree, 1 on any failure, 77 (skipped)
when the data, torch or torchrun is missing -- 1 then too when CI is "true".
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_parity import prerequisites, skip  # noqa: E402 (the same prerequisites, the same skip)

MODELS = ["bilstm-attention", "lstm", "cnn", "gru-attention", "transformer"]


def run(command, what, env=None):
    started = time.time()
    done = subprocess.run(command, capture_output=True, text=True, encoding="utf-8", env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{what} exited with {done.returncode}:\n  {' '.join(command)}\n"
                           + "\n".join("  | " + line for line in (done.stdout + done.stderr).strip().split("\n")[-25:]))
    return done, time.time() - started


def check_padded_forward(module_dir, path):
    """The largest |difference| between the padded-batch and one-review forward passes."""
    sys.path.insert(0, module_dir)
    import torch
    import attnlens_torch as at
    model, file = at.load_classifier(path)
    generator = torch.Generator().manual_seed(5)
    lengths = [1, 2, 7, 30, 64, 13, 64, 3]
    ids = torch.zeros(len(lengths), max(lengths), dtype=torch.long)
    for row, n in enumerate(lengths):
        ids[row, :n] = torch.randint(1, len(file.vocabulary), (n,), generator=generator)
    worst = 0.0
    with torch.no_grad():
        logits, attention = model(ids, torch.tensor(lengths))
        for row, n in enumerate(lengths):
            logit, alpha = model(ids[row, :n])
            worst = max(worst, abs(float(logit - logits[row])))
            if alpha is not None:
                worst = max(worst, float((alpha - attention[row, :n]).abs().max()))
                worst = max(worst, float(attention[row, n:].abs().max()) if n < attention.shape[1] else 0.0)
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("repo")
    parser.add_argument("attnlens")
    parser.add_argument("--models", nargs="*", default=MODELS, help="configs models/NAME.json")
    parser.add_argument("--limit", type=int, default=600, help="IMDB training reviews (default 600)")
    parser.add_argument("--reviews", type=int, default=12, help="test reviews for the CLI comparison (default 12)")
    args = parser.parse_args()
    started = time.time()
    repo = os.path.abspath(args.repo)
    attnlens, archive = prerequisites(repo, args.attnlens)
    if attnlens is None:
        return 1
    data = os.path.dirname(os.path.dirname(archive))
    torchrun = shutil.which("torchrun")
    if torchrun is None:
        skip("skipped: torchrun is missing (Debian's python3-torch provides /usr/bin/torchrun)")
    module_dir = os.path.join(repo, "tools", "pytorch")
    train_py = os.path.join(module_dir, "train.py")

    failures = []
    trained = []
    with tempfile.TemporaryDirectory(prefix="attnlens-pytorch-ddp-") as tmp:
        # A data file that is not one, and a bad option: clear errors, nothing written.
        bogus = os.path.join(tmp, "bogus.jsonl")
        with open(bogus, "w", encoding="utf-8") as f:
            f.write('{"format": "something else"}\n')
        for command, expected in (([sys.executable, train_py, "--data", bogus, "--out", os.path.join(tmp, "x.safetensors")],
                                   "not an attnlens dataset"),
                                  ([sys.executable, train_py, "--data", os.path.join(tmp, "missing.jsonl"),
                                    "--out", os.path.join(tmp, "x.safetensors")], "cannot read")):
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode != 1 or expected not in done.stderr or os.path.exists(os.path.join(tmp, "x.safetensors")):
                failures.append(f"train.py on a bad data file: exit {done.returncode}, stderr {done.stderr.strip()!r} "
                                f"(expected exit 1 and {expected!r})")

        environment = dict(os.environ, OMP_NUM_THREADS="1")
        for name in args.models:
            config = os.path.join(repo, "models", name + ".json")
            dataset = os.path.join(tmp, name + ".jsonl")
            out = os.path.join(tmp, name + ".safetensors")
            try:
                done, write_seconds = run([attnlens, "train", "--config", config, "--data", data, "--limit", str(args.limit),
                                           "--vocab-size", "2000", "--write-dataset", dataset], f"{name}: attnlens --write-dataset")
                with open(dataset, encoding="utf-8") as f:
                    header = json.loads(f.readline())
                    rows = [json.loads(line) for line in f]
                parts = [r["part"] for r in rows]
                if (header.get("format") != "attnlens.dataset" or len(header["vocabulary"]) != 2000
                        or parts.count("train") + parts.count("validation") != args.limit or parts.count("validation") == 0):
                    failures.append(f"{name}: the data file's header or parts are wrong ({len(rows)} rows)")
                # torch 1.13's torchrun on Python 3.11 needs --redirects/--tee given (meta-llama/llama#86).
                done, train_seconds = run(
                    [torchrun, "--standalone", "--nproc_per_node", "2", "--redirects", "2", "--tee", "2",
                     train_py, "--data", dataset, "--out", out, "--epochs", "2", "--batch-size", "16", "--lr", "0.01",
                     "--max-length", "120", "--threads", "1", "--seed", "7"],  # a training seed other than the split's
                    f"{name}: torchrun train.py", env=environment)
            except RuntimeError as error:
                failures.append(str(error))
                continue
            with open(out, "rb") as f:
                import struct
                length = struct.unpack("<Q", f.read(8))[0]
                metadata = json.loads(f.read(length))["__metadata__"]
            provenance = json.loads(metadata["provenance"])
            expected = {"epochs_run": 2, "replicas_identical": True}
            for key, value in expected.items():
                if provenance.get(key) != value:
                    failures.append(f"{name}: provenance {key} is {provenance.get(key)!r}, expected {value!r}")
            if provenance.get("training", {}).get("processes") != 2 or "DistributedDataParallel" not in provenance.get("trainer", ""):
                failures.append(f"{name}: provenance does not record two DistributedDataParallel processes: "
                                f"{provenance.get('trainer')!r}, {provenance.get('training')!r}")
            if "--write-dataset" not in provenance.get("dataset_command", ""):
                failures.append(f"{name}: provenance lacks the dataset's command")
            try:
                info, _ = run([attnlens, "info", "--model", out], f"{name}: attnlens info")
                if json.loads(info.stdout).get("config", {}).get("architecture") != json.loads(metadata["config"])["architecture"]:
                    failures.append(f"{name}: attnlens info shows another architecture")
            except (RuntimeError, json.JSONDecodeError) as error:
                failures.append(f"{name}: {error}")
                continue
            # eval --split validation rebuilds the data file's validation part (its seed, not --seed 7):
            # the same reviews, so the same accuracy as train.py measured, up to a review or two whose
            # probability sits within float rounding of 0.5 in one of the two engines.
            try:
                evaluated, _ = run([attnlens, "eval", "--model", out, "--data", data, "--split", "validation",
                                    "--max-length", "120", "--json"], f"{name}: attnlens eval --split validation")
                result = json.loads(evaluated.stdout)
                if result["count"] != parts.count("validation") or \
                        abs(result["accuracy"] - provenance.get("validation_accuracy", -1)) * result["count"] > 2.5:
                    failures.append(f"{name}: eval --split validation gave {result['accuracy']} on {result['count']} reviews; "
                                    f"train.py measured {provenance.get('validation_accuracy')} on {parts.count('validation')}")
            except (RuntimeError, json.JSONDecodeError, KeyError) as error:
                failures.append(f"{name}: {error}")
            worst = check_padded_forward(module_dir, out)
            if worst > 1e-6:
                failures.append(f"{name}: the padded-batch forward pass differs from the one-review one by {worst:.2e}")
            print(f"{name:17s} data {write_seconds:.1f} s, torchrun 2 processes {train_seconds:.1f} s; "
                  f"padded vs one-review forward {worst:.1e}; validation accuracy "
                  f"{100 * provenance.get('validation_accuracy', 0):.1f} %", flush=True)
            trained.append(out)

        if trained:
            parity = subprocess.run([sys.executable, os.path.join(repo, "tests", "pytorch_parity.py"), repo, attnlens,
                                     "--reviews", str(args.reviews), "--max-tokens", "200", "--methods", "attention",
                                     "gradient-x-input", "--models", *trained],
                                    text=True, capture_output=True)
            print(parity.stdout.rstrip(), flush=True)
            if parity.returncode != 0:
                failures.append(f"the CLI and PyTorch disagree on the trained models (pytorch_parity.py exit "
                                f"{parity.returncode}) {parity.stderr.strip()[-2000:]}")

    print(f"{len(trained)} of {len(args.models)} architectures trained under torchrun; {time.time() - started:.0f} s", flush=True)
    if failures:
        print(f"FAILED: {len(failures)} problems", flush=True)
        for f in failures:
            print("  " + f.replace("\n", "\n  "), flush=True)
        return 1
    print("PASSED", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
