#!/usr/bin/env python3
"""Trains deepmr's demo model on the simulated windows and exports it for deepmr (docs/simulation.md).

A small DeepSEA-style multi-task CNN (convolutions, max pooling, dropout, two dense layers, sigmoid
outputs): one output per TF's binding and one for accessibility, trained with binary cross-entropy
on the CPU, by default on the simulated assays' signal (P(B_k = 1 | s, U), P(A = 1 | s, U, B): what a
quantitative ChIP or DNase track measures), with --labels binary on the binary calls (peaks). Exported with scripts/export_model.py's wrap() to the
TorchScript form deepmr reads (alphabet ACGT, no strand averaging, L = 200, output names stored).

Reads demo/work/{train,valid,test}.npz (demo/simulate.py; the network demo's, with a second outcome,
from --work demo/network/work); writes
  model/demo.pt            the TorchScript model deepmr runs
  model/targets.txt        its output names, one per line
  model/training.json      the architecture, the training settings, the loss per epoch, and per output
                           the test-chromosome AUC and the agreement with the simulator's true
                           probabilities (Pearson r, mean absolute error)

Usage: /usr/bin/python3 demo/train.py [--seed 1] [--epochs 12] [--threads 2]
Needs Debian's python3-torch and python3-numpy.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "scripts"))
sys.path.insert(0, HERE)
from export_model import wrap  # noqa: E402
from simulate import OUTCOME, SECOND_OUTCOME, TFS  # noqa: E402

LENGTH = 200


def build(outputs):
    """The demo network: N x 4 x 200 one-hot (ACGT) in, `outputs` probabilities out. deepmr folds the
    batch normalisations into per-channel scales and shifts (docs/models.md)."""
    return nn.Sequential(
        nn.Conv1d(4, 64, 15), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(4), nn.Dropout(0.1),   # 186 -> 46
        nn.Conv1d(64, 64, 5), nn.BatchNorm1d(64), nn.ReLU(), nn.MaxPool1d(4), nn.Dropout(0.1),  # 42 -> 10
        nn.Flatten(), nn.Linear(640, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, outputs), nn.Sigmoid())


def one_hot(codes):
    """(n, L) base codes in ACGT order -> (n, 4, L) float32."""
    x = np.zeros((len(codes), 4, codes.shape[1]), dtype=np.float32)
    np.put_along_axis(x, codes[:, None, :].astype(np.int64), 1.0, axis=1)
    return torch.from_numpy(x)


def reverse_complement(x):
    return torch.flip(x, [1, 2])  # ACGT: complement = reverse the channel order


def load(path, kind="signal"):
    """One-hot windows, training targets (the assays' signal or their binary calls), binary calls and
    the simulator's true probabilities P(B_k = 1 | s), P(A = 1 | s)."""
    d = np.load(path)
    # The network demo's windows also hold the second outcome (simulate.py --network).
    second = "pk" in d
    calls = np.concatenate([d["b"], d["a"][:, None]] + ([d["k"][:, None]] if second else []), axis=1).astype(np.float32)
    signal = np.concatenate([d["pb"], d["pa"][:, None]] + ([d["pk"][:, None]] if second else []),
                            axis=1).astype(np.float32)
    labels = signal if kind == "signal" else calls
    truth = np.concatenate([d["x"], d["y"][:, None]] + ([d["z"][:, None]] if second else []), axis=1).astype(np.float32)
    return one_hot(d["seqs"]), torch.from_numpy(labels), calls, truth


def auc(labels, scores):
    """Area under the ROC curve (Mann-Whitney, ties counted half)."""
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    positives = labels == 1
    n1, n0 = positives.sum(), (~positives).sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    return float((ranks[positives].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def predict(net, x, batch=2000):
    net.eval()
    with torch.no_grad():
        return torch.cat([net(x[i:i + batch]) for i in range(0, len(x), batch)]).numpy()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--labels", choices=["signal", "binary"], default="signal",
                        help="train on the assays' signal (default) or on their binary calls (docs/validation.md)")
    parser.add_argument("--work", default=os.path.join(HERE, "work"))
    parser.add_argument("--out", default=os.path.join(HERE, "model"))
    parser.add_argument("--name", default="demo.pt", help="the model file's name in --out")
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    names = [t[0] for t in TFS] + [OUTCOME]
    train_x, train_y, _, _ = load(os.path.join(args.work, "train.npz"), args.labels)
    if train_y.shape[1] == len(names) + 1:
        names.append(SECOND_OUTCOME)
    valid_x, valid_y, _, _ = load(os.path.join(args.work, "valid.npz"), args.labels)
    test_x, _, test_calls, test_truth = load(os.path.join(args.work, "test.npz"), args.labels)

    net = build(len(names))
    optimizer = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
    loss_fn = nn.BCELoss()
    generator = torch.Generator().manual_seed(args.seed)
    history, best, best_state = [], float("inf"), None
    started = time.time()
    for epoch in range(args.epochs):
        net.train()
        order = torch.randperm(len(train_x), generator=generator)
        flips = torch.rand(len(order) // args.batch + 1, generator=generator) < 0.5
        total = 0.0
        for step, i in enumerate(range(0, len(order), args.batch)):
            index = order[i:i + args.batch]
            x = train_x[index]
            if flips[step]:  # the planted model is strand-symmetric: augment with reverse complements
                x = reverse_complement(x)
            loss = loss_fn(net(x), train_y[index])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss) * len(index)
        schedule.step()
        valid_loss = float(loss_fn(torch.from_numpy(predict(net, valid_x)), valid_y))
        history.append({"epoch": epoch + 1, "train_loss": total / len(train_x), "valid_loss": valid_loss,
                        "seconds": round(time.time() - started, 1)})
        print(json.dumps(history[-1]), flush=True)
        if valid_loss < best:
            best, best_state = valid_loss, {k: v.clone() for k, v in net.state_dict().items()}
    net.load_state_dict(best_state)

    predictions = predict(net, test_x)
    labels = test_calls
    metrics = {}
    for t, name in enumerate(names):
        p, truth = predictions[:, t], test_truth[:, t]
        metrics[name] = {"auc": auc(labels[:, t], p), "pearson_r_truth": float(np.corrcoef(p, truth)[0, 1]),
                         "mean_abs_error_truth": float(np.abs(p - truth).mean())}
    print(json.dumps(metrics, indent=1))

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "targets.txt"), "w") as f:
        f.write("".join(n + "\n" for n in names))
    scripted = wrap(net, "ACGT", False, LENGTH, names)
    path = os.path.join(args.out, args.name)
    scripted.save(path)
    with torch.no_grad():  # the exported wrapper computes what the network computes
        difference = (scripted(test_x[:64]) - net.eval()(test_x[:64])).abs().max().item()
    if difference != 0:
        raise SystemExit(f"train.py: the exported model differs from the network by {difference}")
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump({"architecture": str(net), "parameters": sum(p.numel() for p in net.parameters()),
                   "input_length": LENGTH, "alphabet": "ACGT", "targets": names, "settings": vars(args),
                   "torch": torch.__version__, "history": history, "best_valid_loss": best,
                   "test_chromosome": metrics}, f, indent=1)
        f.write("\n")
    print(f"wrote {path}: {sum(p.numel() for p in net.parameters())} parameters, "
          f"{time.time() - started:.0f} s of training")
    return 0


if __name__ == "__main__":
    sys.exit(main())
