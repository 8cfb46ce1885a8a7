#!/usr/bin/python3
"""The PyTorch reference's file reader (tools/pytorch/attnlens_torch.py read_model) against the
engine's storage rules, on the shipped files, with no data needed:

- an int8 network: each I8 tensor equals int8 x its per-row scale (float32 product);
- an int8 network joined with an n-gram path (models/ngram-path/): its n-gram table, [rows, 1] with
  at least 1,024 rows, has one scale for the whole tensor, F32 [1]; the compact n-gram list
  (U8 tensor vocabulary.ngrams) is not a weight: it decodes to the rest of the vocabulary, in the
  layout's order, and the reference binds every n-gram (the page's default, a joined model, too),
  its logit the network's plus the path's;
- a float32 n-gram model (models/teachers/ngram.safetensors) reads as stored.

    /usr/bin/python3 tests/pytorch_reader.py REPO_ROOT

Exit 0 when all hold, 1 otherwise, 77 (skipped) when torch or numpy is missing -- 1 then too when
CI is "true".
"""
import json
import os
import struct
import sys

import numpy as np


def raw_tensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8:8 + length])
    data = blob[8 + length:]
    dtypes = {"F32": "<f4", "I8": "i1", "U8": "u1"}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = (info["dtype"], np.frombuffer(data[begin:end], dtype=dtypes.get(info["dtype"], "u1")).reshape(info["shape"]))
    return out


def main():
    root = sys.argv[1]
    try:
        sys.path.insert(0, os.path.join(root, "tools", "pytorch"))
        import attnlens_torch as at
    except ImportError as e:
        print(f"skipped: {e}")
        return 1 if os.environ.get("CI") == "true" else 77
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    for relative in ("models/lstm.safetensors", "models/ngram-path/lstm.safetensors", "models/teachers/ngram.safetensors",
                     "models/gru-attention-ngrams.safetensors"):
        path = os.path.join(root, relative)
        raw = raw_tensors(path)
        model = at.read_model(path)
        check(at.NGRAM_LIST not in model.tensors, f"{relative}: {at.NGRAM_LIST} read as a weight")
        for name, (dtype, values) in raw.items():
            if name == at.NGRAM_LIST or name.endswith(at.SCALE_SUFFIX) and raw.get(name[:-len(at.SCALE_SUFFIX)], ("",))[0] == "I8":
                continue
            read = model.tensors[name].numpy()
            if dtype == "I8":
                scale = raw[name + at.SCALE_SUFFIX][1]
                one_scale = values.ndim == 2 and values.shape[1] == 1 and values.shape[0] >= at.ONE_SCALE_ROWS
                check(scale.shape == ((1,) if one_scale else (values.shape[0],)), f"{relative}: {name}: scale shape {scale.shape}")
                expected = values.astype(np.float32) * scale.astype(np.float32).reshape((-1,) + (1,) * (values.ndim - 1))
            else:
                expected = values.astype(np.float32)
            check(np.array_equal(read, expected), f"{relative}: {name} differs from its stored values")
        if "ngram-path" in relative or "ngrams" in relative:
            check(raw["ngrams.weight"][0] == "I8" and raw["ngrams.weight.scale"][1].shape == (1,),
                  f"{relative}: the n-gram table is not int8 with one scale")
            check(raw[at.NGRAM_LIST][0] == "U8", f"{relative}: no compact n-gram list")
            # The n-grams decode to the vocabulary the config counts, each of words before them, in
            # the layout's order (by length, then by their words' ids); the model binds them all.
            size = int(model.config["vocab_size"])
            check(len(model.vocabulary) == size and model.ngram_first + len(model.ngrams) == size,
                  f"{relative}: {len(model.vocabulary)} vocabulary entries, the config {size}")
            check(all(len(a) < len(b) or (len(a) == len(b) and a < b) for a, b in zip(model.ngrams, model.ngrams[1:])),
                  f"{relative}: the n-grams are not in the layout's order")
            check(all(2 <= i < model.ngram_first for gram in model.ngrams for i in gram), f"{relative}: an n-gram names a non-word")
            classifier, _ = at.load_classifier(path)
            check(len(classifier._ngram_rows) == len(model.ngrams), f"{relative}: not every n-gram bound")
            ids = model.ids_of("not good at all".split())
            shares = classifier.ngram_shares(ids)
            check(abs(float(classifier(ids)[0]) - float(classifier.forward_embedded(classifier.embed(ids.unsqueeze(0)))[0][0])
                      - float(shares.sum())) < 1e-9, f"{relative}: the logit is not the network's plus the path's")
            bigram = model.word_ids().get("not good")
            check(bigram is not None and float(classifier.ngrams.weight[bigram, 0]) != 0.0, f"{relative}: 'not good' has no weight")
        print(f"{relative}: {len(model.tensors)} tensors read as stored")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
