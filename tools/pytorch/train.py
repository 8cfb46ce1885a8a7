#!/usr/bin/python3
"""Train an attnlens classifier in PyTorch, on one process or many (DistributedDataParallel).

The data comes from the engine itself, so the tokenizer, vocabulary and train/validation split are
exactly those `attnlens train` would use with the same options:

    attnlens train --config models/bilstm-attention.json --write-dataset build/imdb-train.jsonl
    torchrun --standalone --nproc_per_node 2 tools/pytorch/train.py \\
        --data build/imdb-train.jsonl --out build/bilstm-attention-torch.safetensors

The model is the architecture of the data file's config (tools/pytorch/attnlens_torch.py, whose
parameter names are the file format's), trained with Adam on the binary cross-entropy of its logit,
gradient clipping by global norm, the learning rate decayed after each epoch, dropout where the
engine applies it, and the epoch with the best validation accuracy kept. The data file carries the
rest of the engine's recipe, and this script follows it: the word2vec vectors the embedding starts
from (when the config pretrains), the unlabelled reviews with the teachers' soft labels (--teacher),
and adversarial training on the embeddings (--adversarial: each step also learns from its reviews
with the embedded tokens moved by epsilon * g / ||g|| per review, g the loss's gradient by them,
under the same dropout masks; Miyato et al. 2017; --adversarial-warmup ramps epsilon up from 0).
The shipped models' recipe, for example:

    attnlens train --config models/gru-attention.json --write-dataset build/gru.jsonl \\
        --teacher models/teachers/ngram.safetensors ... --adversarial 0.5
    torchrun --standalone --nproc_per_node 2 tools/pytorch/train.py --data build/gru.jsonl --out gru.safetensors

The output is an attnlens classifier file (float32 weights; config, tokenizer, vocabulary and
provenance in its metadata) that `attnlens`, the wasm module and the page load unchanged;
`attnlens convert` makes it float16 or int8, `attnlens eval` measures it on the test split.

Processes and devices. Under torchrun (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR set) each process
is one data-parallel replica: gloo on CPUs, nccl on GPUs (one GPU per process, cuda:LOCAL_RANK).
Without torchrun it trains in this one process. --batch-size is per process: every step takes
batch-size x processes reviews, of similar length (length-bucketed as the engine does), and
DistributedDataParallel averages the replicas' gradients. Validation is split across the processes
and its sums all-reduced, so every process takes the same early-stopping decision; process 0
writes the files. On several machines, run the same torchrun on each with --nnodes N
--node_rank K --rdzv_backend c10d --rdzv_endpoint HOST:PORT (see the README).

Training options default to the data file's (the `training` section `attnlens train` resolved);
the flags below override them. Everything is seeded: the same options, processes and device give
the same model.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import struct
import sys
import time

sys.dont_write_bytecode = True  # importing attnlens_torch must leave nothing in the repository
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

DATASET_FORMAT = "attnlens.dataset"
MAX_HEADER_BYTES = 16 << 20  # safetensors::kMaxHeaderBytes (src/io/safetensors.hpp)
WINDOW_BATCHES = 50  # the engine's bucket iterator: sort by length within windows of 50 batches


def fail(message: str) -> None:
    print(f"train.py: error: {message}", file=sys.stderr, flush=True)
    sys.exit(1)


# ----------------------------------------------------------------------------- the data

def read_dataset(path: str):
    """(header, train examples, validation examples, how many training examples the teachers
    labelled); an example is (ids list, label): gold 0 or 1, or the teachers' probability."""
    try:
        f = open(path, "r", encoding="utf-8")
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror} (make it with: attnlens train ... --write-dataset {path})")
    with f:
        first = f.readline()
        try:
            header = json.loads(first)
        except json.JSONDecodeError:
            header = None
        if not isinstance(header, dict) or header.get("format") != DATASET_FORMAT:
            fail(f"{path}: not an attnlens dataset (its first line must be a JSON object with format "
                 f"'{DATASET_FORMAT}'; make one with: attnlens train ... --write-dataset FILE)")
        if header.get("format_version") not in ("1", "2"):
            fail(f"{path}: dataset format_version {header.get('format_version')!r}; this script reads '1' and '2'")
        for key in ("config", "tokenizer", "vocabulary", "training", "provenance"):
            if key not in header:
                fail(f"{path}: the header lacks '{key}'")
        vocabulary = header["vocabulary"]
        vocab_size = int(header["config"].get("vocab_size", 0))
        if not isinstance(vocabulary, list) or len(vocabulary) != vocab_size:
            fail(f"{path}: the vocabulary holds {len(vocabulary) if isinstance(vocabulary, list) else 'no'} words, "
                 f"the config's vocab_size is {vocab_size}")
        parts = {"train": [], "validation": []}
        taught = 0
        for number, line in enumerate(f, start=2):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                ids, label, part, soft = row["ids"], row["label"], row["part"], row.get("teachers", False) is True
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                fail(f"{path}:{number}: expected {{\"part\", \"label\", \"ids\"}}")
            if part not in parts or not isinstance(ids, list):
                fail(f"{path}:{number}: part must be train or validation, ids a list")
            if soft and part != "train":
                fail(f"{path}:{number}: a review the teachers labelled belongs to the training part")
            if isinstance(label, bool) or not isinstance(label, (int, float)) or not (
                    label in (0, 1) or (soft and 0 <= label <= 1)):
                fail(f"{path}:{number}: a label must be 0 or 1 (a training review the teachers labelled: a "
                     f"probability, with \"teachers\": true), got {label!r}")
            label = float(label)
            taught += soft
            if any((not isinstance(i, int)) or i < 0 or i >= vocab_size for i in ids):
                fail(f"{path}:{number}: a token id outside the vocabulary [0, {vocab_size})")
            parts[part].append((ids, label))
    if not parts["train"]:
        fail(f"{path}: no training reviews")
    embedding = header.get("initial_embedding")
    if embedding is not None:
        dim = int(header["config"].get("embedding_dim", 0))
        try:
            shape, values = [int(n) for n in embedding["shape"]], embedding["values"]
        except (KeyError, TypeError, ValueError):
            fail(f"{path}: the header's initial_embedding must be {{\"shape\": [V, E], \"values\": [...]}}")
        if shape != [vocab_size, dim] or not isinstance(values, list) or len(values) != vocab_size * dim:
            fail(f"{path}: the initial embedding is {shape} with {len(values) if isinstance(values, list) else 'no'} "
                 f"values; the config asks for [{vocab_size}, {dim}]")
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in values):
            fail(f"{path}: the initial embedding holds a value that is not a finite number")
    return header, parts["train"], parts["validation"], taught


def cut(example, max_length):
    ids, label = example
    return (ids[:max_length] if max_length > 0 else ids), label


def epoch_batches(examples, batch, rng):
    """Length-bucketed batches of indices into `examples`, as the engine's bucket iterator makes
    them: shuffled, sorted by length within windows of 50 batches, the batches' order shuffled."""
    order = list(rng.permutation(len(examples)))
    batches = []
    window = batch * WINDOW_BATCHES
    for begin in range(0, len(order), window):
        part = sorted(order[begin:begin + window], key=lambda i: len(examples[i][0]))
        batches.extend(part[k:k + batch] for k in range(0, len(part), batch))
    return [batches[i] for i in rng.permutation(len(batches))]


def padded(examples, indices, device):
    import torch
    lengths = [len(examples[i][0]) for i in indices]
    ids = torch.zeros(len(indices), max(lengths), dtype=torch.long)
    for row, i in enumerate(indices):
        ids[row, :lengths[row]] = torch.tensor(examples[i][0], dtype=torch.long)
    labels = torch.tensor([float(examples[i][1]) for i in indices])
    return ids.to(device), torch.tensor(lengths).to(device), labels.to(device)


# ----------------------------------------------------------------------------- one step

def adversarial_perturbation(gradient, epsilon):
    """epsilon * g / ||g|| for each review of a [B, L, E] gradient (the norm over all its tokens); a
    review whose loss does not move with its embeddings gets none (as the engine's
    adversarial_perturbation in src/train/trainer.cpp)."""
    import torch
    norms = gradient.flatten(1).norm(dim=1)
    scale = torch.where(norms > 1e-30, epsilon / norms.clamp(min=1e-30), torch.zeros_like(norms))
    return gradient * scale.view(-1, 1, 1)


def train_step(replica, model, ids, lengths, labels, epsilon):
    """One step's forward and backward passes (the caller zeroes the gradients first and steps the
    optimiser after): the binary cross-entropy of the logits against the labels (gold 0/1 or the
    teachers' probabilities); with epsilon > 0, the same reviews again with their embedded tokens
    moved by adversarial_perturbation of the first loss's gradient, under the same dropout masks
    (the random state is restored between the two), the two losses' gradients summed (under
    DistributedDataParallel the first backward stays local and the second all-reduces the sum).
    Returns the clean pass's loss and logits, and the perturbed loss (None when epsilon is 0)."""
    import contextlib
    import torch
    import torch.nn.functional as F
    if epsilon <= 0:
        logits, _ = replica(ids, lengths)
        loss = F.binary_cross_entropy_with_logits(logits, labels)
        loss.backward()
        return loss.detach(), logits.detach(), None
    state = torch.get_rng_state()
    cuda_state = torch.cuda.get_rng_state(ids.device) if ids.is_cuda else None
    local = replica.no_sync() if hasattr(replica, "no_sync") else contextlib.nullcontext()
    try:
        model.keep_embedded = True
        with local:
            logits, _ = replica(ids, lengths)
            loss = F.binary_cross_entropy_with_logits(logits, labels)
            loss.backward()
        gradient = model.embedded.grad.detach()
        model.keep_embedded, model.embedded = False, None
        perturbation = adversarial_perturbation(gradient, epsilon)
        torch.set_rng_state(state)
        if cuda_state is not None:
            torch.cuda.set_rng_state(cuda_state, ids.device)
        adversarial, _ = replica(ids, lengths, perturbation=perturbation)
        adversarial_loss = F.binary_cross_entropy_with_logits(adversarial, labels)
        adversarial_loss.backward()
    finally:
        model.keep_embedded, model.embedded = False, None
    return loss.detach(), logits.detach(), adversarial_loss.detach()


# ----------------------------------------------------------------------------- the file

def save_classifier(path, state, header, provenance):
    """An attnlens classifier file: safetensors (F32 tensors named as in `state`, a state dict), metadata
    format, format_version, config, tokenizer, vocabulary, provenance, weights. Written to a
    temporary name and renamed, so an interrupted save never leaves a partial file."""
    import numpy as np
    entries, blobs, offset = {}, [], 0
    for name in sorted(state):
        array = np.ascontiguousarray(state[name].detach().to("cpu").float().numpy().astype("<f4"))
        if not np.all(np.isfinite(array)):
            fail(f"{name} holds NaN or infinity after training: no file written (try a lower --lr or --clip-norm)")
        data = array.tobytes()
        entries[name] = {"dtype": "F32", "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    entries["__metadata__"] = {
        "format": "attnlens.classifier",
        "format_version": "1",
        "config": json.dumps(header["config"], separators=(",", ":"), sort_keys=True),
        "tokenizer": json.dumps(header["tokenizer"], separators=(",", ":"), sort_keys=True),
        "vocabulary": json.dumps(header["vocabulary"], separators=(",", ":"), ensure_ascii=False),
        "provenance": json.dumps(provenance, separators=(",", ":"), sort_keys=True),
        "weights": "float32",
    }
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data block starts 8-byte aligned
    if len(text) > MAX_HEADER_BYTES:
        fail(f"the file's header would be {len(text)} bytes; the engine reads at most {MAX_HEADER_BYTES} "
             f"(a vocabulary of that size does not fit a model file)")
    temporary = f"{path}.tmp-{os.getpid()}"
    with open(temporary, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def write_history(prefix, history):
    columns = ["epoch", "learning_rate", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy",
               "seconds", "examples_per_second"]
    for suffix, text in ((".json", json.dumps(history, indent=2) + "\n"),
                         (".csv", ",".join(columns) + "\n" + "".join(",".join(str(e[c]) for c in columns) + "\n"
                                                                     for e in history))):
        temporary = f"{prefix}{suffix}.tmp-{os.getpid()}"
        with open(temporary, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(temporary, prefix + suffix)


# ----------------------------------------------------------------------------- training

def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n\n".join(__doc__.split("\n\n")[1:]))
    parser.add_argument("--data", required=True, help="the data: attnlens train ... --write-dataset FILE")
    parser.add_argument("--out", required=True, help="the classifier file to write (.safetensors)")
    parser.add_argument("--history", help="prefix for the per-epoch history (.json, .csv); default: next to --out")
    parser.add_argument("--epochs", type=int, help="epochs (default: the data file's)")
    parser.add_argument("--batch-size", type=int, help="reviews per step and process (default: the data file's)")
    parser.add_argument("--lr", type=float, help="Adam's learning rate (default: the data file's)")
    parser.add_argument("--lr-decay", type=float, help="multiplied into the learning rate after each epoch")
    parser.add_argument("--clip-norm", type=float, help="clip the gradient's global norm to this (<= 0: off)")
    parser.add_argument("--max-length", type=int, help="cut training reviews to this many tokens (0: whole)")
    parser.add_argument("--patience", type=int, help="stop after this many epochs without improvement (0: off)")
    parser.add_argument("--seed", type=int, help="the initial weights', dropout's and batches' seed")
    parser.add_argument("--steps-per-epoch", type=int, default=0,
                        help="at most this many steps per epoch (0: the whole training part; for quick runs)")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                        help="cuda when a GPU is there (auto), else cpu")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch threads per process (0: the machine's cores shared among this machine's processes)")
    args = parser.parse_args()

    try:
        import numpy as np
        import torch
        import torch.distributed as dist
        import torch.nn.functional as F
        from torch.nn.parallel import DistributedDataParallel
    except ImportError as error:
        fail(f"{error}: install Debian's python3-torch and python3-numpy and run this with /usr/bin/python3")
    import attnlens_torch as at

    distributed = "RANK" in os.environ and "WORLD_SIZE" in os.environ
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda, but torch sees no GPU")
    use_cuda = args.device == "cuda" or (args.device == "auto" and torch.cuda.is_available())
    device = torch.device(f"cuda:{local_rank}" if use_cuda else "cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    backend = "nccl" if use_cuda else "gloo"
    if distributed:
        dist.init_process_group(backend)
        rank, world = dist.get_rank(), dist.get_world_size()
    else:
        rank, world = 0, 1
    torch.set_num_threads(args.threads or max(1, (os.cpu_count() or 1) // local_world))
    main_process = rank == 0

    def log(message):
        if main_process:
            print(message, file=sys.stderr, flush=True)

    header, train_set, validation_set, taught = read_dataset(args.data)
    options = dict(header["training"])
    for key, value in (("epochs", args.epochs), ("batch_size", args.batch_size), ("learning_rate", args.lr),
                       ("learning_rate_decay", args.lr_decay), ("clip_norm", args.clip_norm),
                       ("max_length", args.max_length), ("patience", args.patience), ("seed", args.seed)):
        if value is not None:
            options[key] = value
    for key, low in (("epochs", 1), ("batch_size", 1), ("max_length", 0), ("patience", 0)):
        if int(options[key]) < low:
            fail(f"{key} must be at least {low}, got {options[key]}")
    if not float(options["learning_rate"]) > 0:
        fail(f"the learning rate must be positive, got {options['learning_rate']}")
    epochs, batch, seed = int(options["epochs"]), int(options["batch_size"]), int(options["seed"])
    max_length, patience = int(options["max_length"]), int(options["patience"])
    options.pop("threads", None)  # the engine's; this run's threads are recorded below
    epsilon = float(options.get("adversarial_epsilon", 0))
    if not (epsilon >= 0 and math.isfinite(epsilon)):
        fail(f"the adversarial perturbation's size must be zero (off) or positive, got {epsilon}")
    warmup = float(options.get("adversarial_warmup", 0))
    if not (warmup >= 0 and math.isfinite(warmup)):
        fail(f"the adversarial warm-up must be zero (off) or a positive number of epochs, got {warmup}")
    if warmup > 0 and epsilon == 0:
        fail("an adversarial warm-up needs adversarial training (adversarial_epsilon) to ramp up")

    train_set = [cut(e, max_length) for e in train_set]
    validation_set = [cut(e, max_length) for e in validation_set]  # as the engine validates
    empty = sum(1 for ids, _ in train_set if not ids)
    train_set = [e for e in train_set if e[0]]  # an empty review teaches nothing and has no steps to pool
    if len(train_set) < world:
        fail(f"{len(train_set)} training reviews for {world} processes")

    torch.manual_seed(seed)  # the same initial weights in every process (DDP also broadcasts process 0's)
    model = at.Classifier(header["config"], dtype=torch.float32)
    if "initial_embedding" in header:  # word2vec's vectors, as the engine starts from them
        with torch.no_grad():
            model.embedding.weight.copy_(torch.tensor(header["initial_embedding"]["values"], dtype=torch.float32)
                                         .view(model.embedding.weight.shape))
    model = model.to(device)
    model.train()
    replica = DistributedDataParallel(model, device_ids=[local_rank] if use_cuda else None) if distributed else model
    weight_decay = float(options.get("weight_decay", 0))
    if not (weight_decay >= 0 and math.isfinite(weight_decay)):
        fail(f"the weight decay must be zero (off) or positive, got {weight_decay}")
    # The engine's Adam, and with weight decay its AdamW (the same decoupled shrink, 1 - lr * decay, each step).
    optimizer = (torch.optim.AdamW(model.parameters(), lr=float(options["learning_rate"]), weight_decay=weight_decay)
                 if weight_decay > 0 else torch.optim.Adam(model.parameters(), lr=float(options["learning_rate"])))
    torch.manual_seed(seed * 1000 + rank)  # dropout differs between the replicas
    parameters = sum(p.numel() for p in model.parameters())
    log(f"training {header['config'].get('architecture', 'classifier')} ({parameters} parameters, vocabulary "
        f"{len(header['vocabulary'])}) on {len(train_set)} reviews"
        + (f" ({taught} labelled by the teachers)" if taught else "") + f", validating on {len(validation_set)}; "
        f"{world} process{'es' if world > 1 else ''} ({backend}, {device.type}), {batch} reviews per step and process"
        + (f"; {empty} empty reviews left out" if empty else ""))

    def evaluate():
        """(loss, accuracy, count) over the validation part, split across the processes."""
        model.eval()
        mine = list(range(rank, len(validation_set), world))
        mine.sort(key=lambda i: len(validation_set[i][0]))
        totals = torch.zeros(3, dtype=torch.float64)
        with torch.no_grad():
            for begin in range(0, len(mine), 64):
                chunk = [i for i in mine[begin:begin + 64]]
                nonempty = [i for i in chunk if validation_set[i][0]]
                # An empty review's logit is the head's on a zero pooled vector, as the engine gives it.
                logits = model.head(torch.zeros(1, model.pooled_channels, device=device)).expand(len(chunk)).clone()
                if nonempty:
                    ids, lengths, _ = padded(validation_set, nonempty, device)
                    out, _ = model(ids, lengths)
                    position = {i: k for k, i in enumerate(chunk)}
                    logits[[position[i] for i in nonempty]] = out
                labels = torch.tensor([float(validation_set[i][1]) for i in chunk], device=device)
                totals[0] += float(F.binary_cross_entropy_with_logits(logits, labels, reduction="sum"))
                totals[1] += float(((logits > 0).float() == labels).sum())
                totals[2] += len(chunk)
        if distributed:
            totals = totals.to(device)
            dist.all_reduce(totals)
            totals = totals.cpu()
        model.train()
        count = float(totals[2])
        return (float(totals[0]) / count, float(totals[1]) / count, int(count)) if count else (0.0, 0.0, 0)

    history_prefix = args.history or (args.out[:-len(".safetensors")] if args.out.endswith(".safetensors") else args.out) + ".history"
    dataset_provenance = header["provenance"]
    script = os.path.relpath(os.path.abspath(__file__))
    arguments = " ".join([script] + sys.argv[1:])
    if distributed:
        nodes = world // local_world
        launcher = "torchrun " + ("--standalone " if nodes == 1 else f"--nnodes {nodes} ")
        if sys.version_info >= (3, 11) and int(torch.__version__.split(".")[0]) < 2:
            launcher += "--redirects 2 --tee 2 "  # torch 1.13's torchrun on Python 3.11 (meta-llama/llama#86)
        command = f"{launcher}--nproc_per_node {local_world} {arguments}"
    else:
        command = f"/usr/bin/python3 {arguments}"
    provenance = {
        "data": dataset_provenance.get("data", ""),
        # the gold part, as the engine records it (a teacher's split check reads it)
        "train_examples": int(dataset_provenance.get("train_examples", len(train_set) - taught)),
        "validation_examples": len(validation_set),
        "seed": seed,
        # how the engine divided the data (eval --split validation rebuilds it from this), unchanged
        # by this run's --seed
        "split": dataset_provenance.get("split"),
        "training": dict(options, processes=world, threads_per_process=torch.get_num_threads(),
                         effective_batch_size=batch * world),
        "vocabulary": dataset_provenance.get("vocabulary", {}),
        "command": command,
        "dataset_command": dataset_provenance.get("command", ""),
        **{key: dataset_provenance[key] for key in ("pretraining", "distillation") if dataset_provenance.get(key)},
        "trainer": f"PyTorch {torch.__version__} " + (f"DistributedDataParallel, {world} processes ({backend})"
                                                      if distributed else "one process") + f", {device.type}",
        "optimizer": "AdamW" if weight_decay > 0 else "Adam",
        "initialisation": ("the embedding from the dataset's word2vec vectors, every other module PyTorch's default"
                           if "initial_embedding" in header else
                           "PyTorch's default for each torch.nn module (embedding N(0, 1), its <pad> row zero)"),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
    }

    started = time.time()
    history, best, best_state, since_best = [], None, None, 0
    rng = np.random.default_rng(seed)
    learning_rate = float(options["learning_rate"])
    clip = float(options["clip_norm"])
    trained = 0  # global batches, for the adversarial warm-up

    def epsilon_now():
        # As the engine's adversarial_epsilon_at: epsilon ramped up linearly over `warmup` epochs'
        # worth of reviews (a global batch is batch x world of them).
        if warmup <= 0:
            return epsilon
        return epsilon * min(1.0, trained * batch * world / (warmup * len(train_set)))

    for epoch in range(1, epochs + 1):
        epoch_started = time.time()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate
        # Global batches of batch x world reviews of similar length; each process takes every
        # world-th review of each, so every process takes the same number of steps.
        steps = [b for b in epoch_batches(train_set, batch * world, rng) if len(b) >= world]
        if args.steps_per_epoch > 0:
            steps = steps[:args.steps_per_epoch]
        sums = torch.zeros(3, dtype=torch.float64)  # loss, correct, count (this process)
        for step, global_batch in enumerate(steps):
            mine = sorted(global_batch, key=lambda i: len(train_set[i][0]))[rank::world]
            ids, lengths, labels = padded(train_set, mine, device)
            optimizer.zero_grad(set_to_none=True)
            trained += 1
            loss, logits, _ = train_step(replica, model, ids, lengths, labels, epsilon_now())
            if clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            sums += torch.tensor([float(loss) * len(mine), float(((logits > 0) == (labels > 0.5)).sum()), len(mine)],
                                 dtype=torch.float64)
            if main_process and (step + 1) % max(1, len(steps) // 10) == 0:
                print(f"epoch {epoch}/{epochs}: {100 * (step + 1) // len(steps)}%", file=sys.stderr, flush=True)
        if distributed:
            sums = sums.to(device)
            dist.all_reduce(sums)
            sums = sums.cpu()
        validation_loss, validation_accuracy, _ = evaluate() if validation_set else (0.0, 0.0, 0)
        train_loss, train_accuracy = float(sums[0] / sums[2]), float(sums[1] / sums[2])
        score = validation_accuracy if validation_set else train_accuracy
        improved = best is None or score > best["score"]
        seconds = time.time() - epoch_started
        entry = {"epoch": epoch, "learning_rate": learning_rate, "train_loss": train_loss,
                 "train_accuracy": train_accuracy, "validation_loss": validation_loss,
                 "validation_accuracy": validation_accuracy, "seconds": seconds,
                 "examples_per_second": float(sums[2]) / seconds if seconds > 0 else 0.0, "improved": improved}
        history.append(entry)
        log(f"epoch {epoch}/{epochs}: train loss {train_loss:.4f} accuracy {100 * train_accuracy:.2f}%, validation "
            f"loss {validation_loss:.4f} accuracy {100 * validation_accuracy:.2f}%, {seconds:.0f} s"
            + (" (best so far)" if improved else ""))
        if improved:
            best = {"score": score, "epoch": epoch, "validation_accuracy": validation_accuracy,
                    "validation_loss": validation_loss}
            since_best = 0
            if main_process:
                provenance.update(best_epoch=epoch, epochs_run=len(history), validation_accuracy=validation_accuracy,
                                  validation_loss=validation_loss, training_seconds=time.time() - started,
                                  date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
                best_state = {name: t.detach().to("cpu").clone() for name, t in model.state_dict().items()}
                save_classifier(args.out, best_state, header, provenance)  # atomic: a killed run keeps the best so far
        else:
            since_best += 1
        if main_process:
            write_history(history_prefix, history)
        learning_rate *= float(options["learning_rate_decay"])
        if patience and since_best >= patience:
            log(f"no improvement for {patience} epochs: stopping")
            break

    # The replicas must have stayed identical: DDP's guarantee, checked.
    if distributed:
        with torch.no_grad():
            flat = torch.cat([p.detach().reshape(-1).double() for p in model.parameters()])
            checksum = torch.stack([flat.sum(), (flat * flat).sum()]).to(device)
            gathered = [torch.zeros_like(checksum) for _ in range(world)]
            dist.all_gather(gathered, checksum)
        if not all(torch.equal(g, gathered[0]) for g in gathered):
            fail("the replicas' weights differ at the end of training")
    if main_process:
        # The best epoch's file is on disk; its provenance now also records the whole run.
        provenance["epochs_run"] = len(history)
        provenance["training_seconds"] = time.time() - started
        if distributed:
            provenance["replicas_identical"] = True
        save_classifier(args.out, best_state, header, provenance)
        log(f"saved {args.out} (best epoch {best['epoch']}, validation accuracy "
            f"{100 * best['validation_accuracy']:.2f}%); history in {history_prefix}.{{json,csv}}")
    if distributed:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
