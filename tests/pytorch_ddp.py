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

And the shipped models' recipe, once (gru-attention): a small teacher trained by the CLI on the same
N reviews labels 2N unlabelled ones, `--write-dataset` with it, word2vec and `--adversarial 0.5`
writes the soft labels and word2vec's embedding, and train.py under torchrun must start from that
embedding, train adversarially and record the distillation and pretraining. train.py's adversarial
step is checked in this process: the perturbation has norm epsilon per review along the gradient,
and with a tiny epsilon and the same dropout masks the gradients double (not with other masks).

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


def check_adversarial_step(module_dir, config_path):
    """Problems with train.py's adversarial step (train_step), on a float64 model with dropout."""
    sys.path.insert(0, module_dir)
    import torch
    import attnlens_torch as at
    import importlib.util
    spec = importlib.util.spec_from_file_location("attnlens_train", os.path.join(module_dir, "train.py"))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    problems = []
    with open(config_path, encoding="utf-8") as f:
        config = dict(json.load(f)["model"], vocab_size=50)
    torch.manual_seed(3)
    model = at.Classifier(config, dtype=torch.float64)
    model.train()
    lengths = torch.tensor([9, 4, 7])
    ids = torch.zeros(3, 9, dtype=torch.long)
    for row, n in enumerate(lengths.tolist()):
        ids[row, :n] = torch.randint(2, 50, (n,))
    labels = torch.tensor([1.0, 0.0, 0.7], dtype=torch.float64)

    g = torch.randn(3, 9, 4, dtype=torch.float64)
    g[1] = 0
    r = train.adversarial_perturbation(g, 0.5)
    norms = r.flatten(1).norm(dim=1)
    if abs(float(norms[0]) - 0.5) > 1e-12 or abs(float(norms[2]) - 0.5) > 1e-12 or float(norms[1]) != 0:
        problems.append(f"adversarial_perturbation: norms {norms.tolist()}, expected [0.5, 0, 0.5]")
    if float(torch.nn.functional.cosine_similarity(r[0].flatten(), g[0].flatten(), dim=0)) < 1 - 1e-12:
        problems.append("adversarial_perturbation: not along the gradient")

    def gradients(epsilon, seed, other_masks=False):
        torch.manual_seed(seed)
        model.zero_grad(set_to_none=True)
        if other_masks:  # the adversarial pass draws other masks: the clean pass's state is not restored
            state = torch.get_rng_state
            torch.get_rng_state = lambda: torch.Generator().manual_seed(seed + 1).get_state()
            try:
                train.train_step(model, model, ids, lengths, labels, epsilon)
            finally:
                torch.get_rng_state = state
        else:
            train.train_step(model, model, ids, lengths, labels, epsilon)
        return torch.cat([p.grad.reshape(-1) for p in model.parameters() if p.grad is not None]).clone()

    # The perturbed loss rises by epsilon * ||g|| to first order (g: the mean loss's gradient by each
    # review's embedded tokens, summed over reviews): only if the perturbation enters where g was
    # taken -- on the embedded tokens, before their dropout, and not on the padding.
    for epsilon in (1e-4, 1e-3):
        torch.manual_seed(11)
        model.zero_grad(set_to_none=True)
        model.keep_embedded = True
        torch.manual_seed(11)
        logits, _ = model(ids, lengths)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        expected = epsilon * float(model.embedded.grad.flatten(1).norm(dim=1).sum())
        model.keep_embedded, model.embedded = False, None
        torch.manual_seed(11)
        model.zero_grad(set_to_none=True)
        clean_loss, _, perturbed = train.train_step(model, model, ids, lengths, labels, epsilon)
        rise = float(perturbed - clean_loss)
        if abs(float(clean_loss - loss)) > 1e-12 or not abs(rise - expected) <= 0.02 * expected:
            problems.append(f"epsilon {epsilon}: the perturbed loss rose by {rise:.3e}, expected {expected:.3e} "
                            f"(first order), the clean loss {float(clean_loss)} vs {float(loss)}")
    # A perturbation on the padding alone changes nothing.
    model.eval()
    padding_only = torch.randn(3, 9, model.embedding.weight.shape[1], dtype=torch.float64)
    padding_only[ids != 0] = 0
    with torch.no_grad():
        moved = float((model(ids, lengths, perturbation=padding_only)[0] - model(ids, lengths)[0]).abs().max())
    model.train()
    if moved != 0:
        problems.append(f"a perturbation of the padding moved the logits by {moved:.1e}")

    clean = gradients(0.0, 11)
    doubled = gradients(1e-9, 11)
    relative = float((doubled - 2 * clean).norm() / (2 * clean).norm())
    if relative > 1e-6:
        problems.append(f"a tiny adversarial step with the same dropout masks should double the gradients; off by {relative:.1e}")
    mixed = float((gradients(1e-9, 11, other_masks=True) - 2 * clean).norm() / (2 * clean).norm())
    if mixed < 1e-2:
        problems.append(f"with other dropout masks the gradients still doubled ({mixed:.1e}): the test cannot see the masks")
    if model.embedded is not None or model.keep_embedded:
        problems.append("train_step left the embedded tokens' hook set")
    print(f"adversarial step: first-order loss rise within 2 %, padding untouched; same masks doubled within "
          f"{relative:.1e}, other masks {mixed:.1e}", flush=True)
    return problems


def check_recipe(repo, attnlens, data, torchrun, train_py, tmp, limit, environment):
    """The shipped models' recipe through train.py: soft labels, word2vec's embedding, adversarial."""
    import struct
    problems = []
    config = os.path.join(repo, "models", "gru-attention.json")
    teacher = os.path.join(tmp, "recipe-teacher.safetensors")
    dataset = os.path.join(tmp, "recipe.jsonl")
    out = os.path.join(tmp, "recipe.safetensors")
    run([attnlens, "train", "--config", config, "--data", data, "--limit", str(limit), "--vocab-size", "2000",
         "--epochs", "1", "--hidden-size", "8", "--pretrain-epochs", "0", "--out", teacher], "recipe: the teacher")
    run([attnlens, "train", "--config", config, "--data", data, "--limit", str(limit), "--vocab-size", "2000",
         "--pretrain-epochs", "1", "--teacher", teacher, "--adversarial", "0.5", "--adversarial-warmup", "1",
         "--weight-decay", "0.01", "--write-dataset", dataset],
        "recipe: attnlens --write-dataset --teacher --adversarial")
    with open(dataset, encoding="utf-8") as f:
        header = json.loads(f.readline())
        rows = [json.loads(line) for line in f]
    taught = [r for r in rows if r.get("teachers")]
    gold = [r for r in rows if not r.get("teachers")]
    first_taught = next((k for k, r in enumerate(rows) if r.get("teachers")), len(rows))
    if any(r["part"] == "train" and not r.get("teachers") for r in rows[first_taught:]):
        problems.append("recipe: a gold training review comes after the teachers' ones")
    embedding = header.get("initial_embedding", {})
    if header.get("format_version") != "2" or embedding.get("shape") != [2000, 64] or len(embedding.get("values", [])) != 128000:
        problems.append(f"recipe: the header's version or initial embedding is wrong ({header.get('format_version')}, "
                        f"{embedding.get('shape')})")
    if len(taught) != 2 * limit or any(r["part"] != "train" or not 0 <= r["label"] <= 1 for r in taught) \
            or not any(0 < r["label"] < 1 for r in taught) \
            or len(gold) != limit or any(r["label"] not in (0, 1) for r in gold):
        problems.append(f"recipe: {len(taught)} reviews labelled by the teacher (expected {2 * limit}, soft, in the "
                        f"training part) and {len(gold)} gold ones (expected {limit})")
    if header["training"].get("adversarial_epsilon") != 0.5 or not header["provenance"].get("distillation") \
            or not header["provenance"].get("pretraining"):
        problems.append("recipe: the header lacks the adversarial epsilon, the distillation or the pretraining")
    # The same file spoilt one way at a time: clear errors, nothing written.
    first = json.dumps(header)
    soft_row = json.dumps(taught[0]) if taught else "{}"
    for what, lines, expected in (
            ("a soft label in the validation part", [first, soft_row.replace('"part": "train"', '"part": "validation"')],
             "belongs to the training part"),
            ("a soft label without \"teachers\"", [first, soft_row.replace('"teachers": true', '"teachers": false')],
             "a label must be 0 or 1"),
            ("a label true", [first, json.dumps(dict(gold[0], label=True))], "a label must be 0 or 1"),
            ("an embedding of the wrong size", [json.dumps(dict(header, initial_embedding={"shape": [2000, 64], "values": [0.5]})),
                                                 json.dumps(gold[0])], "the initial embedding is [2000, 64] with 1 values"),
            ("an embedding holding NaN", [first.replace(str(embedding["values"][0]) + ",", "NaN,", 1), json.dumps(gold[0])],
             "not a finite number"),
            ("a negative warm-up", [json.dumps(dict(header, training=dict(header["training"], adversarial_warmup=-1))),
                                    json.dumps(gold[0])], "the adversarial warm-up must be zero (off) or a positive")):
        spoilt = os.path.join(tmp, "spoilt.jsonl")
        with open(spoilt, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        done = subprocess.run([sys.executable, train_py, "--data", spoilt, "--out", os.path.join(tmp, "spoilt.safetensors")],
                              capture_output=True, text=True, env=environment)
        if done.returncode != 1 or expected not in done.stderr or os.path.exists(os.path.join(tmp, "spoilt.safetensors")):
            problems.append(f"recipe: train.py on a data file with {what}: exit {done.returncode}, "
                            f"stderr {done.stderr.strip()[-300:]!r} (expected exit 1 and {expected!r})")
    # A learning rate too small to move anything: the saved embedding must be word2vec's.
    run([torchrun, "--standalone", "--nproc_per_node", "2", "--redirects", "2", "--tee", "2",
         train_py, "--data", dataset, "--out", out, "--epochs", "1", "--batch-size", "16", "--lr", "1e-9",
         "--max-length", "120", "--threads", "1", "--steps-per-epoch", "4"], "recipe: torchrun train.py", env=environment)
    with open(out, "rb") as f:
        length = struct.unpack("<Q", f.read(8))[0]
        entries = json.loads(f.read(length))
        begin, end = entries["embedding.weight"]["data_offsets"]
        f.seek(8 + length + begin)
        saved = struct.unpack(f"<{(end - begin) // 4}f", f.read(end - begin))
    provenance = json.loads(entries["__metadata__"]["provenance"])
    moved = max(abs(a - b) for a, b in zip(saved, embedding.get("values", [])))
    if moved > 1e-6:
        problems.append(f"recipe: train.py did not start from word2vec's embedding (moved by up to {moved:.1e})")
    if provenance.get("training", {}).get("adversarial_epsilon") != 0.5 or provenance["training"].get("weight_decay") != 0.01 \
            or provenance["training"].get("adversarial_warmup") != 1 \
            or provenance.get("optimizer") != "AdamW" or provenance.get("train_examples") != len(
            [r for r in gold if r["part"] == "train"]) or provenance.get("distillation", {}).get("reviews") != 2 * limit \
            or "word2vec" not in provenance.get("initialisation", "") or not provenance.get("pretraining"):
        problems.append(f"recipe: the provenance does not record the recipe: {json.dumps(provenance)[:600]}")
    run([attnlens, "info", "--model", out], "recipe: attnlens info")
    print(f"recipe: {len(gold)} gold and {len(taught)} teacher-labelled reviews, word2vec's embedding kept within "
          f"{moved:.1e}, adversarial training under torchrun", flush=True)
    return problems


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
        failures += check_adversarial_step(module_dir, os.path.join(repo, "models", "gru-attention.json"))
        try:
            failures += check_recipe(repo, attnlens, data, torchrun, train_py, tmp, args.limit, environment)
        except (RuntimeError, OSError, KeyError, ValueError) as error:
            failures.append(f"recipe: {error}")
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
