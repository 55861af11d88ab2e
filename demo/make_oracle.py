#!/usr/bin/env python3
"""Builds deepmr's oracle model: a TorchScript model whose two outcomes are exact linear functions of its
exposures, y = c + sum_k gamma_k x_k (ACC) and y' = c' + sum_k gamma'_k x_k (MARK), with Monte Carlo
dropout in the exposure branch, so that Deep MR's answer is known in closed form for every (exposure,
outcome) pair (docs/validation.md).

The network: one-hot ACGT input of L = 66 bases -> Conv1d(4, 4, 3) -> ReLU -> Dropout(0.5) -> Flatten
-> Linear(256, K + 2), no final activation. The 64 convolution positions form K = 3 blocks
[22k, 22k + 20) (positions 20, 21, 42, 43 have zero weight), so exposure x_k reads input bases
[22k, 22k + 22) only and the blocks of input bases are disjoint. An outcome's row of the last layer is
sum_k gamma_k (row of x_k) and its bias c + sum_k gamma_k b_k (MARK's with gamma' and c'; its row is
computed after ACC's from the same draws, so ACC is what it was with one outcome, bit for bit). Hence, for every dropout mask and every
sequence, y = c + sum_k gamma_k x_k, and for a mutant in block k under sample n,
d_y = gamma_k d_{x_k} while d_{x_j} = 0 for j != k.

All weights, biases and the gammas are dyadic numbers with few bits (multiples of 1/8, 1/16, 1/4) and the
dropout scale is 1 / (1 - 0.5) = 2, so every sum the model computes is exact in float32, in any order:
the identity holds bit for bit in deepmr's kernels as in PyTorch, and the Egger slope of every
(exposure, region) is gamma_k up to double rounding (about 1e-15).

Writes (OUT defaults to demo/oracle/): oracle.pt, targets.txt, TF1.bed, TF2.bed, TF3.bed (regions on the
shipped hg38 chr22 excerpt, 4 per exposure), gammas.tsv. Run it with configs/oracle.ini.

Usage: /usr/bin/python3 demo/make_oracle.py [--seed 7] [--out demo/oracle]
"""
import argparse
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
from export_model import wrap  # noqa: E402

LENGTH = 66
CHANNELS = 4
KERNEL = 3
POSITIONS = LENGTH - KERNEL + 1  # 64
BLOCK = 22                       # conv positions per block, the last KERNEL - 1 of them unused
GAMMAS = [0.75, -1.25, 2.5]      # planted effects of TF1, TF2, TF3 on ACC
INTERCEPT = 0.25                 # c
SECOND_GAMMAS = [-0.5, 0.375, 1.5]  # ... and on MARK, the second outcome (none 0: by = byse = 0 has no fit)
SECOND_INTERCEPT = 0.125         # c'
NAMES = ["TF1", "TF2", "TF3", "ACC", "MARK"]
EXPOSURES = len(GAMMAS)
REGIONS_PER_EXPOSURE = 4


def block_of_input(position):
    """The exposure whose block holds input base `position` (every base belongs to one block)."""
    return position // BLOCK


def build(seed):
    generator = torch.Generator().manual_seed(seed)

    def dyadic(shape, low, high, denominator):
        return torch.randint(low, high + 1, shape, generator=generator).float() / denominator

    conv = nn.Conv1d(4, CHANNELS, KERNEL)
    linear = nn.Linear(CHANNELS * POSITIONS, len(NAMES))
    with torch.no_grad():
        conv.weight.copy_(dyadic(conv.weight.shape, -8, 8, 8))
        conv.bias.copy_(dyadic(conv.bias.shape, -2, 4, 8))
        weight = torch.zeros(len(NAMES), CHANNELS, POSITIONS)
        bias = torch.zeros(len(NAMES))
        acc, mark = EXPOSURES, EXPOSURES + 1
        for k, gamma in enumerate(GAMMAS):
            lo, hi = BLOCK * k, BLOCK * k + BLOCK - (KERNEL - 1)
            weight[k, :, lo:hi] = dyadic((CHANNELS, hi - lo), -8, 8, 16)
            bias[k] = dyadic((), -8, 8, 16)
            weight[acc] += gamma * weight[k]
            bias[acc] += gamma * bias[k]
        bias[acc] += INTERCEPT
        for k, gamma in enumerate(SECOND_GAMMAS):
            weight[mark] += gamma * weight[k]
            bias[mark] += gamma * bias[k]
        bias[mark] += SECOND_INTERCEPT
        linear.weight.copy_(weight.reshape(len(NAMES), -1))  # Flatten is channel-major: c * 64 + p
        linear.bias.copy_(bias)
    return nn.Sequential(conv, nn.ReLU(), nn.Dropout(0.5), nn.Flatten(), linear)


def self_check(net):
    """y = c + sum gamma_k x_k bit for bit under random dropout masks, and blocks are disjoint."""
    generator = torch.Generator().manual_seed(1)
    codes = torch.randint(0, 4, (256, LENGTH), generator=generator)
    x = torch.nn.functional.one_hot(codes, 4).permute(0, 2, 1).float()
    net.train()  # PyTorch's own dropout: a different mask per row, which the identity does not care about
    torch.manual_seed(2)
    with torch.no_grad():
        out = net(x)
    net.eval()
    exposures = out[:, :EXPOSURES].double()
    for column, intercept, gammas in ((EXPOSURES, INTERCEPT, GAMMAS), (EXPOSURES + 1, SECOND_INTERCEPT, SECOND_GAMMAS)):
        outcome = out[:, column].double()
        expected = intercept + exposures @ torch.tensor(gammas, dtype=torch.float64)
        if not torch.equal(outcome, expected):
            raise SystemExit(f"make_oracle.py: {NAMES[column]} != c + sum gamma x "
                             f"(max {float((outcome - expected).abs().max())})")
    with torch.no_grad():  # a substitution in block k moves x_k only
        reference = net(x[:1])
        for position in range(LENGTH):
            mutant = x[:1].clone()
            mutant[0, :, position] = torch.roll(mutant[0, :, position], 1)
            moved = (net(mutant) - reference)[0, :EXPOSURES] != 0
            if any(moved[j] for j in range(len(GAMMAS)) if j != block_of_input(position)):
                raise SystemExit(f"make_oracle.py: a mutant at {position} moves another block's exposure")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default=os.path.join(HERE, "oracle"))
    args = parser.parse_args(argv)

    net = build(args.seed)
    self_check(net)
    os.makedirs(args.out, exist_ok=True)
    wrap(net, "ACGT", False, LENGTH, NAMES).save(os.path.join(args.out, "oracle.pt"))
    with open(os.path.join(args.out, "targets.txt"), "w") as f:
        f.write("".join(n + "\n" for n in NAMES))
    with open(os.path.join(args.out, "gammas.tsv"), "w") as f:
        f.write("exposure\tgamma\tinput_block_start\tinput_block_end\tgamma_MARK\n")
        for k, gamma in enumerate(GAMMAS):
            f.write(f"{NAMES[k]}\t{gamma}\t{BLOCK * k}\t{BLOCK * (k + 1)}\t{SECOND_GAMMAS[k]}\n")
        f.write(f"# outcome ACC = {INTERCEPT} + sum gamma_k x_k; outcome MARK = {SECOND_INTERCEPT} + sum gamma_MARK_k x_k\n")
    # Regions: windows of the shipped hg38 chr22 excerpt (no N), distinct per exposure.
    for k, name in enumerate(NAMES[:EXPOSURES]):
        with open(os.path.join(args.out, f"{name}.bed"), "w") as f:
            for r in range(REGIONS_PER_EXPOSURE):
                start = 10000 + 25000 * (REGIONS_PER_EXPOSURE * k + r)
                f.write(f"chr22\t{start}\t{start + LENGTH}\t{name}_region{r}\n")
    print(f"wrote {args.out}/oracle.pt: ACC = {INTERCEPT} + " +
          " + ".join(f"{g} {n}" for g, n in zip(GAMMAS, NAMES)) + f", MARK = {SECOND_INTERCEPT} + " +
          " + ".join(f"{g} {n}" for g, n in zip(SECOND_GAMMAS, NAMES)) + f", L = {LENGTH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
