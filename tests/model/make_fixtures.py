#!/usr/bin/env python3
"""Builds the model fixtures of deepmr's tests and the expected results, computed by PyTorch.

Run with Debian's python3-torch:  /usr/bin/python3 tests/model/make_fixtures.py OUT_DIR [--deepsea]
Small fixtures are committed in tests/data/models (regenerate with this script); the full DeepSEA
architecture (211 MB) is generated into the build tree by the test suite (--deepsea).

For each model NAME it writes:
  NAME.pt                the TorchScript file
  NAME.outputs.tsv       sequence, then every output of PyTorch's eval-mode forward
  NAME.effects.tsv       position ref alt output delta: f(m) - f(r) for every mutant (dropout off)
  NAME.mc.tsv            position ref alt output beta se: paired-mask MC dropout, deepmr's masks
                         (Philox4x32-10, below) applied inside PyTorch's own forward
"""
import argparse
import os
import sys

import numpy as np
import torch
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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out_dir")
    parser.add_argument("--deepsea", action="store_true", help="only the full DeepSEA architecture")
    args = parser.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    rng = np.random.default_rng(20201)

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
