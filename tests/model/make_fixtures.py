#!/usr/bin/env python3
"""Builds the model fixtures of deepmr's tests and the expected results, computed by PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/model/make_fixtures.py OUT_DIR [--deepsea | --graphs]
Small fixtures are committed in tests/data/models (regenerate with this script); the full DeepSEA
architecture (211 MB) is generated into the build tree by the test suite (--deepsea), and so are the
graph-reader fixtures (--graphs, below: graph_fixtures).

For each model NAME it writes:
  NAME.pt                the TorchScript file
  NAME.outputs.tsv       sequence, then every output of PyTorch's eval-mode forward
  NAME.effects.tsv       position ref alt output delta: f(m) - f(r) for every mutant (dropout off)
  NAME.mc.tsv            position ref alt output beta se: paired-mask MC dropout, deepmr's masks
                         (Philox4x32-10, below) applied inside PyTorch's own forward
"""
import argparse
import inspect
import os
import sys
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import export_model  # noqa: E402

BASES = "ACGT"


# --- deepmr's dropout masks, written independently of the C++ (model/dropout_masks.hpp) ---------
def philox4x32_10(c0, c1, c2, c3, k0, k1):
    m0, m1 = np.uint64(0xD2511F53), np.uint64(0xCD9E8D57)
    w0, w1 = 0x9E3779B9, 0xBB67AE85
    c0, c1, c2, c3 = (np.asarray(v, dtype=np.uint64) for v in (c0, c1, c2, c3))
    low = np.uint64(0xFFFFFFFF)
    for r in range(10):
        if r:
            k0, k1 = (k0 + w0) & 0xFFFFFFFF, (k1 + w1) & 0xFFFFFFFF
        p0, p1 = m0 * c0, m1 * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & low,
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & low)
    return [c.astype(np.uint32) for c in (c0, c1, c2, c3)]


assert [int(w[0]) for w in philox4x32_10([0], [0], [0], [0], 0, 0)] == [0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8]


def dropout_mask(size, p, seed, region, sample, ordinal):
    blocks = np.arange((size + 3) // 4, dtype=np.uint64)
    words = philox4x32_10(blocks, np.full_like(blocks, sample), np.full_like(blocks, ordinal),
                          np.full_like(blocks, region), seed & 0xFFFFFFFF, seed >> 32)
    u = (np.stack(words, axis=1).reshape(-1)[:size] >> 8).astype(np.float32) * np.float32(2.0 ** -24)
    scale = np.float32(1.0) / np.float32(1.0 - p)
    return np.where(u >= np.float32(p), scale, np.float32(0.0)).astype(np.float32)


# --- forward passes -------------------------------------------------------------------------
def layers_of(module):
    for child in module.children():
        if isinstance(child, nn.Sequential) or getattr(child, "original_name", "") == "Sequential":
            yield from layers_of(child)
        else:
            yield child


def is_dropout(layer):
    return isinstance(layer, nn.Dropout) or getattr(layer, "original_name", "") == "Dropout"


def run_net(net, x, masks):
    """net's own layers in order; dropout layers multiply by the given masks (eval mode otherwise)."""
    ordinal = 0
    for layer in layers_of(net):
        if is_dropout(layer):
            if masks is not None:
                m = torch.from_numpy(masks[ordinal])
                shape = x.shape[1:]
                x = x * m.reshape(shape)
            ordinal += 1
        else:
            x = layer(x)
    return x


def one_hot(seq, alphabet, conv2d):
    x = np.zeros((4, len(seq)), dtype=np.float32)
    for i, b in enumerate(seq):
        x[alphabet.index(b), i] = 1.0
    t = torch.from_numpy(x)
    return t.reshape(4, 1, len(seq)) if conv2d else t


def predict(model, seqs, masks=None):
    """The wrapper's semantics (alphabet, strand averaging) on top of run_net with masks."""
    x = torch.stack([one_hot(s, model.deepmr_alphabet, model.conv2d) for s in seqs])
    with torch.no_grad():
        y = run_net(model.net, x, masks)
        if model.deepmr_reverse_complement:
            rc = torch.flip(torch.index_select(x, 1, model.complement), [x.dim() - 1])
            y = (y + run_net(model.net, rc, masks)) / 2
    return y.reshape(len(seqs), -1).numpy()


def mutants(seq):
    for p, ref in enumerate(seq):
        for alt in BASES:
            if alt != ref:
                yield p, ref, alt, seq[:p] + alt + seq[p + 1:]


def random_sequence(rng, length):
    return "".join(rng.choice(list(BASES), size=length))


def masks_for(model, length, seed, region, sample):
    masks, shapes = [], []
    x = one_hot("A" * length, model.deepmr_alphabet, model.conv2d).unsqueeze(0)
    with torch.no_grad():
        for layer in layers_of(model.net):
            if is_dropout(layer):
                shapes.append((x[0].numel(), float(layer.p)))
            else:
                x = layer(x)
    for ordinal, (size, p) in enumerate(shapes):
        masks.append(dropout_mask(size, p, seed, region, sample, ordinal))
    return masks


# --- fixtures -------------------------------------------------------------------------------
def conv1d_small():
    return nn.Sequential(
        nn.Conv1d(4, 8, 5), nn.ReLU(), nn.MaxPool1d(3), nn.Dropout(0.2),
        nn.Sequential(nn.Conv1d(8, 6, 3), nn.ReLU(), nn.Dropout(0.3)),
        nn.Flatten(), nn.Linear(6 * 16, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 5), nn.Sigmoid()), 60


def kipoi_conv2d():
    return nn.Sequential(
        nn.Conv2d(4, 6, (1, 8)), nn.Threshold(0.0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(6, 8, (1, 8)), nn.Threshold(0.0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(8, 10, (1, 3)), nn.Threshold(0.0, 1e-6), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(10 * 3, 12), nn.Threshold(0.0, 1e-6), nn.Linear(12, 7), nn.Sigmoid()), 120


def batchnorm_elu():
    net = nn.Sequential(
        nn.Conv1d(4, 8, 7, padding=3), nn.BatchNorm1d(8), nn.ELU(0.7), nn.AvgPool1d(2), nn.Dropout(0.1),
        nn.Conv1d(8, 8, 3, dilation=2), nn.BatchNorm1d(8), nn.ReLU(),
        nn.Flatten(), nn.Linear(8 * 21, 10), nn.Dropout(0.2), nn.BatchNorm1d(10), nn.Linear(10, 4), nn.Sigmoid())
    for m in net.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    return net, 50


def identical_bases():
    net, length = conv1d_small()
    with torch.no_grad():
        net[0].weight[:, 1, :] = net[0].weight[:, 0, :]  # C behaves exactly like A
    return net, length


def scale_weights(net, gain):
    """Larger weights than PyTorch's default init, so that outputs move visibly under mutation."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear)):
                m.weight.mul_(gain)
    return net


def write_expected(model, name, length, out_dir, rng, outputs_for_effects, seed=7, region=3, samples=3):
    seqs = [random_sequence(rng, length) for _ in range(4)]
    y = predict(model, seqs)
    with open(os.path.join(out_dir, name + ".outputs.tsv"), "w") as f:
        for s, row in zip(seqs, y):
            f.write(s + "\t" + "\t".join(repr(float(v)) for v in row) + "\n")
    ref = seqs[0]
    muts = list(mutants(ref))
    all_seqs = [ref] + [m[3] for m in muts]
    base = predict(model, all_seqs)
    with open(os.path.join(out_dir, name + ".effects.tsv"), "w") as f:
        for i, (p, r, a, _) in enumerate(muts):
            for o in outputs_for_effects:
                f.write(f"{p}\t{r}\t{a}\t{o}\t{float(base[i + 1, o]) - float(base[0, o])!r}\n")
    sums = np.zeros((len(muts), len(outputs_for_effects)))
    sums2 = np.zeros_like(sums)
    for n in range(samples):
        y = predict(model, all_seqs, masks_for(model, length, seed, region, n)).astype(np.float64)
        d = y[1:, outputs_for_effects] - y[0, outputs_for_effects]
        sums += d
        sums2 += d * d
    beta = sums / samples
    se = np.sqrt(np.maximum(0.0, sums2 / samples - beta * beta))
    with open(os.path.join(out_dir, name + ".mc.tsv"), "w") as f:
        f.write(f"# seed {seed} region {region} samples {samples}\n")
        for i, (p, r, a, _) in enumerate(muts):
            for j, o in enumerate(outputs_for_effects):
                f.write(f"{p}\t{r}\t{a}\t{o}\t{beta[i, j]!r}\t{se[i, j]!r}\n")


# --- graph-reader fixtures (--graphs): models beyond a Sequential (issue 16) --------------------
# Each NAME.pt comes with NAME.graph_outputs.tsv: one line per input sequence and output tensor,
# "sequence <tab> output name <tab> values...", the values of the float64 evaluation of the same
# module (PyTorch, eval mode) in row-major order; the output name is "" for a lone tensor, the index
# in a tuple or list, the key in a dict. The last sequence has an N: NaN in every channel there.
# graphs.tsv lists NAME, input length, input layout; refusals.tsv the refused models with the op,
# submodule, its type and the source line their message must name.
class BPNetLike(nn.Module):
    """A dilated residual tower, a transposed-conv profile head and a counts head (global mean)."""

    def __init__(self, channels: int = 8, layers: int = 3):
        super().__init__()
        self.iconv = nn.Conv1d(4, channels, 11, padding=5)
        self.rconvs = nn.ModuleList(
            [nn.Conv1d(channels, channels, 3, dilation=2 ** i, padding=2 ** i) for i in range(1, layers + 1)])
        self.profile = nn.ConvTranspose1d(channels, 2, 9, padding=4)
        self.counts = nn.Linear(channels, 2)

    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        x = F.relu(self.iconv(x))
        for conv in self.rconvs:
            x = x + F.relu(conv(x))
        return self.profile(x), self.counts(x.mean(dim=2))


class BPNetDropout(nn.Module):
    """BPNet-like with three dropout sites (MC dropout), a sigmoid counts head and its input length
    as metadata; the first conv reads G and T with identical weights (paired-mask test: G <-> T
    substitutions change nothing under any mask)."""

    deepmr_input_length: int

    def __init__(self, channels: int = 8):
        super().__init__()
        self.iconv = nn.Conv1d(4, channels, 11, padding=5)
        self.drop0 = nn.Dropout(0.2)
        self.rconv1 = nn.Conv1d(channels, channels, 3, dilation=2, padding=2)
        self.drop1 = nn.Dropout(0.3)
        self.rconv2 = nn.Conv1d(channels, channels, 3, dilation=4, padding=4)
        self.drop2 = nn.Dropout(0.3)
        self.profile = nn.ConvTranspose1d(channels, 2, 9, padding=4)
        self.counts = nn.Linear(channels, 2)
        self.deepmr_input_length = 64
        with torch.no_grad():
            self.iconv.weight[:, 3] = self.iconv.weight[:, 2]  # ACGT: T reads as G

    def forward(self, x) -> Tuple[torch.Tensor, torch.Tensor]:
        x = self.drop0(F.relu(self.iconv(x)))
        x = x + self.drop1(F.relu(self.rconv1(x)))
        x = x + self.drop2(F.relu(self.rconv2(x)))
        return self.profile(x), torch.sigmoid(self.counts(x.mean(dim=2)))

    def masked(self, x, masks):
        """forward with dropout site k multiplying by masks[k] (deepmr's MC dropout)."""
        m = [torch.from_numpy(v) for v in masks]
        x = F.relu(self.iconv(x))
        x = x * m[0].reshape(x.shape[1:])
        x = x + F.relu(self.rconv1(x)) * m[1].reshape(x.shape[1:])
        x = x + F.relu(self.rconv2(x)) * m[2].reshape(x.shape[1:])
        return self.profile(x), torch.sigmoid(self.counts(x.mean(dim=2)))


class BassetLike(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(4, 8, 7, padding=3), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(3),
            nn.Conv1d(8, 12, 5, padding=2), nn.BatchNorm1d(12), nn.ReLU(), nn.MaxPool1d(2),
            nn.Conv1d(12, 12, 3, padding=1), nn.BatchNorm1d(12), nn.ReLU(), nn.MaxPool1d(2))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Linear(12 * 10, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 5), nn.Sigmoid())

    def forward(self, x):
        return self.head(self.body(x))


class BassetDropout(nn.Module):
    """Basset-like with a dropout site between the flatten and the first linear layer (the
    incremental engine's linear layer on differences reads that site's mask), another in the head,
    and a first conv reading G and T with identical weights (paired masks: G <-> T substitutions
    change nothing under any mask)."""

    deepmr_input_length: int

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(4, 8, 7, padding=3), nn.BatchNorm1d(8), nn.ReLU(), nn.MaxPool1d(3),
            nn.Conv1d(8, 12, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2))
        self.head = nn.Sequential(
            nn.Flatten(), nn.Dropout(0.2), nn.Linear(12 * 20, 16), nn.ReLU(), nn.Dropout(0.3), nn.Linear(16, 5),
            nn.Sigmoid())
        self.deepmr_input_length = 120
        with torch.no_grad():
            self.body[0].weight[:, 3] = self.body[0].weight[:, 2]  # ACGT: T reads as G

    def forward(self, x):
        return self.head(self.body(x))


class ResNetLike(nn.Module):
    """Two branches concatenated along channels, batch norm, a residual add, a crop, a view."""

    def __init__(self, c: int = 8):
        super().__init__()
        self.stem = nn.Conv1d(4, c, 5, padding="same")
        self.a = nn.Conv1d(c, c, 3, padding=1)
        self.b = nn.Conv1d(c, c, 5, padding=2, groups=4)
        self.bn = nn.BatchNorm1d(2 * c)
        self.proj = nn.Conv1d(2 * c, c, 1)
        self.pool = nn.AvgPool1d(2)
        self.fc = nn.Linear(c * 26, 3)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        y = torch.cat([self.a(x), F.elu(self.b(x))], dim=1)
        y = self.proj(F.gelu(self.bn(y)))
        x = x + y
        x = x[:, :, 4:-4]
        x = self.pool(x)
        x = x.view(x.size(0), -1)
        return F.log_softmax(self.fc(x), dim=1)


class DictHeads(nn.Module):
    """A dict of outputs: global max, logsumexp, softplus, constants, exp, tanh, a crop."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 7, padding="valid", stride=2)
        self.act = nn.Softplus()
        self.fc = nn.Linear(8, 4)
        self.drop = nn.Dropout(0.1)

    def forward(self, x) -> Dict[str, torch.Tensor]:
        h = self.drop(self.act(self.conv(x)))
        g = h.max(dim=2)[0]
        lse = torch.logsumexp(h, dim=2)
        return {"prob": torch.sigmoid(self.fc(g) * 2.0 - 1.0),
                "soft": torch.softmax(lse / 3.0, dim=1),
                "tanh": torch.tanh(torch.exp(-h[:, :, 1:5]))}


class Conv2dPitfalls(nn.Module):
    """Kipoi's N x 4 x 1 x L layout, in-place ops, a threshold, 'same' with an even kernel, ifs."""

    use_extra: bool

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 8, (1, 5))
        self.act = nn.ReLU(inplace=True)
        self.thr = nn.Threshold(0.0, 1e-6)
        self.conv2 = nn.Conv1d(8, 8, 4, padding="same")
        self.use_extra = True

    def forward(self, x):
        x = self.act(self.conv(x))
        x = self.thr(x).squeeze(2)
        y = self.conv2(x)
        y += x
        y = F.relu_(y)
        if self.use_extra:
            y = y * 0.5
        if y.size(2) > 10:
            y = y[:, :, :10]
        return torch.flatten(y, 1)


class SortHead(nn.Module):
    def forward(self, x):
        return torch.sort(x, dim=2)[0]  # unsupported: aten::sort


class Unsupported(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3)
        self.head = SortHead()

    def forward(self, x):
        return self.head(self.conv(x)).flatten(1)


class UnsupportedLstm(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 8, 3)
        self.tower = nn.Sequential(nn.Identity(), nn.Identity(), nn.LSTM(18, 8, batch_first=True))

    def forward(self, x):
        out, _ = self.tower(self.conv(x))  # the LSTM reads channels as time
        return out


def source_line(obj, text):
    """'make_fixtures.py:N' for the line of obj's source holding text."""
    lines, first = inspect.getsourcelines(obj)
    for i, line in enumerate(lines):
        if text in line:
            return f"{os.path.basename(__file__)}:{first + i}"
    raise ValueError(text)


def randomize_batch_norm(module):
    for m in module.modules():
        if isinstance(m, nn.BatchNorm1d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)


def named_outputs(y, name=""):
    if isinstance(y, torch.Tensor):
        yield name, y
    elif isinstance(y, dict):
        for k, v in y.items():
            yield from named_outputs(v, k if not name else name + "." + k)
    else:
        for i, v in enumerate(y):
            yield from named_outputs(v, str(i) if not name else f"{name}.{i}")


def graph_one_hot(seq, conv2d):
    """One-hot in ACGT order; an N is NaN in every channel (NaN propagation as PyTorch does it)."""
    x = one_hot(seq.replace("N", "A"), BASES, conv2d).reshape(4, len(seq)).clone()
    for i, b in enumerate(seq):
        if b == "N":
            x[:, i] = float("nan")
    return x.reshape(4, 1, len(seq)) if conv2d else x


def bpnet_dropout_masked(out_dir, rng, module):
    """bpnet_dropout.masked_outputs.tsv: "sample <tab> sequence <tab> values...", the float64
    outputs (profile then counts, flattened) under deepmr's masks of seed 7, region 3, samples 0-2
    (the sites in forward order, each of its input's shape per example)."""
    module = module.double().eval()
    seqs = [random_sequence(rng, 64) for _ in range(2)]
    x = torch.stack([graph_one_hot(s, False) for s in seqs]).double()
    with open(os.path.join(out_dir, "bpnet_dropout.masked_outputs.tsv"), "w") as f:
        for sample in range(3):
            masks = [dropout_mask(8 * 64, p, 7, 3, sample, k) for k, p in enumerate((0.2, 0.3, 0.3))]
            masks = [m.astype(np.float64) for m in masks]
            with torch.no_grad():
                profile, counts = module.masked(x, masks)
            for i, s in enumerate(seqs):
                values = torch.cat([profile[i].reshape(-1), counts[i].reshape(-1)])
                f.write(f"{sample}\t{s}\t" + "\t".join(repr(float(v)) for v in values) + "\n")
    module.float()


def graph_fixtures(out_dir, rng):
    torch.manual_seed(16)
    specs = [  # name, module, length, conv2d layout, exports
        ("bpnet", BPNetLike(), 100, False, ("scripted", "traced")),
        ("basset", BassetLike(), 120, False, ("scripted", "traced")),
        ("resnet", ResNetLike(), 60, False, ("scripted", "traced")),
        ("dict_heads", DictHeads(), 50, False, ("scripted", "traced")),
        ("conv2d_pitfalls", Conv2dPitfalls(), 40, True, ("scripted", "traced")),
    ]
    manifest = []

    def write(name, module, length, conv2d, exports):
        randomize_batch_norm(module)
        module.eval()
        seqs = [random_sequence(rng, length) for _ in range(3)]
        seqs.append(seqs[0][:length // 2] + "N" + seqs[0][length // 2 + 1:])  # NaN in every channel
        x = torch.stack([graph_one_hot(s, conv2d) for s in seqs])
        variants = [(f"{name}_{e}", module, e) for e in exports]
        variants.append((f"{name}_float64_scripted", module, "scripted"))  # saved as a float64 module
        for file_name, m, how in variants:
            m = m.double() if file_name.endswith("float64_scripted") else m.float()
            if how == "scripted":
                saved = torch.jit.script(m)
            else:
                saved = torch.jit.trace(m, x.float(), strict=False)
            saved.save(os.path.join(out_dir, file_name + ".pt"))
            with torch.no_grad():
                y = m.double()(x.double())  # PyTorch's float64 evaluation of the same module
            m.float()
            with open(os.path.join(out_dir, file_name + ".graph_outputs.tsv"), "w") as f:
                for i, s in enumerate(seqs):
                    for out_name, t in named_outputs(y):
                        f.write(s + "\t" + out_name + "\t" + "\t".join(repr(float(v)) for v in t[i].reshape(-1)) + "\n")
            manifest.append(f"{file_name}\t{length}\t{'conv2d' if conv2d else 'conv1d'}\n")

    for spec in specs:
        write(*spec)


    # Refused models, with the op, submodule and line their message must name.
    torch.jit.script(Unsupported().eval()).save(os.path.join(out_dir, "unsupported_sort.pt"))
    torch.jit.trace(Unsupported().eval(), torch.zeros(1, 4, 20)).save(os.path.join(out_dir, "unsupported_sort_traced.pt"))
    torch.jit.script(UnsupportedLstm().eval()).save(os.path.join(out_dir, "unsupported_lstm.pt"))
    sort_line = source_line(SortHead, "torch.sort")
    with open(os.path.join(out_dir, "refusals.tsv"), "w") as f:
        f.write(f"unsupported_sort\taten::sort\thead\tSortHead\t{sort_line}\n")
        f.write(f"unsupported_sort_traced\taten::sort\thead\tSortHead\t{sort_line}\n")
        f.write(f"unsupported_lstm\t\ttower.2\tLSTM\t{source_line(UnsupportedLstm.forward, 'self.tower(')}\n")

    # Made last (its own seed), so that the fixtures above stay as they were: MC dropout on a graph.
    torch.manual_seed(17)
    dropout_model = BPNetDropout()
    write("bpnet_dropout", dropout_model, 64, False, ("scripted",))
    bpnet_dropout_masked(out_dir, rng, dropout_model)
    # Made after it (its own seed): a dropout site between a flatten and a linear layer.
    torch.manual_seed(18)
    write("basset_dropout", BassetDropout(), 120, False, ("scripted",))
    # BPNet's geometry (issue 16, item 8): 1000 bp, 9 dilated residual layers (dilations 2..512, the
    # last ones reaching the whole window), few channels so that the tests stay quick.
    torch.manual_seed(19)
    write("bpnet_1000", BPNetLike(channels=4, layers=9), 1000, False, ("scripted",))
    with open(os.path.join(out_dir, "graphs.tsv"), "w") as f:
        f.writelines(manifest)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--deepsea", action="store_true", help="only the full DeepSEA architecture")
    parser.add_argument("--graphs", action="store_true", help="only the graph-reader fixtures")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(20201)

    if args.graphs:
        graph_fixtures(args.out_dir, np.random.default_rng(16))
        return

    if args.deepsea:
        torch.manual_seed(11)
        net = export_model.deepsea_layers()
        model = export_model.wrap(net, "AGCT", True, 1000, [])
        model.save(os.path.join(args.out_dir, "deepsea.pt"))
        seqs = [random_sequence(rng, 1000) for _ in range(3)]
        y = predict(model, seqs)
        with open(os.path.join(args.out_dir, "deepsea.outputs.tsv"), "w") as f:
            for s, row in zip(seqs, y):
                f.write(s + "\t" + "\t".join(repr(float(v)) for v in row) + "\n")
        return

    torch.manual_seed(5)
    specs = [
        ("conv1d_small", conv1d_small, "ACGT", False, [0, 3]),
        ("kipoi_conv2d", kipoi_conv2d, "AGCT", True, [1, 6]),
        ("batchnorm_elu", batchnorm_elu, "ACGT", False, [0, 2]),
        ("identical_bases", identical_bases, "ACGT", False, [0, 4]),
    ]
    for name, build, alphabet, rc, outs in specs:
        net, length = build()
        scale_weights(net, 3.0)
        model = export_model.wrap(net, alphabet, rc, length, [f"{name}|out{i}" for i in range(
            net[-2].out_features)])
        model.save(os.path.join(args.out_dir, name + ".pt"))
        write_expected(model, name, length, args.out_dir, rng, outs)

    # The same small network traced (no constants in the file, no metadata, no wrapper).
    net, length = conv1d_small()
    scale_weights(net, 3.0)
    torch.jit.trace(net.eval(), torch.zeros(1, 4, length)).save(os.path.join(args.out_dir, "traced_conv1d.pt"))
    plain = export_model.wrap(net, "ACGT", False, length, [])
    write_expected(plain, "traced_conv1d", length, args.out_dir, rng, [0, 3])

    # Models deepmr must refuse.
    torch.jit.script(nn.Sequential(nn.Conv1d(4, 4, 3), nn.GELU(), nn.Flatten(), nn.Linear(4 * 8, 2))).save(
        os.path.join(args.out_dir, "unsupported_layer.pt"))
    torch.jit.script(nn.Sequential(nn.Conv1d(6, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8, 2))).save(
        os.path.join(args.out_dir, "six_channels.pt"))

    class TwoBranches(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Conv1d(4, 2, 3)
            self.b = nn.Conv1d(4, 2, 5)

        def forward(self, x):
            return self.a(x)[:, :, :6].sum(2) + self.b(x)[:, :, :6].sum(2)

    torch.jit.script(TwoBranches()).save(os.path.join(args.out_dir, "two_branches.pt"))


if __name__ == "__main__":
    main()
