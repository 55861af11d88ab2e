#!/usr/bin/env python3
"""scripts/export_model.py end to end: a user's nn.Module exported with deepmr's metadata and read
by `deepmr ism`, whose effects (dropout off) must equal PyTorch's differences of the exported file's
own forward (float64): a residual two-head module (scripted, read as a graph), a dict-head module
TorchScript compiles into ops deepmr does not read (refused naming the op; exported with --trace it
reads), and a plain Sequential (still a layer stack).

Usage: test_export_model.py BUILD_DIR SOURCE_DIR [unittest options]
"""
import os
import random
import subprocess
import sys
import tempfile
import unittest

import torch
from torch import nn

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
del sys.argv[1:3]
DEEPMR = os.path.join(BUILD, "bin", "deepmr")
EXPORT = os.path.join(SOURCE, "scripts", "export_model.py")

USER_MODELS = '''
import sys
import torch
from torch import nn
from torch import nn
sys.path.insert(0, %r)
import make_fixtures


def residual_two_heads():
    torch.manual_seed(3)
    return make_fixtures.BPNetLike()


class DictHeads(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv1d(4, 6, 5, padding=2), nn.ReLU())
        self.heads = nn.ModuleDict({"a": nn.Linear(6, 1), "b": nn.Linear(6, 2)})

    def forward(self, x):
        h = self.body(x).mean(dim=2)
        return {name: torch.sigmoid(head(h)) for name, head in self.heads.items()}


def dict_heads():
    torch.manual_seed(4)
    return DictHeads()


def two_heads_unseeded():  # export_model.py seeds each member of --members
    return make_fixtures.BPNetLike()


def sequential():
    torch.manual_seed(5)
    return nn.Sequential(nn.Conv1d(4, 5, 7), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 34, 3), nn.Sigmoid())
''' % os.path.join(SOURCE, "tests", "model")


def one_hot(sequences):
    x = torch.zeros(len(sequences), 4, len(sequences[0]), dtype=torch.float64)
    for i, s in enumerate(sequences):
        for p, base in enumerate(s):
            x[i, "ACGT".index(base), p] = 1
    return x


def flat(y):
    """deepmr's output numbering: every output tensor flattened per example, concatenated."""
    if isinstance(y, torch.Tensor):
        return y.reshape(y.shape[0], -1)
    parts = y.values() if isinstance(y, dict) else y
    return torch.cat([flat(v) for v in parts], dim=1)


class ExportModel(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="deepmr-export-model-")
        cls.user = os.path.join(cls.directory, "user_models.py")
        with open(cls.user, "w") as f:
            f.write(USER_MODELS)

    def export(self, function, length, *options):
        out = os.path.join(self.directory, function + ".pt")
        result = subprocess.run([sys.executable, EXPORT, "--module", self.user + ":" + function, "--input-length",
                                 str(length), "--out", out] + list(options), capture_output=True, text=True)
        return result, out

    def ism(self, model, sequence, outputs):
        return subprocess.run([DEEPMR, "ism", "--threads", "1", "--model", model, "--sequence", sequence, "--outputs",
                               ",".join(str(o) for o in outputs), "--dropout", "off"], capture_output=True, text=True)

    def assertEffectsArePyTorchs(self, model, sequence, names, columns, tolerance, outputs=flat):
        result = self.ism(model, sequence, names)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
        # PyTorch: the exported file's own forward, in float64, on the reference and every mutant.
        module = torch.jit.load(model).double().eval()
        mutants = [(p, a) for p in range(len(sequence)) for a in "ACGT" if a != sequence[p]]
        variants = [sequence] + [sequence[:p] + a + sequence[p + 1:] for p, a in mutants]
        with torch.no_grad():
            y = outputs(module(one_hot(variants)))
        self.assertEqual(len(rows), len(mutants) * len(names))
        largest = 0.0
        for i, (p, a) in enumerate(mutants):
            for k, (name, column) in enumerate(zip(names, columns)):
                row = rows[i * len(names) + k]
                self.assertEqual((int(row[0]), row[2], row[3]), (p, a, name))
                expected = float(y[i + 1, column] - y[0, column])
                self.assertAlmostEqual(float(row[4]), expected, delta=tolerance)
                largest = max(largest, abs(expected))
        self.assertGreater(largest, 10 * tolerance)  # the effects are there to compare

    def test_a_residual_two_head_module_is_read_as_a_graph(self):
        result, model = self.export("residual_two_heads", 64)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("(graph)", result.stdout)
        self.assertIn("130 outputs", result.stdout)  # profile 2 x 64, counts 2
        random.seed(1)
        sequence = "".join(random.choice("ACGT") for _ in range(64))
        # tuple element 1 (counts) index 0, element 0 (profile) index 5: columns 128 and 5
        self.assertEffectsArePyTorchs(model, sequence, ["1:0", "0:5"], [128, 5], 1e-5)

    def test_a_profile_head_reduced_to_one_output_per_task(self):
        # --reduce 0=sum:10-19: the profile head (tuple element 0, 2 x 64) becomes its sum over
        # positions 10..19 per task, outputs 0:0, 0:1, then the counts 1:0, 1:1.
        result, model = self.export("residual_two_heads", 64, "--reduce", "0=sum:10-19")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("4 outputs", result.stdout)
        random.seed(4)
        sequence = "".join(random.choice("ACGT") for _ in range(64))
        self.assertEffectsArePyTorchs(model, sequence, ["0:1", "1:0"], [1, 2], 1e-5,
                                      outputs=lambda y: torch.cat([y[0][:, :, 10:20].sum(2), y[1]], 1))
        # deepmr's --reduce replaces the model's own: the mean over all positions
        rows = subprocess.run([DEEPMR, "ism", "--threads", "1", "--model", model, "--sequence", sequence, "--outputs",
                               "0:1", "--dropout", "off", "--reduce", "0=mean"], capture_output=True, text=True)
        self.assertEqual(rows.returncode, 0, rows.stderr)
        module = torch.jit.load(model).double().eval()
        with torch.no_grad():
            y = module(one_hot([sequence, "A" + sequence[1:]]))[0][:, 1, :].mean(1)
        first = rows.stdout.splitlines()[1].split("\t")
        self.assertEqual((first[0], first[2]), ("0", "A") if sequence[0] != "A" else ("0", "C"))
        if sequence[0] != "A":
            self.assertAlmostEqual(float(first[4]), float(y[1] - y[0]), delta=1e-6)

    def test_a_module_scripted_into_ops_deepmr_cannot_read_exports_by_tracing(self):
        result, model = self.export("dict_heads", 40)
        self.assertEqual(result.returncode, 0, result.stderr)
        random.seed(2)
        sequence = "".join(random.choice("ACGT") for _ in range(40))
        refused = self.ism(model, sequence, ["a:0"])
        self.assertEqual(refused.returncode, 4, refused.stderr)
        self.assertEqual(len(refused.stderr.splitlines()), 1, refused.stderr)
        self.assertIn("aten::_set_item", refused.stderr)
        result, model = self.export("dict_heads", 40, "--trace")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEffectsArePyTorchs(model, sequence, ["a:0", "b:1"], [0, 2], 1e-6)

    def test_a_deep_ensemble_in_one_file(self):
        # --members 3: three members of one architecture (seeds 1, 2, 3) in one file. With dropout
        # off each sample is one member: beta and se are the members' mean and spread of PyTorch's
        # float64 differences, each member's from the file's own submodule.
        result, model = self.export("two_heads_unseeded", 64, "--members", "3")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("deep ensemble of 3 graph members", result.stdout)
        random.seed(5)
        sequence = "".join(random.choice("ACGT") for _ in range(64))
        names, columns = ["1:0", "0:5"], [128, 5]
        result = self.ism(model, sequence, names)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
        module = torch.jit.load(model)
        mutants = [(p, a) for p in range(len(sequence)) for a in "ACGT" if a != sequence[p]]
        variants = [sequence] + [sequence[:p] + a + sequence[p + 1:] for p, a in mutants]
        differences = []
        with torch.no_grad():
            for k in range(3):
                y = flat(getattr(module.members, str(k)).double().eval()(one_hot(variants)))
                differences.append(y[1:] - y[0:1])
        d = torch.stack(differences)  # members x mutants x outputs
        self.assertGreater(float((d[0] - d[1]).abs().max()), 1e-3)  # the members differ
        beta = d.mean(0)
        se = ((d * d).mean(0) - beta * beta).clamp(min=0).sqrt()
        self.assertEqual(len(rows), len(mutants) * len(names))
        for i in range(len(mutants)):
            for k, column in enumerate(columns):
                row = rows[i * len(names) + k]
                self.assertAlmostEqual(float(row[4]), float(beta[i, column]), delta=1e-5)
                self.assertAlmostEqual(float(row[5]), float(se[i, column]), delta=2e-4)
        # a file listing a member it does not hold is refused with one line (status 4)
        bad = os.path.join(self.directory, "bad_ensemble.pt")
        module.deepmr_ensemble_members = ["members.0", "members.7"]
        module.save(bad)
        refused = self.ism(bad, sequence, names)
        self.assertEqual(refused.returncode, 4, refused.stderr)
        self.assertEqual(len(refused.stderr.splitlines()), 1, refused.stderr)
        self.assertIn("deepmr_ensemble_members names 'members.7'", refused.stderr)
        module.deepmr_ensemble_members = ["members.1", "members.1"]  # one member twice: a spread of 0
        module.save(bad)
        refused = self.ism(bad, sequence, names)
        self.assertEqual(refused.returncode, 4, refused.stderr)
        self.assertIn("deepmr_ensemble_members lists 'members.1' twice", refused.stderr)
        # layer stacks from state dicts (--state-dict repeated): one member per state dict
        states = []
        for seed in (7, 8):
            torch.manual_seed(seed)
            states.append(os.path.join(self.directory, "state%d.pt" % seed))
            torch.save(nn.Sequential(nn.Conv1d(4, 5, 7), nn.ReLU(), nn.Flatten(), nn.Linear(5 * 34, 3),
                                     nn.Sigmoid()).state_dict(), states[-1])
        result, model = self.export("sequential", 40, "--state-dict", states[0], "--state-dict", states[1])
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("deep ensemble of 2 layer stack members", result.stdout)
        module = torch.jit.load(model)
        # forward(x) of a one-tensor ensemble is the members' mean
        x = one_hot([sequence[:40]]).float()
        with torch.no_grad():
            members = [getattr(module.members, str(k)) for k in range(2)]
            self.assertTrue(torch.allclose(module(x), (members[0](x) + members[1](x)) / 2))
        result = self.ism(model, sequence[:40], ["0"])
        self.assertEqual(result.returncode, 0, result.stderr)
        first = result.stdout.splitlines()[1].split("\t")
        variant = sequence[:40]
        variant = {"A": "C"}.get(variant[0], "A") + variant[1:]
        with torch.no_grad():
            d = [float(m.double()(one_hot([variant]))[0, 0] - m.double()(one_hot([sequence[:40]]))[0, 0])
                 for m in members]
        self.assertEqual(first[2], variant[0])
        self.assertAlmostEqual(float(first[4]), (d[0] + d[1]) / 2, delta=1e-6)
        self.assertAlmostEqual(float(first[5]), abs(d[0] - d[1]) / 2, delta=1e-5)

    def test_a_sequential_is_still_a_layer_stack_and_targets_are_counted(self):
        result, model = self.export("sequential", 40)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("(layer stack)", result.stdout)
        random.seed(3)
        sequence = "".join(random.choice("ACGT") for _ in range(40))
        self.assertEffectsArePyTorchs(model, sequence, ["0", "2"], [0, 2], 1e-6)
        targets = os.path.join(self.directory, "two.txt")
        with open(targets, "w") as f:
            f.write("x\ny\n")
        result, _ = self.export("residual_two_heads", 64, "--targets", targets)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("2 targets but the model has 130 outputs", result.stderr)
        for bad, why in (("0=median", "use HEAD="), ("0=sum:10-64", "window must lie in 0-63"), ("1=sum", "no channels")):
            result, _ = self.export("residual_two_heads", 64, "--reduce", bad)
            self.assertNotEqual(result.returncode, 0, bad)
            self.assertIn(why, result.stderr, bad)
        result, _ = self.export("residual_two_heads", 64, "--reduce", "0=sum", "--reduce", "0=mean")
        self.assertIn("'0' is reduced twice", result.stderr)


if __name__ == "__main__":
    unittest.main()
