"""attnlens classifiers in PyTorch: an independent reference for the C++ engine (issue 17).

An attnlens classifier file (models/*.safetensors) is read here with the standard library and
numpy alone, and its tensors are loaded *by their names* into ordinary torch.nn modules of the
same architecture -- torch.nn.Embedding, LSTM, GRU, Conv1d, Linear, LayerNorm and
TransformerEncoder/TransformerEncoderLayer (norm_first=True) with its MultiheadAttention -- with
strict matching: every tensor of the file is used, every parameter of the module is found, and
every shape must agree (torch.nn.Module.load_state_dict(strict=True)). Nothing here is shared
with the C++ code: it is the architecture rewritten from its description, so agreement between
the two is evidence that both compute what the README says.

    import attnlens_torch as at
    model, file = at.load_classifier("models/bilstm-attention.safetensors")   # float64 by default
    ids = file.ids_of(["a", "wonderful", "film"])                              # words -> ids (<unk> = 1)
    logit, attention = model(ids)                                              # one review, batch 1
    scores = model.explain(ids, "integrated-gradients")["scores"]              # or "gradient-x-input"

What the modules compute (src/models/classifier.cpp and src/layers/ are the C++ side):
  embedding    nn.Embedding [vocab, E]; id 0 (<pad>) always embeds to the zero vector.
  lstm / gru   nn.LSTM / nn.GRU, batch_first, PyTorch's gate order (i, f, g, o / r, z, n) and
               names (rnn.weight_ih_l0, rnn.weight_hh_l0_reverse, ...); bidirectional layers give
               [forward; reverse]. Consecutive recurrent layers of one kind and size are one
               multi-layer module, as the file's _l0, _l1 names say.
  conv1d       nn.Conv1d conv0, conv1, ... stride 1; "same" pads (k-1)//2 steps on the left and
               the rest on the right (torch's padding="same"), "valid" none.
  relu         max(0, x).
  maxpool1d    windows of `pool_size` steps with the same stride; the last window may be partial
               (lengths ceil(L / size)), as Keras' MaxPooling1D with padding "same" would.
  transformer  x0 = sqrt(E) * embedding + sinusoidal positions (PE[t, 2i] = sin(t / 10000^(2i/E)),
               PE[t, 2i+1] = cos(...)); nn.TransformerEncoder named "encoder" of pre-norm
               nn.TransformerEncoderLayer (ReLU feed-forward, LayerNorm eps 1e-5, no dropout)
               and a final LayerNorm "encoder.norm". Its MultiheadAttention stores in_proj_weight
               [3E, E] (queries, keys, values) and out_proj, exactly the file's names.
  poolings     attention: e_t = tanh(w . h_t + b) ("attention", an nn.Linear(C, 1)), alpha =
               softmax(e), c = sum_t alpha_t h_t; max and mean over the steps; last: the last step.
  head         hidden nn.Linear dense0, dense1, ... each followed by ReLU; output nn.Linear "fc"
               giving one logit; probability = sigmoid(logit).

Explanations (src/pipeline/explain.cpp): F is the predicted class's logit (the logit when it is
> 0, else its negation). gradient-x-input: sum_d dF/de_{t,d} * e_{t,d}. integrated-gradients:
zero baseline, sum_d e_{t,d} * integral_0^1 dF/de_{t,d}(alpha e) d alpha by Gauss-Legendre
quadrature on [0, 1] (numpy's leggauss nodes mapped to [0, 1], weights halved; 50 points).

The file format: 8 bytes little-endian header length N, N bytes of JSON (tensor name ->
{dtype, shape, data_offsets}, plus "__metadata__": string -> string), then the data block.
Weights may be F32, F16 or I8; an I8 tensor X comes with an F32 tensor "X.scale" of shape
[rows] (rows = the first dimension; [1] for a tensor of one value per row and at least 1,024
rows) and value = int8 * scale[row] (computed in float32, as the engine does). __metadata__
holds JSON strings: config, tokenizer, vocabulary, provenance, ... (src/io/safetensors.hpp,
src/io/model_file.hpp).

Only needs numpy and torch (Debian's python3-numpy and python3-torch); runs on the CPU.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

__all__ = ["ModelFile", "read_model", "Classifier", "load_classifier", "gauss_legendre",
           "sinusoidal_positions", "PAD", "UNK"]

PAD = 0  # <pad>: embeds to the zero vector
UNK = 1  # <unk>: any word the vocabulary lacks
SCALE_SUFFIX = ".scale"
NGRAM_LIST = "vocabulary.ngrams"  # U8: the n-grams of a vocabulary in the n-gram layout (text/ngram_list.hpp)
ONE_SCALE_ROWS = 1024  # an I8 tensor of one value per row and at least this many rows has one scale (io/safetensors.hpp)
_DTYPES = {"F32": np.dtype("<f4"), "F16": np.dtype("<f2"), "I8": np.dtype("i1")}


# ----------------------------------------------------------------------------- the file

@dataclass
class ModelFile:
    """A parsed attnlens model file."""
    path: str
    metadata: Dict[str, str]            # __metadata__ as stored: every value a string
    tensors: Dict[str, torch.Tensor]    # float32, by name; I8 tensors already times their scales
    dtypes: Dict[str, str]              # how each tensor of `tensors` was stored: F32, F16 or I8
    config: dict = field(default_factory=dict)
    tokenizer: dict = field(default_factory=dict)
    vocabulary: List[str] = field(default_factory=list)
    provenance: dict = field(default_factory=dict)
    # With the n-grams stored compactly (NGRAM_LIST): each n-gram's word ids, the one at position i
    # being vocabulary entry ngram_first + i (its text is also appended to `vocabulary`).
    ngrams: List[Tuple[int, ...]] = field(default_factory=list)
    ngram_first: int = 0

    def word_ids(self) -> Dict[str, int]:
        if not hasattr(self, "_word_ids"):
            self._word_ids = {w: i for i, w in enumerate(self.vocabulary)}
        return self._word_ids

    def ids_of(self, words: Sequence[str]) -> torch.Tensor:
        """Token texts (already tokenised and normalised as the engine does) -> ids, <unk> = 1."""
        index = self.word_ids()
        return torch.tensor([index.get(w, UNK) for w in words], dtype=torch.long)


def read_model(path: str) -> ModelFile:
    """Parses a safetensors model file with the standard library and numpy.

    Returns its metadata (raw strings, and config / tokenizer / vocabulary / provenance parsed
    from their JSON) and its tensors as float32 torch tensors by name. An I8 tensor X is
    dequantised with its F32 "X.scale" [rows] (value = int8 * scale[row], float32 product) and
    the scale tensor is consumed. The checks are those a reader needs, not a validator's:
    header bounds, dtypes, byte ranges matching the shapes and lying inside the data block."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (header_length,) = struct.unpack("<Q", blob[:8])
    if header_length > len(blob) - 8:
        raise ValueError(f"{path}: header length {header_length} beyond the file's {len(blob)} bytes")
    header = json.loads(blob[8:8 + header_length].decode("utf-8"))
    data = memoryview(blob)[8 + header_length:]
    metadata = header.pop("__metadata__", {}) or {}

    raw: Dict[str, np.ndarray] = {}
    stored: Dict[str, str] = {}
    ngram_bytes = None
    for name, info in header.items():
        if name == NGRAM_LIST:  # the n-grams of the vocabulary, stored compactly: not a weight
            begin, end = (int(x) for x in info["data_offsets"])
            if info.get("dtype") != "U8" or not (0 <= begin <= end <= len(data)):
                raise ValueError(f"{path}: tensor {name} must be U8 within the data block")
            ngram_bytes = bytes(data[begin:end])
            continue
        dtype = info["dtype"]
        if dtype not in _DTYPES:
            raise ValueError(f"{path}: tensor {name}: dtype {dtype} is not F32, F16 or I8")
        shape = [int(s) for s in info["shape"]]
        begin, end = (int(x) for x in info["data_offsets"])
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != count * _DTYPES[dtype].itemsize:
            raise ValueError(f"{path}: tensor {name}: byte range [{begin}, {end}) does not fit {dtype} {shape}")
        raw[name] = np.frombuffer(data[begin:end], dtype=_DTYPES[dtype]).reshape(shape)
        stored[name] = dtype

    tensors: Dict[str, torch.Tensor] = {}
    dtypes: Dict[str, str] = {}
    scales = {n + SCALE_SUFFIX for n, d in stored.items() if d == "I8"}
    for name, array in raw.items():
        if name in scales:
            continue  # read with its tensor
        if stored[name] == "I8":
            scale_name = name + SCALE_SUFFIX
            one_scale = array.ndim >= 2 and int(np.prod(array.shape[1:])) == 1 and array.shape[0] >= ONE_SCALE_ROWS
            scale_count = 1 if one_scale else array.shape[0]
            if scale_name not in raw or stored[scale_name] != "F32" or raw[scale_name].shape != (scale_count,):
                raise ValueError(f"{path}: I8 tensor {name} needs an F32 tensor {scale_name} of shape [{scale_count}]")
            scale = raw[scale_name].astype(np.float32).reshape((-1,) + (1,) * (array.ndim - 1))
            value = array.astype(np.float32) * scale  # float32 product, as the engine computes it
        else:
            value = array.astype(np.float32)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{path}: tensor {name} holds NaN or infinity")
        tensors[name] = torch.from_numpy(np.ascontiguousarray(value))
        dtypes[name] = stored[name]

    def parsed(key, default):
        return json.loads(metadata[key]) if key in metadata else default

    file = ModelFile(path=path, metadata=dict(metadata), tensors=tensors, dtypes=dtypes,
                     config=parsed("config", {}), tokenizer=parsed("tokenizer", {}),
                     vocabulary=parsed("vocabulary", []), provenance=parsed("provenance", {}))
    if ngram_bytes is not None:
        file.ngram_first = len(file.vocabulary)
        file.ngrams = decode_ngram_list(ngram_bytes, file.ngram_first)
        file.vocabulary += [" ".join(file.vocabulary[i] for i in gram) for gram in file.ngrams]
    return file


def decode_ngram_list(blob: bytes, words: int) -> List[Tuple[int, ...]]:
    """The n-grams of NGRAM_LIST (text/ngram_list.hpp, encode_ngram_list): two varints, the numbers
    of 2- and 3-word n-grams; then for each n-gram, against the one before of its length (all ids 0
    before the first), the varint n*d + k (k the first position that differs, d > 0 the difference
    there) and the ids after position k as varints. Word ids must lie in 2 .. words - 1."""
    position = 0

    def varint() -> int:
        nonlocal position
        value, shift = 0, 0
        while True:
            if position >= len(blob) or shift > 28:
                raise ValueError("n-gram list: a varint is cut short or longer than 5 bytes")
            byte = blob[position]
            position += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    counts = {2: varint(), 3: varint()}
    grams: List[Tuple[int, ...]] = []
    for n in (2, 3):
        ids = [0, 0, 0]
        for _ in range(counts[n]):
            head = varint()
            k, step = head % n, head // n
            if step == 0:
                raise ValueError("n-gram list: an n-gram does not follow the one before")
            ids[k] += step
            for j in range(k + 1, n):
                ids[j] = varint()
            if any(not 2 <= i < words for i in ids[:n]):
                raise ValueError("n-gram list: an n-gram names a word the vocabulary lacks")
            grams.append(tuple(ids[:n]))
    if position != len(blob):
        raise ValueError("n-gram list: bytes after the last n-gram")
    return grams


# ----------------------------------------------------------------------------- helpers

def gauss_legendre(points: int) -> Tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (nodes ascending, weights summing to 1)."""
    x, w = np.polynomial.legendre.leggauss(points)
    return (x + 1.0) / 2.0, w / 2.0


def sinusoidal_positions(steps: int, channels: int, dtype=torch.float64) -> torch.Tensor:
    """[steps, channels]: PE[t, 2i] = sin(t / 10000^(2i/E)), PE[t, 2i+1] = cos(t / 10000^(2i/E))."""
    t = np.arange(steps, dtype=np.float64)[:, None]
    i = np.arange(channels)
    angle = t / np.power(10000.0, (i - i % 2).astype(np.float64) / channels)[None, :]
    return torch.from_numpy(np.where(i % 2 == 0, np.sin(angle), np.cos(angle))).to(dtype)


def _encoder_layers(config: dict) -> List[dict]:
    """The config's explicit encoder, or the shorthand's one recurrent layer (classifier_config.cpp)."""
    if config.get("encoder"):
        return [dict(layer) for layer in config["encoder"]]
    return [{"type": config.get("cell", "lstm"), "size": config.get("hidden_size", 64),
             "bidirectional": config.get("bidirectional", True)}]


# ----------------------------------------------------------------------------- the model

class Classifier(nn.Module):
    """An attnlens classifier, built from the file's `config` JSON as src/models/classifier_structure.cpp
    builds it, with PyTorch's parameter names (so load_state_dict takes the file's tensors).

    forward(ids) takes one review's ids [L] (or a batch [B, L] of reviews of one length: no
    padding) and returns (logit, attention): attention is the pooling's alpha for
    attention-pooling models, else None."""

    def __init__(self, config: dict, dtype: torch.dtype = torch.float64):
        super().__init__()
        if int(config.get("ngram_order", 0)):
            raise NotImplementedError("an n-gram model (ngram_order): its features are the words and n-grams present, "
                                      "not a torch.nn layer stack; the C++ engine reads it")
        self.config = dict(config)
        E = int(config.get("embedding_dim", 64))
        vocab = int(config.get("vocab_size", 20000))
        self.embedding_dim = E
        # An n-gram path (ngram_path 2 or 3, `attnlens join`): the network reads its first
        # embedding_words ids (others are <unk> to it); beside it, logit += gain * the weights of
        # the words and n-grams present (bind_ngrams gives the n-grams' rows).
        self.ngram_order = int(config.get("ngram_path", 0))
        self.embedding_words = int(config["embedding_words"]) if self.ngram_order else vocab
        self.embedding = nn.Embedding(self.embedding_words, E, padding_idx=PAD)
        if self.ngram_order:
            self.ngrams = nn.Module()
            self.ngrams.weight = nn.Parameter(torch.zeros(vocab, 1))
            self.ngrams.gain = nn.Parameter(torch.ones(1))
        self._ngram_rows: Dict[Tuple[int, ...], int] = {}
        # The encoder as a list of steps; modules carry the file's names (rnn, conv0, encoder, ...).
        self._steps: List[Tuple[str, object]] = []
        channels = E
        layers = _encoder_layers(config)
        recurrent = [i for i, s in enumerate(layers) if s["type"] in ("lstm", "gru")]
        if recurrent:
            first = layers[recurrent[0]]
            same = all(layers[i]["type"] == first["type"] and int(layers[i]["size"]) == int(first["size"])
                       and bool(layers[i].get("bidirectional", False)) == bool(first.get("bidirectional", False))
                       for i in recurrent)
            if recurrent != list(range(recurrent[0], recurrent[-1] + 1)) or not same:
                # The engine names them rnn.*_l0, rnn.*_l1, ... whatever lies between; one torch
                # module holds such names only for a run of identical layers.
                raise NotImplementedError("recurrent layers that are not one run of the same kind and size")
        transformers = [s for s in layers if s["type"] == "transformer"]
        if len(transformers) > 1:
            raise NotImplementedError("more than one transformer block (the engine would name both 'encoder')")
        conv_index = 0
        i = 0
        while i < len(layers):
            s = layers[i]
            kind = s["type"]
            if kind in ("lstm", "gru"):
                n = len(recurrent)
                cls = nn.LSTM if kind == "lstm" else nn.GRU
                bidirectional = bool(s.get("bidirectional", False))
                self.rnn = cls(channels, int(s["size"]), num_layers=n, batch_first=True, bidirectional=bidirectional)
                channels = int(s["size"]) * (2 if bidirectional else 1)
                self._steps.append(("rnn", channels))
                i += n
                continue
            if kind == "conv1d":
                name = f"conv{conv_index}"
                conv_index += 1
                k = int(s["kernel_size"])
                padding = s.get("padding", "same")
                if padding not in ("same", "valid"):
                    raise ValueError(f"conv1d padding {padding!r}")
                setattr(self, name, nn.Conv1d(channels, int(s["size"]), k, padding="same" if padding == "same" else 0))
                channels = int(s["size"])
                self._steps.append(("conv", (name, k, padding, channels)))
            elif kind == "relu":
                self._steps.append(("relu", channels))
            elif kind == "maxpool1d":
                self._steps.append(("maxpool", int(s["pool_size"])))
            elif kind == "transformer":
                layer = nn.TransformerEncoderLayer(channels, int(s["heads"]), int(s["feedforward"]), dropout=0.0,
                                                   activation="relu", layer_norm_eps=1e-5, batch_first=True,
                                                   norm_first=True)
                self.encoder = nn.TransformerEncoder(layer, int(s["layers"]), norm=nn.LayerNorm(channels, eps=1e-5),
                                                     enable_nested_tensor=False)
                self._steps.append(("transformer", channels))
            else:
                raise ValueError(f"unknown encoder layer type {kind!r}")
            i += 1
        self.pooling = config.get("pooling", "attention")
        if self.pooling == "attention":
            self.attention = nn.Linear(channels, 1)
        elif self.pooling not in ("max", "mean", "last"):
            raise ValueError(f"unknown pooling {self.pooling!r}")
        self.pooled_channels = channels
        self._dense: List[str] = []
        for k, size in enumerate(config.get("dense", [])):
            name = f"dense{k}"
            setattr(self, name, nn.Linear(channels, int(size)))
            self._dense.append(name)
            channels = int(size)
        self.fc = nn.Linear(channels, 1)
        # Training only (forward with lengths, in train mode), where the engine applies them:
        # on the embedded tokens and on the pooled vector. No parameters.
        self.embedding_dropout = float(config.get("embedding_dropout", 0.0))
        self.dropout = float(config.get("dropout", 0.0))
        self.keep_embedded, self.embedded = False, None  # adversarial training's hook (forward_padded)
        self.to(dtype)
        self.dtype = dtype
        self.eval()  # no dropout anywhere: inference, as the engine explains
        self._self_attention_inputs: List[torch.Tensor] = []
        self._record_self_attention = False

    # -- loading

    def load_tensors(self, tensors: Dict[str, torch.Tensor]) -> None:
        """load_state_dict(strict=True) by name: every tensor used, every parameter found, shapes equal."""
        state = {name: t.to(self.dtype) for name, t in tensors.items()}
        missing, unexpected = self.load_state_dict(state, strict=True)
        assert not missing and not unexpected

    # -- the forward pass

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        """ids [B, L] -> [B, L, E]; <pad> (id 0) gives zero vectors whatever row 0 of the table holds.
        With an n-gram path the network reads the ids beyond its words as <unk>."""
        network_ids = ids.masked_fill(ids >= self.embedding_words, UNK) if self.ngram_order else ids
        return self.embedding(network_ids) * (ids != PAD).unsqueeze(-1).to(self.dtype)

    def bind_ngrams(self, grams: Sequence[Tuple[int, ...]], first_row: int) -> None:
        """The n-gram path's n-grams: gram i (its word ids) is table row first_row + i."""
        self._ngram_rows = {tuple(g): first_row + i for i, g in enumerate(grams) if len(g) <= self.ngram_order}

    def ngram_shares(self, ids) -> torch.Tensor:
        """One review's ids [L] -> each token's share of the path's logit [L] (zeros without a path):
        every word present (not <pad>; <unk> too) and every listed n-gram of 2..order consecutive
        tokens is a feature; an occurrence of a feature of n tokens gives each of them
        gain * weight / (n * the feature's occurrences), so the shares add up to gain times the
        sum of the weights of the distinct features present (Embedding::forward_ngrams)."""
        ids = [int(i) for i in torch.as_tensor(ids).reshape(-1)]
        shares = torch.zeros(len(ids), dtype=self.dtype)
        if not self.ngram_order:
            return shares
        occurrences = []
        for t, first in enumerate(ids):
            if first == PAD:
                continue
            occurrences.append((first, t, 1))
            for n in range(2, self.ngram_order + 1):
                window = ids[t:t + n]
                if len(window) < n or PAD in window:
                    break
                row = self._ngram_rows.get(tuple(window))
                if row is not None:
                    occurrences.append((row, t, n))
        counts: Dict[int, int] = {}
        for row, _, _ in occurrences:
            counts[row] = counts.get(row, 0) + 1
        weight = self.ngrams.weight.detach().to(self.dtype)[:, 0]
        gain = self.ngrams.gain.detach().to(self.dtype)[0]
        for row, t, n in occurrences:
            shares[t:t + n] += gain * weight[row] / (n * counts[row])
        return shares

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Embedded tokens [B, L, E] -> the encoder's outputs [B, L', C]."""
        for kind, arg in self._steps:
            if kind == "rnn":
                x = self.rnn(x)[0] if x.shape[1] > 0 else x.new_zeros(x.shape[0], 0, arg)
            elif kind == "conv":
                name, k, padding, out_channels = arg
                if x.shape[1] == 0 or (padding == "valid" and x.shape[1] < k):
                    x = x.new_zeros(x.shape[0], 0, out_channels)  # nothing real to convolve
                else:
                    x = getattr(self, name)(x.transpose(1, 2)).transpose(1, 2)
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "maxpool":
                size, steps = arg, x.shape[1]
                if steps > 0:
                    windows = -(-steps // size)  # ceil: a partial last window takes the max of its steps
                    x = F.pad(x.transpose(1, 2), (0, windows * size - steps), value=-math.inf)
                    x = F.max_pool1d(x, size, stride=size).transpose(1, 2)
            elif kind == "transformer":
                steps = x.shape[1]
                x = x * math.sqrt(self.embedding_dim) + sinusoidal_positions(steps, x.shape[2], self.dtype).unsqueeze(0)
                if steps > 0:
                    # With gradients enabled (and parameters that require them) torch runs the
                    # layers' Python definition, never the fused inference fast path
                    # (torch._transformer_encoder_layer_fwd), which would also skip the
                    # self_attn module that self_attention() listens to.
                    with torch.enable_grad():
                        x = self.encoder(x)
        return x

    def pool(self, h: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """[B, L, C] -> ([B, C], attention [B, L] or None); an empty sequence pools to zeros."""
        if h.shape[1] == 0:
            return h.new_zeros(h.shape[0], h.shape[2]), (h.new_zeros(h.shape[0], 0) if self.pooling == "attention" else None)
        if self.pooling == "attention":
            scores = torch.tanh(self.attention(h).squeeze(-1))  # e_t = tanh(w . h_t + b)
            alpha = torch.softmax(scores, dim=1)
            return torch.einsum("bl,blc->bc", alpha, h), alpha
        if self.pooling == "max":
            return h.max(dim=1).values, None
        if self.pooling == "mean":
            return h.mean(dim=1), None
        return h[:, -1, :], None

    def head(self, pooled: torch.Tensor) -> torch.Tensor:
        x = pooled
        for name in self._dense:
            x = torch.relu(getattr(self, name)(x))
        return self.fc(x).squeeze(-1)

    def forward_embedded(self, embedded: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """[B, L, E] -> (logits [B], attention [B, L] or None)."""
        pooled, alpha = self.pool(self.encode(embedded))
        return self.head(pooled), alpha

    # -- padded batches (training, tools/pytorch/train.py)

    @staticmethod
    def _steps_mask(lengths: torch.Tensor, steps: int) -> torch.Tensor:
        """[B, steps]: True at each review's real steps."""
        return torch.arange(steps, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)

    def encode_padded(self, x: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Right-padded embedded reviews [B, L, E] and their lengths [B] -> ([B, L', C], lengths').

        Each review's real steps get exactly what encode() gives it alone (the engine's layers are
        length-aware in the same way): a recurrent layer's reverse direction starts at each review's
        own end (_recurrent_padded); every step past a review's end is zero before
        a convolution (as its own zero padding would be); max pooling ignores those steps; the
        Transformer's attention masks them as keys."""
        def zero_padding(h, n):
            return h * self._steps_mask(n, h.shape[1]).unsqueeze(-1).to(h.dtype)

        x = zero_padding(x, lengths)
        for kind, arg in self._steps:
            if kind == "rnn":
                if x.shape[1] == 0:  # nothing real to run over (as encode())
                    x = x.new_zeros(x.shape[0], 0, arg)
                else:
                    x = zero_padding(self._recurrent_padded(x, lengths), lengths)
            elif kind == "conv":
                name, k, padding, out_channels = arg
                if padding == "valid":
                    lengths = (lengths - (k - 1)).clamp(min=0)
                if x.shape[1] == 0 or (padding == "valid" and x.shape[1] < k):
                    x = x.new_zeros(x.shape[0], 0, out_channels)  # nothing real to convolve (as encode())
                    continue
                x = zero_padding(getattr(self, name)(x.transpose(1, 2)).transpose(1, 2), lengths)
            elif kind == "relu":
                x = torch.relu(x)
            elif kind == "maxpool":
                size, steps = arg, x.shape[1]
                if steps > 0:
                    windows = -(-steps // size)
                    h = x.masked_fill(~self._steps_mask(lengths, steps).unsqueeze(-1), -math.inf)
                    h = F.pad(h.transpose(1, 2), (0, windows * size - steps), value=-math.inf)
                    lengths = torch.div(lengths + size - 1, size, rounding_mode="floor")
                    x = zero_padding(F.max_pool1d(h, size, stride=size).transpose(1, 2).nan_to_num(neginf=0.0), lengths)
            elif kind == "transformer":
                steps = x.shape[1]
                x = x * math.sqrt(self.embedding_dim) + sinusoidal_positions(steps, x.shape[2], self.dtype).to(x.device).unsqueeze(0)
                if steps > 0:
                    x = self.encoder(x, src_key_padding_mask=~self._steps_mask(lengths, steps))
                    x = zero_padding(x, lengths)
        return x, lengths

    def _recurrent_padded(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """self.rnn over a right-padded batch, layer by layer and direction by direction with the
        module's own parameters: the forward direction runs over the padded tensor (padding comes
        after every real step), the reverse one over each review reversed within its length.
        (PyTorch's packed sequences compute the same, but on the CPU their backward pass costs
        time quadratic in the length: a full-size zero tensor per step.)"""
        rnn = self.rnn
        run = torch._VF.lstm if isinstance(rnn, nn.LSTM) else torch._VF.gru
        B, L, _ = x.shape
        steps = torch.arange(L, device=x.device).unsqueeze(0)
        mirrored = lengths.unsqueeze(1) - 1 - steps
        mirror = torch.where(mirrored >= 0, mirrored, steps.expand(B, L))  # an involution; padding stays put

        def flip(h):
            return h.gather(1, mirror.unsqueeze(-1).expand(B, L, h.shape[2]))

        for layer in range(rnn.num_layers):
            outputs = []
            for suffix in ("", "_reverse") if rnn.bidirectional else ("",):
                weights = [getattr(rnn, f"{n}_l{layer}{suffix}") for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
                h0 = x.new_zeros(1, B, rnn.hidden_size)
                state = (h0, h0) if isinstance(rnn, nn.LSTM) else h0
                source = flip(x) if suffix else x
                out = run(source, state, weights, True, 1, 0.0, self.training, False, True)[0]
                outputs.append(flip(out) if suffix else out)
            x = torch.cat(outputs, dim=2)
        return x

    def pool_padded(self, h: torch.Tensor, lengths: torch.Tensor) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """pool() over each review's real steps; a review with none pools to zeros."""
        B, L, C = h.shape
        if L == 0:
            return h.new_zeros(B, C), (h.new_zeros(B, 0) if self.pooling == "attention" else None)
        mask = self._steps_mask(lengths, L)
        empty = (lengths == 0).unsqueeze(-1)
        if self.pooling == "attention":
            scores = torch.tanh(self.attention(h).squeeze(-1)).masked_fill(~mask, -math.inf)
            alpha = torch.softmax(scores, dim=1).nan_to_num(0.0)
            return torch.einsum("bl,blc->bc", alpha, h), alpha
        if self.pooling == "max":
            return h.masked_fill(~mask.unsqueeze(-1), -math.inf).max(dim=1).values.masked_fill(empty, 0.0), None
        if self.pooling == "mean":
            return h.sum(dim=1) / lengths.clamp(min=1).unsqueeze(-1).to(h.dtype), None
        last = h[torch.arange(B, device=h.device), (lengths - 1).clamp(min=0)]
        return last.masked_fill(empty, 0.0), None

    def forward_padded(self, ids: torch.Tensor, lengths: torch.Tensor,
                       perturbation: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """A right-padded batch [B, L] (<pad> = 0 after each review) with lengths [B] -> (logits [B],
        attention [B, L'] or None). In eval mode each row equals forward() on that review alone;
        in train mode dropout applies to the embedded tokens and the pooled vector. `perturbation`
        [B, L, E] is added to the embedded tokens before their dropout (adversarial training, as
        the engine's Classifier::forward does; padding stays zero); with `keep_embedded` set, the
        embedded tokens are kept in `embedded` with their gradient (its direction)."""
        if self.ngram_order:
            raise NotImplementedError("training a model with an n-gram path: join a trained network to an n-gram "
                                      "model with `attnlens join`")
        x = self.embed(ids)
        if self.keep_embedded:
            x.retain_grad()
            self.embedded = x
        if perturbation is not None:
            x = x + perturbation * (ids != PAD).unsqueeze(-1).to(x.dtype)
        if self.training and self.embedding_dropout > 0:
            x = F.dropout(x, self.embedding_dropout, training=True)
        h, lengths = self.encode_padded(x, lengths)
        pooled, alpha = self.pool_padded(h, lengths)
        if self.training and self.dropout > 0:
            pooled = F.dropout(pooled, self.dropout, training=True)
        return self.head(pooled), alpha

    def forward(self, ids, lengths=None, perturbation=None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """ids [L] (one review) or [B, L] (reviews of one length; with `lengths`, a right-padded
        batch: forward_padded, which alone takes a perturbation)."""
        if lengths is not None:
            return self.forward_padded(ids, lengths, perturbation)
        assert perturbation is None, "a perturbation needs the padded batch's lengths"
        ids = torch.as_tensor(ids, dtype=torch.long)
        single = ids.dim() == 1
        logits, alpha = self.forward_embedded(self.embed(ids.unsqueeze(0) if single else ids))
        if self.ngram_order:  # the path's logit beside the network's
            rows = ids.unsqueeze(0) if single else ids
            logits = logits + torch.stack([self.ngram_shares(row).sum() for row in rows]).to(logits.dtype)
        if single:
            return logits[0], (alpha[0] if alpha is not None else None)
        return logits, alpha

    # -- explanations

    def explain(self, ids, method: str, steps: int = 50) -> dict:
        """One review's token scores as `attnlens explain --method METHOD --json` computes them.

        method: "attention" (the pooling's alpha; a Transformer: the self-attention received,
        see received_self_attention), "gradient-x-input" or "integrated-gradients" (zero
        baseline, `steps` Gauss-Legendre points). Returns {logit, probability, scores (numpy
        float64 [L])} and, for integrated gradients, output F(x), baseline_output F(0) and
        completeness_gap |sum scores - (F(x) - F(0))|."""
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(1, -1)
        L = ids.shape[1]
        embedded = self.embed(ids).detach().requires_grad_(True)
        with torch.enable_grad():
            logit, alpha = self.forward_embedded(embedded)
        # An n-gram path's part, per token: linear in its features, so its gradient x input and
        # integrated gradients (from no features) are these shares, as the engine adds them.
        shares = self.ngram_shares(ids[0]).cpu().numpy().astype(np.float64)
        value = float(logit[0]) + float(shares.sum())
        sign = 1.0 if value > 0 else -1.0  # F = the predicted class's logit
        result = {"logit": value, "probability": 1.0 / (1.0 + math.exp(-value))}
        if method == "attention":
            if alpha is not None:
                result["scores"] = alpha[0].detach().cpu().numpy().astype(np.float64)
            elif hasattr(self, "encoder"):
                result["scores"] = self.received_self_attention(ids[0])
            else:
                raise ValueError("this model has no attention to show")
        elif method == "gradient-x-input":
            if L == 0:
                result["scores"] = np.zeros(0)
            else:
                (grad,) = torch.autograd.grad(sign * logit.sum(), embedded)
                result["scores"] = (grad * embedded).sum(-1)[0].detach().cpu().numpy().astype(np.float64) + sign * shares
        elif method == "integrated-gradients":
            nodes, weights = gauss_legendre(steps)
            x = embedded.detach()[0]  # [L, E]; the baseline is zero
            with torch.no_grad():
                baseline_output = sign * float(self.forward_embedded(torch.zeros_like(x).unsqueeze(0))[0][0])
            if L == 0:
                scores = np.zeros(0)
            else:
                # The points in batches (as the engine does): at most 65,536 token columns, and for
                # a Transformer 2^22 attention entries a head.
                chunk = max(1, 65536 // L)
                if hasattr(self, "encoder"):
                    chunk = min(chunk, max(1, (1 << 22) // (L * L)))
                average = torch.zeros_like(x)  # sum_k w_k dF/de at alpha_k x, [L, E]
                for begin in range(0, steps, chunk):
                    alphas = torch.tensor(nodes[begin:begin + chunk], dtype=self.dtype).reshape(-1, 1, 1)
                    path = (alphas * x.unsqueeze(0)).requires_grad_(True)  # [points, L, E]
                    with torch.enable_grad():
                        out, _ = self.forward_embedded(path)
                        (grad,) = torch.autograd.grad(sign * out.sum(), path)
                    w = torch.tensor(weights[begin:begin + chunk], dtype=self.dtype).reshape(-1, 1, 1)
                    average += (w * grad).sum(0)
                scores = (x * average).sum(-1).detach().cpu().numpy().astype(np.float64) + sign * shares
            result.update(scores=scores, output=sign * value, baseline_output=baseline_output,
                          completeness_gap=abs(float(np.sum(scores)) - (sign * value - baseline_output)))
        else:
            raise ValueError(f"unknown method {method!r} (attention, gradient-x-input, integrated-gradients)")
        return result

    def self_attention(self, ids) -> List[torch.Tensor]:
        """A Transformer's attention maps for one review: per layer [heads, L queries, L keys]."""
        if not hasattr(self, "encoder"):
            raise ValueError("this model has no Transformer encoder")
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(1, -1)
        captured: List[torch.Tensor] = []
        hooks = [layer.self_attn.register_forward_hook(lambda m, args, out: captured.append(args[0].detach()))
                 for layer in self.encoder.layers]
        try:
            with torch.no_grad():
                self.forward_embedded(self.embed(ids))
        finally:
            for h in hooks:
                h.remove()
        maps = []
        with torch.no_grad():
            for layer, q in zip(self.encoder.layers, captured):  # q: LayerNorm1(x), the layer's attention input
                _, w = layer.self_attn(q, q, q, need_weights=True, average_attn_weights=False)
                maps.append(w[0])
        return maps

    def received_self_attention(self, ids, layer: int = -1, head: int = -1) -> np.ndarray:
        """The self-attention each token receives (mean over queries; over heads when head = -1),
        as `attnlens classify --explanation attention` shows for a Transformer (default: last layer)."""
        ids = torch.as_tensor(ids, dtype=torch.long).reshape(-1)
        if ids.numel() == 0:
            return np.zeros(0)
        w = self.self_attention(ids)[layer]  # [heads, queries, keys]
        received = w.mean(dim=1)  # [heads, keys]
        received = received.mean(dim=0) if head < 0 else received[head]
        return received.cpu().numpy().astype(np.float64)


def load_classifier(path: str, dtype: torch.dtype = torch.float64) -> Tuple[Classifier, ModelFile]:
    """Reads a classifier file and returns (the PyTorch model with its weights, the parsed file)."""
    file = read_model(path)
    fmt = file.metadata.get("format")
    if fmt is not None and fmt != "attnlens.classifier":
        raise ValueError(f"{path}: format {fmt!r} is not attnlens.classifier")
    model = Classifier(file.config, dtype=dtype)
    model.load_tensors(file.tensors)
    if model.ngram_order:
        if not file.ngrams:
            raise NotImplementedError(f"{path}: an n-gram path whose n-grams are stored as strings (before the compact "
                                      "layout): `attnlens convert` puts them in it")
        model.bind_ngrams(file.ngrams, file.ngram_first)
    return model, file
