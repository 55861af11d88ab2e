#!/usr/bin/env python3
"""deepmr's mutagenesis against its peer, naive batched PyTorch, on the same model (docs/performance.md).

The peer is what a user would write without deepmr: PyTorch itself (not LibTorch through deepmr),
one thread, the model's own layers called in order on batches of one-hot sequences (the reference
and every mutant of the window, both strands where the model averages them), under Monte Carlo
dropout with one mask per sample shared by all sequences of that sample (Deep MR's pairing), all
outputs of the model, the differences to the reference accumulated into beta and se. deepmr runs
`deepmr bench ism` on the same model file with the same number of samples, positions, batch and one
thread. Both count mutant evaluations (mutants x samples) per second of wall time and per CPU
second; the script prints both and deepmr's ratio to the peer. The two sides draw other masks and
another random window (cost does not depend on either), so their effects are not compared here:
deepmr's engines are checked against PyTorch in tests/model and tests/ism.

Usage (Debian's python3-torch; run with /usr/bin/python3 from the repository root):
  benchmarks/peer_pytorch.py --model demo/model/demo.pt [--mc-samples 8] [--positions 0-199]
  benchmarks/peer_pytorch.py --architecture deepsea --positions 0-9 --mc-samples 2
      (DeepSEA's architecture with random weights, exported by scripts/export_model.py)
"""
import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time

# One thread for the peer's BLAS too (Debian's PyTorch calls OpenBLAS, whose own threads
# torch.set_num_threads does not govern), set before the libraries load.
for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

SOURCE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def parse_positions(text, length):
    if not text:
        return 0, length - 1
    first, last = (int(v) for v in text.split("-"))
    if not 0 <= first <= last < length:
        sys.exit("peer_pytorch.py: --positions %s is outside the window of %d bases" % (text, length))
    return first, last


class PairedDropoutNetwork:
    """The model's layer stack (its `net`), called layer by layer with a fixed mask at each dropout."""

    def __init__(self, model):
        self.model = model
        self.layers = list(model.net.children())
        self.reverse_complement = bool(model.deepmr_reverse_complement)
        self.dropout = [i for i, layer in enumerate(self.layers) if layer.original_name == "Dropout"]

    def mask_shapes(self, example):
        shapes, x = {}, example
        with torch.no_grad():
            for i, layer in enumerate(self.layers):
                if i in self.dropout:
                    shapes[i] = tuple(x.shape[1:])
                else:
                    x = layer(x)
        return shapes

    def draw_masks(self, shapes, generator):
        masks = {}
        for i, shape in shapes.items():
            p = float(self.layers[i].p)
            keep = torch.rand((1,) + shape, generator=generator) >= p
            masks[i] = keep.to(torch.float32) / (1 - p)
        return masks

    def strand(self, x, masks):
        for i, layer in enumerate(self.layers):
            x = x * masks[i] if i in masks else layer(x)
        return x

    def __call__(self, x, masks):
        y = self.strand(x, masks)
        if self.reverse_complement:
            rc = torch.flip(torch.index_select(x, 1, self.model.complement), [x.dim() - 1])
            y = (y + self.strand(rc, masks)) / 2
        return y


def one_hot(codes, conv2d):
    x = torch.nn.functional.one_hot(torch.from_numpy(codes).long(), 4).to(torch.float32).permute(0, 2, 1)
    return x.unsqueeze(2) if conv2d else x


def peer(model_path, samples, positions, batch, seed):
    """Mutant evaluations per second (wall, CPU) of naive batched PyTorch, and the mutant count."""
    torch.set_num_threads(1)
    model = torch.jit.load(model_path).eval()
    length = int(model.deepmr_input_length)
    first, last = parse_positions(positions, length)
    conv2d = any(layer.original_name == "Conv2d" for layer in model.net.children())
    network = PairedDropoutNetwork(model)
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 4, length).astype(np.int64)
    rows = [reference]
    for position in range(first, last + 1):
        for base in range(4):
            if base != reference[position]:
                mutant = reference.copy()
                mutant[position] = base
                rows.append(mutant)
    codes = np.vstack(rows)
    mutants = len(rows) - 1
    inputs = one_hot(codes, conv2d)  # built once, as a user would
    shapes = network.mask_shapes(inputs[:1])
    generator = torch.Generator().manual_seed(seed)
    total = total_squares = None
    wall, cpu = time.perf_counter(), time.process_time()
    with torch.no_grad():
        for _ in range(samples):
            masks = network.draw_masks(shapes, generator)
            outputs = torch.cat([network(inputs[b:b + batch], masks)
                                 for b in range(0, len(codes), batch)]).double()
            differences = outputs[1:] - outputs[:1]
            total = differences if total is None else total + differences
            total_squares = differences ** 2 if total_squares is None else total_squares + differences ** 2
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    beta = total / samples
    se = torch.sqrt(torch.clamp(total_squares / samples - beta ** 2, min=0))
    if not (torch.isfinite(beta).all() and torch.isfinite(se).all()):
        sys.exit("peer_pytorch.py: the peer's effects are not finite")
    evaluations = mutants * samples
    return evaluations / wall, evaluations / cpu, mutants, length, int(outputs.shape[1])


def deepmr(binary, model_path, samples, positions, batch, engines):
    command = [binary, "bench", "ism", "--model", model_path, "--engines", engines, "--threads", "1",
               "--mc-samples", str(samples), "--batch", str(batch), "--format", "tsv"]
    if positions:
        command += ["--positions", positions]
    result = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, OMP_NUM_THREADS="1"))
    if result.returncode != 0:
        sys.exit("peer_pytorch.py: deepmr bench ism failed (exit %d): %s" % (result.returncode, result.stderr.strip()))
    return list(csv.DictReader(io.StringIO(result.stdout), delimiter="\t"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", help="a deepmr TorchScript model file")
    which.add_argument("--architecture", choices=["deepsea"], help="export this architecture with random weights")
    parser.add_argument("--mc-samples", type=int, default=8)
    parser.add_argument("--positions", default="", help="FIRST-LAST window positions to mutate (default: all)")
    parser.add_argument("--batch", type=int, default=64, help="deepmr's sequences per forward pass")
    parser.add_argument("--peer-batches", default="4,16,64,256",
                        help="the peer's batch sizes to try on one sample; the fastest is measured")
    parser.add_argument("--engines", default="full,incremental", help="deepmr's engines (deepmr bench ism --engines)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--deepmr", default=os.path.join(SOURCE, "build", "bin", "deepmr"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        model_path = args.model
        if args.architecture:
            model_path = os.path.join(directory, "%s_random.pt" % args.architecture)
            subprocess.run([sys.executable, os.path.join(SOURCE, "scripts", "export_model.py"), "--architecture",
                            args.architecture, "--random-seed", str(args.seed), "--out", model_path], check=True,
                           stdout=subprocess.DEVNULL)
        # PyTorch's CPU convolutions are much faster at some batch sizes than at others: the peer
        # gets its best one.
        trials = {b: peer(model_path, 1, args.positions, b, args.seed)[1] for b in
                  (int(v) for v in args.peer_batches.split(","))}
        peer_batch = max(trials, key=trials.get)
        rate, cpu_rate, mutants, length, outputs = peer(model_path, args.mc_samples, args.positions, peer_batch,
                                                        args.seed)
        rows = deepmr(args.deepmr, model_path, args.mc_samples, args.positions, args.batch, args.engines)
    name = args.model or args.architecture + " (random weights)"
    print("# %s, L = %d, %d mutants, N = %d, one thread; batch: deepmr %d, PyTorch %d (fastest of %s on one "
          "sample: %s mutants/CPU-s); torch %s" % (
              name, length, mutants, args.mc_samples, args.batch, peer_batch, args.peer_batches,
              ", ".join("%.4g" % trials[b] for b in sorted(trials)), torch.__version__))
    print("\t".join(["engine", "outputs", "mutant_evaluations_per_second", "ratio_to_peer",
                     "mutant_evaluations_per_cpu_second", "cpu_ratio_to_peer"]))
    print("\t".join(["pytorch (naive batched)", str(outputs), "%.4g" % rate, "1", "%.4g" % cpu_rate, "1"]))
    for row in rows:
        wall, cpu = float(row["mutant_evaluations_per_second"]), float(row["mutant_evaluations_per_cpu_second"])
        print("\t".join(["deepmr " + row["engine"] + " (" + row["device"] + ")", "2", "%.4g" % wall,
                         "%.3g" % (wall / rate), "%.4g" % cpu, "%.3g" % (cpu / cpu_rate)]))


if __name__ == "__main__":
    main()
