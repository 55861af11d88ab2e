#!/usr/bin/env python3
"""Simulates deepmr's demo data from a planted causal model (docs/simulation.md).

Windows of L bases get real human background sequence (hg38 chr22 excerpt) or generated background
(a 3rd-order Markov chain fitted on the excerpt), JASPAR motifs planted at random, TF binding from
motif occupancy, and accessibility from binding with planted per-TF causal effects, an unobserved
confounder acting on binding and accessibility, and a pleiotropic path (a poly(dA:dT) tract that
opens chromatin directly and helps GABPA bind). Seeded and deterministic: the same seed and
parameters give the same bytes.

Writes (OUT defaults to demo/):
  data/genome.fa, data/genome.fa.fai   the held-out chromosome `chrsim` (real background), for deepmr
  data/peaks/<TF>.narrowPeak          windows of chrsim where TF k is bound (B_k = 1)
  data/accessibility.narrowPeak       windows of chrsim that are accessible (A = 1)
  data/windows.tsv                    every chrsim window: its labels and the simulator's truth
  data/sites.bed                      the planted sites of chrsim
  data/planted.tsv                    per TF: motif, role, planted effect gamma_k
  data/simulation.json                every parameter and summary counts
  work/train.npz, work/valid.npz      training and validation windows (not shipped; regenerated)

Usage: /usr/bin/python3 demo/simulate.py [--seed 20240611] [--out demo] [--train 60000]
Needs numpy (Debian's python3-numpy).
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASES = "ACGT"
COMPLEMENT = np.array([3, 2, 1, 0], dtype=np.int64)  # A<->T, C<->G in ACGT order

# The planted model. gamma is the causal effect of TF k's binding on accessibility, on the model's
# output scale: d P(A = 1 | s) / d P(B_k = 1 | s) (docs/simulation.md).
TFS = [
    # name,    JASPAR id,  role,         gamma
    ("FOXA1", "MA0148.5", "activator", 0.25),
    ("HNF4A", "MA0114.5", "activator", 0.20),
    ("CEBPB", "MA0466.4", "activator", 0.15),
    ("HNF1A", "MA0046.3", "activator", 0.10),
    ("GABPA", "MA0062.4", "activator, pleiotropic", 0.15),
    ("REST", "MA0138.3", "repressor", -0.25),
    ("ZBTB33", "MA0527.2", "repressor", -0.15),
    ("CTCF", "MA0139.2", "null", 0.0),
]
OUTCOME = "DNase"

# The network variant (--network; docs/simulation.md, "The network demo"): planted TF -> TF edges
# and a second outcome. An edge's child binds with probability
#   clip(q_c (1 - kappa + kappa U) (1 + multiplier B_p) + added B_p, 0, 1)
# given its parent's binding B_p in the same cell: FOXA1 recruits HNF4A (added 0.30), REST keeps
# CEBPB off (multiplier -0.6). The second outcome, an H3K27ac-like mark, is drawn per cell like
# accessibility, with its own effects (REST a repressor with a negative one) and no tract effect.
EDGES = [
    # parent,  child,   added, multiplier
    ("FOXA1", "HNF4A", 0.30, 0.0),
    ("REST", "CEBPB", 0.0, -0.6),
]
SECOND_OUTCOME = "H3K27ac"
SECOND_GAMMA = {"FOXA1": 0.10, "HNF4A": 0.20, "CEBPB": 0.25, "HNF1A": 0.0, "GABPA": 0.15, "REST": -0.30,
                "ZBTB33": 0.0, "CTCF": 0.0}
SECOND_PARAMETERS = {"baseline_mark": 0.30, "confounder_on_mark": 0.15}

PARAMETERS = {
    "window_length": 200,          # L: one window = one simulated region = one model input
    "pseudo_weight": 0.03,         # PWM probabilities: (1 - w) * frequency + w / 4
    "threshold_offset": 1.5,       # mu_k: at least the median score of planted sites minus this (nats)
    "background_quantile": 0.97,   # ... and at least this quantile of the best site score of a background window
    "calibration_windows": 5000,   # generated background windows used for the latter
    "plant_probability": 0.25,     # each TF's motif is planted in a window with this probability
    "site_sharpness": 2.0,         # planted sites are drawn from the matrix's probabilities to this power
    "second_site_probability": 0.25,  # ... and a second site given a first
    "tract_length": 11,            # the poly(dA:dT) tract (pleiotropic motif P)
    "tract_purity": 0.92,          # P(A) at each tract position when planted / scored
    "tract_threshold": 10.5,       # mu_P in nats (an 11-bp pure A run scores 14.3)
    "tract_with_gabpa": 0.8,       # probability of a tract planted 3-20 bp beside a GABPA site (tried twice)
    "tract_alone": 0.15,           # probability of a tract planted in a window on its own
    "cooperativity": 0.5,          # c: nats the tract adds to GABPA's site scores (times m_P)
    "confounder_on_binding": 0.8,  # kappa: P(B_k = 1 | s, U) = q_k(s) (1 - kappa + kappa U)
    "baseline_accessibility": 0.32,  # a0
    "direct_tract_effect": 0.22,   # delta: accessibility added by the tract, directly
    "confounder_on_accessibility": 0.20,  # lambda: accessibility added by U - 1/2
    "cells": 256,                  # cells a bulk assay averages over (accessibility signal)
    "real_background_fraction": 0.5,  # training windows with real (not generated) background
    "markov_order": 3,
    "test_background": [0, 200000],   # hg38 excerpt bases that become chrsim
    "train_background": [200000, 300000],  # hg38 excerpt bases training windows draw on
}


def read_jaspar(path):
    """{matrix id: (name, counts as a w x 4 array in ACGT order)} from a JASPAR-format file."""
    motifs, current, rows = {}, None, {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith(">"):
                if current:
                    motifs[current[0]] = (current[1], np.array([rows[b] for b in BASES], dtype=float).T)
                parts = line[1:].split()
                current, rows = (parts[0], parts[1] if len(parts) > 1 else parts[0]), {}
                continue
            base, _, values = line.partition("[")
            rows[base.strip()] = [float(v) for v in values.rstrip("]").split()]
    if current:
        motifs[current[0]] = (current[1], np.array([rows[b] for b in BASES], dtype=float).T)
    return motifs


def read_fasta_record(path):
    with open(path) as f:
        return "".join(line.strip() for line in f if not line.startswith(">")).upper()


def encode(text):
    lookup = np.full(256, 255, dtype=np.uint8)
    for i, b in enumerate(BASES):
        lookup[ord(b)] = i
    codes = lookup[np.frombuffer(text.encode(), dtype=np.uint8)]
    if np.any(codes == 255):
        raise SystemExit("simulate.py: background holds a base other than A, C, G, T")
    return codes


def decode(codes):
    return np.frombuffer(b"ACGT", dtype=np.uint8)[codes].tobytes().decode()


class Pwm:
    """A log-odds position weight matrix (nats, uniform background) scanned on both strands."""

    def __init__(self, name, probabilities, threshold=None):
        self.name = name
        self.p = probabilities
        self.logodds = np.log(probabilities / 0.25)
        self.reverse = self.logodds[::-1, COMPLEMENT]  # the reverse complement's matrix
        self.width = probabilities.shape[0]
        self.threshold = threshold

    def sample(self, rng, count, sharpness=1.0):
        """Sites drawn from the matrix (probabilities raised to `sharpness` and renormalised)."""
        p = self.p ** sharpness
        cumulative = np.cumsum(p / p.sum(axis=1, keepdims=True), axis=1)
        u = rng.random((count, self.width))
        return (u[:, :, None] > cumulative[None, :, :-1]).sum(axis=2).astype(np.uint8)

    def score(self, site):
        return float(self.logodds[np.arange(self.width), site].sum())

    def scan(self, seqs):
        """Site scores (n, 2, L - w + 1): forward strand, then reverse strand."""
        n, length = seqs.shape
        positions = length - self.width + 1
        out = np.zeros((n, 2, positions), dtype=np.float64)
        for i in range(self.width):
            column = seqs[:, i:i + positions]
            out[:, 0] += self.logodds[i][column]
            out[:, 1] += self.reverse[i][column]
        return out


def occupancy(scores, threshold, shift=None):
    """1 - prod_j (1 - sigmoid(S_j - mu + shift)) over sites j of both strands."""
    z = scores - threshold
    if shift is not None:
        z = z + shift[:, None, None]
    # log(1 - sigmoid(z)) = -log(1 + exp(z)), summed, computed stably.
    log_free = -np.logaddexp(0.0, z).sum(axis=(1, 2))
    return -np.expm1(log_free)


def markov_model(codes, order):
    """Transition probabilities P(next | previous `order` bases), fitted on both strands."""
    counts = np.ones((4 ** order, 4))
    for strand in (codes, COMPLEMENT[codes[::-1]]):
        context = np.zeros(len(strand) - order, dtype=np.int64)
        for i in range(order):
            context = context * 4 + strand[i:len(strand) - order + i]
        np.add.at(counts, (context, strand[order:]), 1)
    return counts / counts.sum(axis=1, keepdims=True)


def markov_sample(rng, model, order, count, length):
    cumulative = np.cumsum(model, axis=1)
    seqs = np.zeros((count, length), dtype=np.uint8)
    seqs[:, :order] = rng.integers(0, 4, size=(count, order))
    context = np.zeros(count, dtype=np.int64)
    for i in range(order):
        context = context * 4 + seqs[:, i]
    for j in range(order, length):
        u = rng.random(count)
        base = (u[:, None] > cumulative[context, :3]).sum(axis=1)
        seqs[:, j] = base
        context = (context * 4 + base) % (4 ** order)
    return seqs


class Simulator:
    def __init__(self, seed, params, calibration, network=False):
        """calibration: background windows (no planted sites) that set the thresholds; network: the
        planted TF -> TF edges and the second outcome."""
        self.seed = seed
        self.params = params
        self.network = network
        motifs = read_jaspar(os.path.join(HERE, "motifs", "jaspar2024_demo.txt"))
        w = params["pseudo_weight"]
        self.pwms = []
        threshold_rng = np.random.default_rng([seed, 1])
        for name, matrix_id, _, _ in TFS:
            jaspar_name, counts = motifs[matrix_id]
            if jaspar_name.upper() != name:
                raise SystemExit(f"simulate.py: {matrix_id} is {jaspar_name}, expected {name}")
            frequencies = counts / counts.sum(axis=1, keepdims=True)
            pwm = Pwm(name, (1 - w) * frequencies + w / 4)
            drawn = pwm.sample(threshold_rng, 20000, params["site_sharpness"])
            scores = pwm.logodds[np.arange(pwm.width)[None, :], drawn].sum(axis=1)
            best = pwm.scan(calibration).max(axis=(1, 2))
            pwm.threshold = float(max(np.median(scores) - params["threshold_offset"],
                                      np.quantile(best, params["background_quantile"])))
            pwm.max_score = float(pwm.logodds.max(axis=1).sum())
            self.pwms.append(pwm)
        purity = params["tract_purity"]
        tract = np.full((params["tract_length"], 4), (1 - purity) / 3)
        tract[:, 0] = purity
        self.tract = Pwm("polyA", tract, params["tract_threshold"])
        self.gamma = np.array([t[3] for t in TFS])
        self.gabpa = [t[0] for t in TFS].index("GABPA")
        names = [t[0] for t in TFS]
        self.edges = [(names.index(p), names.index(c), added, multiplier) for p, c, added, multiplier in EDGES] \
            if network else []
        self.second_gamma = np.array([SECOND_GAMMA[n] for n in names])

    # -- planting -------------------------------------------------------------------------------
    def plant(self, rng, seqs):
        """Plants motifs into seqs (in place); returns the list of sites (window, name, start, strand)."""
        p = self.params
        n, length = seqs.shape
        occupied = np.zeros((n, length), dtype=bool)
        sites = []

        def place(i, site, name, near=None):
            width = len(site)
            for _ in range(50):
                if near is None:
                    start = int(rng.integers(0, length - width + 1))
                else:
                    gap = int(rng.integers(3, 21))
                    start = near[0] - gap - width if rng.random() < 0.5 else near[1] + gap
                    if start < 0 or start + width > length:
                        continue
                if not occupied[i, start:start + width].any():
                    strand = "+" if rng.random() < 0.5 else "-"
                    seqs[i, start:start + width] = site if strand == "+" else COMPLEMENT[site[::-1]]
                    occupied[i, start:start + width] = True
                    sites.append((i, name, start, strand))
                    return start, start + width
            return None

        for i in range(n):
            for k, pwm in enumerate(self.pwms):
                if rng.random() >= p["plant_probability"]:
                    continue
                count = 2 if rng.random() < p["second_site_probability"] else 1
                for site in pwm.sample(rng, count, p["site_sharpness"]):
                    span = place(i, site, pwm.name)
                    for _ in range(2 if span and k == self.gabpa else 0):
                        if rng.random() < p["tract_with_gabpa"]:
                            place(i, self.tract.sample(rng, 1)[0], "polyA", near=span)
            if rng.random() < p["tract_alone"]:
                place(i, self.tract.sample(rng, 1)[0], "polyA")
        return sites

    # -- the generative model -------------------------------------------------------------------
    def truth(self, seqs):
        """Deterministic functions of sequence: m_P, q_k, x_k = P(B_k = 1 | s), y = P(A = 1 | s)."""
        p = self.params
        tract = occupancy(self.tract.scan(seqs), self.tract.threshold)
        q = np.zeros((len(seqs), len(self.pwms)))
        for k, pwm in enumerate(self.pwms):
            shift = p["cooperativity"] * tract if k == self.gabpa else None
            q[:, k] = occupancy(pwm.scan(seqs), pwm.threshold, shift)
        kappa = p["confounder_on_binding"]
        x = q * (1 - kappa / 2)  # E over U ~ Uniform(0, 1)
        # Edges (network variant), clipping aside: E[(1 - kappa + kappa U)^2] for a multiplier, as the
        # parent's binding shares U with the child's.
        u2 = (1 - kappa) ** 2 + kappa * (1 - kappa) + kappa ** 2 / 3
        for parent, child, added, multiplier in self.edges:
            x[:, child] = x[:, child] + added * x[:, parent] + multiplier * q[:, child] * q[:, parent] * u2
        y = p["baseline_accessibility"] + x @ self.gamma + p["direct_tract_effect"] * tract
        truth = {"tract": tract, "q": q, "x": x, "y": y}
        if self.network:
            truth["z"] = SECOND_PARAMETERS["baseline_mark"] + x @ self.second_gamma
        return truth

    def labels(self, rng, truth):
        """The confounder U, the assays' signal and their calls for each window.

        In each of `cells` cells, B_k ~ Bernoulli(P(B_k = 1 | s, U)) and the cell is accessible with
        probability clip(a0 + sum_k gamma_k B_k + delta m_P + lambda (U - 1/2), 0, 1). The signals are
        bulk averages over cells: ChIP = P(B_k = 1 | s, U), DNase = the mean accessibility probability
        of the cells. The calls (peaks) are one Bernoulli draw of each signal. Returns
        (U, ChIP signal, B calls, DNase signal, A calls, fraction of cell draws that were clipped)."""
        p = self.params
        n = len(truth["q"])
        u = rng.random(n)
        binding = truth["q"] * (1 - p["confounder_on_binding"] + p["confounder_on_binding"] * u[:, None])
        rest = p["baseline_accessibility"] + p["direct_tract_effect"] * truth["tract"] + p["confounder_on_accessibility"] * (u - 0.5)
        accessibility, clipped = np.zeros(n), np.zeros(n)
        if not self.network:
            for _ in range(p["cells"]):
                cell = (rng.random(binding.shape) < binding) @ self.gamma + rest
                clipped += (cell < 0) | (cell > 1)
                accessibility += np.clip(cell, 0, 1)
            accessibility /= p["cells"]
            b = (rng.random(binding.shape) < binding).astype(np.uint8)
            a = (rng.random(n) < accessibility).astype(np.uint8)
            return u, binding, b, accessibility, a, clipped / p["cells"]
        # Network variant: per cell, the parents' binding changes their children's probability; the
        # ChIP signal is the cells' mean binding probability; a second, mark-like outcome.
        chip, mark = np.zeros(binding.shape), np.zeros(n)
        mark_rest = SECOND_PARAMETERS["baseline_mark"] + SECOND_PARAMETERS["confounder_on_mark"] * (u - 0.5)
        for _ in range(p["cells"]):
            probability = binding.copy()
            draws = rng.random(binding.shape)
            bound = draws < probability
            for parent, child, added, multiplier in self.edges:
                parent_bound = bound[:, parent]
                probability[:, child] = np.clip(binding[:, child] * (1 + multiplier * parent_bound)
                                                + added * parent_bound, 0, 1)
                bound[:, child] = draws[:, child] < probability[:, child]
            chip += probability
            cell = bound @ self.gamma + rest
            clipped += (cell < 0) | (cell > 1)
            accessibility += np.clip(cell, 0, 1)
            mark += np.clip(bound @ self.second_gamma + mark_rest, 0, 1)
        chip /= p["cells"]
        accessibility /= p["cells"]
        mark /= p["cells"]
        b = (rng.random(binding.shape) < chip).astype(np.uint8)
        a = (rng.random(n) < accessibility).astype(np.uint8)
        k = (rng.random(n) < mark).astype(np.uint8)
        self.last_mark = (mark, k)
        return u, chip, b, accessibility, a, clipped / p["cells"]

    def windows(self, rng, background):
        seqs = background.copy()
        sites = self.plant(rng, seqs)
        truth = self.truth(seqs)
        u, pb, b, pa, a, clipped = self.labels(rng, truth)
        out = {"seqs": seqs, "sites": sites, "truth": truth, "u": u, "pb": pb, "b": b, "pa": pa, "a": a,
               "clipped": clipped}
        if self.network:
            out["pk"], out["k"] = self.last_mark
        return out


def write_text(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=20240611)
    parser.add_argument("--out", default=HERE, help="output directory (default: demo/)")
    parser.add_argument("--train", type=int, default=60000, help="training windows")
    parser.add_argument("--valid", type=int, default=6000, help="validation windows")
    parser.add_argument("--genome", default=os.path.join(ROOT, "data", "genome", "hg38_chr22_32000000_32300000.fa"))
    parser.add_argument("--network", action="store_true",
                        help="plant the TF -> TF edges and the second outcome (the network demo: --out demo/network)")
    args = parser.parse_args(argv)

    p = dict(PARAMETERS)
    length = p["window_length"]
    excerpt = encode(read_fasta_record(args.genome))
    test_lo, test_hi = p["test_background"]
    train_lo, train_hi = p["train_background"]
    train_source = excerpt[train_lo:train_hi]
    markov = markov_model(train_source, p["markov_order"])
    calibration = markov_sample(np.random.default_rng([args.seed, 0]), markov, p["markov_order"],
                                p["calibration_windows"], length)
    sim = Simulator(args.seed, p, calibration, args.network)

    # The held-out chromosome: real background, consecutive windows.
    rng = np.random.default_rng([args.seed, 2])
    test_background = excerpt[test_lo:test_hi].reshape(-1, length)
    test = sim.windows(rng, test_background)

    # Training and validation windows: real background segments (random offset and strand) or Markov.
    def background(stream, count):
        r = np.random.default_rng([args.seed, stream])
        real = r.random(count) < p["real_background_fraction"]
        seqs = markov_sample(r, markov, p["markov_order"], count, length)
        starts = r.integers(0, len(train_source) - length + 1, size=count)
        strands = r.random(count) < 0.5
        for i in np.flatnonzero(real):
            segment = train_source[starts[i]:starts[i] + length]
            seqs[i] = COMPLEMENT[segment[::-1]] if strands[i] else segment
        return seqs

    sets = {}
    for name, stream, count in (("train", 3, args.train), ("valid", 4, args.valid)):
        sets[name] = sim.windows(np.random.default_rng([args.seed, stream + 10]), background(stream, count))

    out = args.out
    names = [t[0] for t in TFS]
    chrom = "chrsim"
    # FASTA (60 bases a line) and its index, as samtools faidx writes it.
    genome = decode(test["seqs"].reshape(-1))
    header = f">{chrom} simulated: hg38 chr22:{32000000 + test_lo}-{32000000 + test_hi} (0-based, half-open) with planted motifs, seed {args.seed}\n"
    lines = [genome[i:i + 60] for i in range(0, len(genome), 60)]
    write_text(os.path.join(out, "data", "genome.fa"), header + "\n".join(lines) + "\n")
    write_text(os.path.join(out, "data", "genome.fa.fai"), f"{chrom}\t{len(genome)}\t{len(header)}\t60\t61\n")

    starts = np.arange(len(test["seqs"])) * length
    for k, name in enumerate(names):
        rows = []
        for i in np.flatnonzero(test["b"][:, k]):
            q = test["truth"]["q"][i, k]
            rows.append(f"{chrom}\t{starts[i]}\t{starts[i] + length}\t{name}_w{i}\t{int(round(1000 * q))}\t.\t"
                        f"{q:.6f}\t-1\t-1\t{length // 2}\n")
        write_text(os.path.join(out, "data", "peaks", f"{name}.narrowPeak"), "".join(rows))
    rows = []
    for i in np.flatnonzero(test["a"]):
        y = test["truth"]["y"][i]
        rows.append(f"{chrom}\t{starts[i]}\t{starts[i] + length}\tDNase_w{i}\t{int(round(1000 * min(1, y)))}\t.\t"
                    f"{y:.6f}\t-1\t-1\t{length // 2}\n")
    write_text(os.path.join(out, "data", "accessibility.narrowPeak"), "".join(rows))

    header = (["chrom", "start", "end", "U"] + [f"B_{n}" for n in names] + ["A"]
              + [f"ChIP_{n}" for n in names] + ["DNase"]
              + [f"q_{n}" for n in names] + ["m_P"] + [f"x_{n}" for n in names] + ["y"])
    if args.network:
        header += ["K", SECOND_OUTCOME, "z"]
    rows = ["\t".join(header) + "\n"]
    t = test["truth"]
    for i in range(len(test["seqs"])):
        values = ([chrom, str(starts[i]), str(starts[i] + length), f"{test['u'][i]:.6f}"]
                  + [str(v) for v in test["b"][i]] + [str(test["a"][i])]
                  + [f"{v:.6f}" for v in test["pb"][i]] + [f"{test['pa'][i]:.6f}"]
                  + [f"{v:.6f}" for v in t["q"][i]] + [f"{t['tract'][i]:.6f}"]
                  + [f"{v:.6f}" for v in t["x"][i]] + [f"{t['y'][i]:.6f}"])
        if args.network:
            values += [str(test["k"][i]), f"{test['pk'][i]:.6f}", f"{t['z'][i]:.6f}"]
        rows.append("\t".join(values) + "\n")
    write_text(os.path.join(out, "data", "windows.tsv"), "".join(rows))

    all_pwms = {pwm.name: pwm for pwm in sim.pwms + [sim.tract]}
    rows = []
    for i, name, start, strand in sorted(test["sites"], key=lambda s: (s[0], s[2])):
        pwm = all_pwms[name]
        site = test["seqs"][i, start:start + pwm.width]
        score = pwm.score(site if strand == "+" else COMPLEMENT[site[::-1]])
        rows.append(f"{chrom}\t{starts[i] + start}\t{starts[i] + start + pwm.width}\t{name}\t{score:.3f}\t{strand}\n")
    write_text(os.path.join(out, "data", "sites.bed"), "".join(rows))

    rows = ["tf\tjaspar\trole\tgamma\tthreshold_nats\tmax_score_nats" + ("\tgamma_" + SECOND_OUTCOME if args.network else "")
            + "\n"]
    for (name, matrix_id, role, gamma), pwm in zip(TFS, sim.pwms):
        rows.append(f"{name}\t{matrix_id}\t{role}\t{gamma}\t{pwm.threshold:.4f}\t{pwm.max_score:.4f}"
                    + (f"\t{SECOND_GAMMA[name]}" if args.network else "") + "\n")
    write_text(os.path.join(out, "data", "planted.tsv"), "".join(rows))
    if args.network:
        # Every planted edge of the network, on the outputs' scale: TF -> TF, TF -> DNase, TF -> mark.
        rows = ["exposure\toutcome\tplanted\tkind\n"]
        for parent, child, added, multiplier in EDGES:
            rows.append(f"{parent}\t{child}\t{added if added else multiplier}\t"
                        f"{'added' if added else 'multiplier'}\n")
        for (name, _, _, gamma) in TFS:
            rows.append(f"{name}\t{OUTCOME}\t{gamma}\tdirect\n")
            rows.append(f"{name}\t{SECOND_OUTCOME}\t{SECOND_GAMMA[name]}\tdirect\n")
        write_text(os.path.join(out, "data", "edges.tsv"), "".join(rows))

    def summary(s):
        return {
            "windows": int(len(s["seqs"])),
            "bound_fraction": {n: float(v) for n, v in zip(names, s["b"].mean(axis=0))},
            "accessible_fraction": float(s["a"].mean()),
            "clipped_fraction": float(s["clipped"].mean()),
            "planted_sites": {n: int(sum(1 for x in s["sites"] if x[1] == n)) for n in names + ["polyA"]},
            "mean_tract_occupancy": float(s["truth"]["tract"].mean()),
        }

    report = {"seed": args.seed, "numpy": np.__version__, "tfs": [list(t) for t in TFS], "outcome": OUTCOME,
              "parameters": p, "thresholds": {pwm.name: pwm.threshold for pwm in sim.pwms},
              "test": summary(test), "train": summary(sets["train"]), "valid": summary(sets["valid"])}
    if args.network:
        report["network"] = {"edges": [list(e) for e in EDGES], "second_outcome": SECOND_OUTCOME,
                             "second_gamma": SECOND_GAMMA, "parameters": SECOND_PARAMETERS}
    write_text(os.path.join(out, "data", "simulation.json"), json.dumps(report, indent=1) + "\n")

    os.makedirs(os.path.join(out, "work"), exist_ok=True)
    sets["test"] = test
    for name, s in sets.items():
        extra = {} if not args.network else {"k": s["k"], "pk": s["pk"].astype(np.float32),
                                             "z": s["truth"]["z"].astype(np.float32)}
        np.savez_compressed(os.path.join(out, "work", f"{name}.npz"), seqs=s["seqs"], b=s["b"], a=s["a"],
                            pb=s["pb"].astype(np.float32), pa=s["pa"].astype(np.float32),
                            x=s["truth"]["x"].astype(np.float32), y=s["truth"]["y"].astype(np.float32),
                            u=s["u"].astype(np.float32), **extra)
    print(json.dumps({k: report[k] for k in ("test", "train")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
