#!/usr/bin/env python3
"""Export a PyTorch sequence model to the TorchScript form deepmr reads (docs/models.md).

The file holds a scripted wrapper with metadata -- the input alphabet (channel c is base
alphabet[c]), whether outputs average the forward and the reverse-complement strand (as Kipoi's
DeepSEA/predict does), the input length, and optionally the output names -- around the network:
  - an nn.Sequential of the layers deepmr reads as a layer stack (docs/models.md): forward(x) takes
    one-hot input in that alphabet and computes exactly what deepmr computes, strand averaging
    included, so PyTorch can check deepmr;
  - any other nn.Module (residual towers, several heads as a tuple, list or dict, ...), read by
    deepmr as a graph (docs/models.md, "Graphs"): scripted when TorchScript compiles it, else traced
    on a zero input of the model's length (--trace forces that); forward(x) returns the network's
    outputs on the forward strand, and deepmr averages the strands itself when asked.

Kipoi's DeepSEA (weights from Zenodo record 1466993, CC-BY 3.0):
    export_model.py --architecture deepsea --state-dict deepsea_predict.pth \
        --targets data/deepsea/predictor_names.txt --out deepsea.pt
Random weights of the same architecture (tests, benchmarks):
    export_model.py --architecture deepsea --random-seed 1 --out deepsea_random.pt
A deep ensemble in one file (the folds of a k-fold model): --state-dict repeated, one member each.
Your own model: --module my_model.py:build (a function returning an nn.Module; Kipoi-style Lambda
flattens, Sequential(Lambda, Linear) wrappers and integer Threshold arguments are converted).

Needs Debian's python3-torch (run with /usr/bin/python3).
"""
import argparse
import importlib.util
import re
import sys
from typing import List

import torch
from torch import nn

COMPLEMENT = {"A": "T", "C": "G", "G": "C", "T": "A"}


class DeepMRModel(nn.Module):
    """A layer stack plus the metadata deepmr needs; forward(x) is the model deepmr evaluates."""

    deepmr_alphabet: str
    deepmr_reverse_complement: bool
    deepmr_input_length: int
    deepmr_targets: List[str]

    def __init__(self, net: nn.Sequential, alphabet: str, reverse_complement: bool, input_length: int,
                 targets: List[str], conv2d: bool):
        super().__init__()
        self.net = net
        self.deepmr_alphabet = alphabet
        self.deepmr_reverse_complement = reverse_complement
        self.deepmr_input_length = input_length
        self.deepmr_targets = targets
        # Reverse complement = complement the channels (a permutation) and reverse the length axis.
        perm = [alphabet.index(COMPLEMENT[b]) for b in alphabet]
        self.register_buffer("complement", torch.tensor(perm, dtype=torch.long))
        self.conv2d = conv2d

    def forward(self, x):
        y = self.net(x)
        if self.deepmr_reverse_complement:
            rc = torch.flip(torch.index_select(x, 1, self.complement), [x.dim() - 1])
            y = (y + self.net(rc)) / 2
        return y


class DeepMRGraphModel(nn.Module):
    """Any network plus deepmr's metadata; forward(x) is the network's (forward strand only)."""

    deepmr_alphabet: str
    deepmr_reverse_complement: bool
    deepmr_input_length: int
    deepmr_targets: List[str]
    deepmr_reduce: List[str]

    def __init__(self, net: nn.Module, alphabet: str, reverse_complement: bool, input_length: int,
                 targets: List[str], reduce: List[str]):
        super().__init__()
        self.net = net
        self.deepmr_alphabet = alphabet
        self.deepmr_reverse_complement = reverse_complement
        self.deepmr_input_length = input_length
        self.deepmr_targets = targets
        self.deepmr_reduce = reduce  # profile heads reduced to one output per task (docs/models.md)

    def forward(self, x):
        return self.net(x)


class DeepMREnsemble(nn.Module):
    """A deep ensemble in one file: members exported as above, listed in deepmr_ensemble_members
    (deepmr evaluates every member and never this module's forward)."""

    deepmr_ensemble_members: List[str]

    def __init__(self, members: List[torch.jit.ScriptModule]):
        super().__init__()
        self.members = nn.ModuleList(members)
        self.deepmr_ensemble_members = [f"members.{k}" for k in range(len(members))]


class DeepMREnsembleMean(DeepMREnsemble):
    """forward(x): the members' mean (members of one output tensor)."""

    deepmr_ensemble_members: List[str]

    def forward(self, x):
        total = torch.zeros(0)
        first = True
        for member in self.members:
            y = member(x)
            total = y if first else total + y
            first = False
        return total / len(self.deepmr_ensemble_members)


class DeepMREnsembleFirst(DeepMREnsemble):
    """forward(x): member 0's (members with several output tensors)."""

    deepmr_ensemble_members: List[str]

    def forward(self, x):
        return self.members[0](x)


def is_layer_stack(net: nn.Module) -> bool:
    """Whether deepmr reads `net` as a layer stack: a Sequential of leaf layers of the kinds it reads."""
    kinds = (nn.Conv1d, nn.Conv2d, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d, nn.ReLU, nn.Threshold,
             nn.ELU, nn.BatchNorm1d, nn.BatchNorm2d, nn.Dropout, nn.Flatten, nn.Linear, nn.Sigmoid)

    def leaves(module):
        for child in module.children():
            if isinstance(child, nn.Sequential):
                yield from leaves(child)
            else:
                yield child
    return isinstance(net, nn.Sequential) and all(isinstance(m, kinds) for m in leaves(net))


def flat_output_count(y) -> int:
    """The outputs deepmr numbers for one example: every output tensor's elements, concatenated."""
    if isinstance(y, torch.Tensor):
        return y[0].numel()
    if isinstance(y, dict):
        return sum(flat_output_count(v) for v in y.values())
    return sum(flat_output_count(v) for v in y)


def output_names(y, name=""):
    """The output tensors' names as deepmr gives them: "" alone, "0", "1" in a tuple, keys in a dict."""
    if isinstance(y, torch.Tensor):
        return [name]
    parts = y.items() if isinstance(y, dict) else ((str(i), v) for i, v in enumerate(y))
    return [n for key, v in parts for n in output_names(v, key if not name else name + "." + key)]


def output_tensors(y):
    if isinstance(y, torch.Tensor):
        return [y]
    return [t for v in (y.values() if isinstance(y, dict) else y) for t in output_tensors(v)]


def wrap_graph(net: nn.Module, alphabet: str, reverse_complement: bool, input_length: int, targets: List[str],
               reduce: List[str], conv2d: bool, trace: bool) -> torch.jit.ScriptModule:
    net = net.eval()
    if not trace:
        try:
            return torch.jit.script(
                DeepMRGraphModel(net, alphabet, reverse_complement, input_length, targets, reduce).eval())
        except Exception as e:  # TorchScript cannot compile the module's Python: trace it instead
            print(f"export_model.py: scripting failed ({str(e).splitlines()[0]}); tracing instead", file=sys.stderr)
    example = torch.zeros((1, 4, 1, input_length) if conv2d else (1, 4, input_length))
    traced = torch.jit.trace(net, example, strict=False)
    return torch.jit.script(DeepMRGraphModel(traced, alphabet, reverse_complement, input_length, targets, reduce).eval())


def deepsea_layers() -> nn.Sequential:
    """Kipoi DeepSEA's layer stack (deep-mr-notes.md): 919 outputs, input N x 4 x 1 x 1000 in AGCT order."""
    return nn.Sequential(
        nn.Conv2d(4, 320, (1, 8)), nn.Threshold(0.0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(320, 480, (1, 8)), nn.Threshold(0.0, 1e-6), nn.MaxPool2d((1, 4), (1, 4)), nn.Dropout(0.2),
        nn.Conv2d(480, 960, (1, 8)), nn.Threshold(0.0, 1e-6), nn.Dropout(0.5),
        nn.Flatten(), nn.Linear(50880, 925), nn.Threshold(0.0, 1e-6), nn.Linear(925, 919), nn.Sigmoid())


def kipoi_deepsea_state_dict(state: dict) -> dict:
    """Maps Kipoi's DeepSEA keys ("2.0.weight", "2.12.1.weight", ...) onto deepsea_layers()."""
    mapping = {"0": "0", "4": "4", "8": "8", "12.1": "12", "14.1": "14"}
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[0] == "2" and len(parts) > 2:  # the wrapper's prefix
            parts = parts[1:]
        name, layer = parts[-1], ".".join(parts[:-1])
        if layer not in mapping:
            raise SystemExit(f"export_model.py: unexpected DeepSEA state-dict key '{key}'")
        out[f"{mapping[layer]}.{name}"] = value
    return out


def canonical(module: nn.Module) -> nn.Module:
    """Rewrites Kipoi-style constructs into plain supported layers, recursively."""
    if isinstance(module, nn.Sequential):
        children = list(module.children())
        # Kipoi wraps Linear layers as Sequential(Lambda(view-if-1d), Linear).
        if len(children) == 2 and type(children[0]).__name__ == "Lambda" and isinstance(children[1], nn.Linear):
            return children[1]
        return nn.Sequential(*[canonical(c) for c in children])
    if type(module).__name__ == "Lambda":
        return nn.Flatten()  # Kipoi's DeepSEA flattens with Lambda(lambda x: x.view(x.size(0), -1))
    if isinstance(module, nn.Threshold):
        return nn.Threshold(float(module.threshold), float(module.value))
    return module


def wrap(net: nn.Sequential, alphabet: str, reverse_complement: bool, input_length: int,
         targets: List[str]) -> torch.jit.ScriptModule:
    conv2d = any(isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d, nn.BatchNorm2d)) for m in net.modules())
    model = DeepMRModel(net.eval(), alphabet, reverse_complement, input_length, targets, conv2d).eval()
    return torch.jit.script(model)


def input_shape(scripted, batch: int, length: int):
    return (batch, 4, 1, length) if scripted.conv2d else (batch, 4, length)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--architecture", choices=["deepsea"], help="a known architecture")
    source.add_argument("--module", help="FILE.py:FUNCTION returning an nn.Module")
    parser.add_argument("--state-dict", action="append", default=[],
                        help="weights (torch.save of a state dict); default: random. Repeated: a deep ensemble in "
                             "one file, one member per state dict (e.g. the folds of a k-fold model)")
    parser.add_argument("--random-seed", type=int, default=1, help="seed of random weights")
    parser.add_argument("--members", type=int, default=0,
                        help="a deep ensemble of this many members with random weights (seeds random-seed, "
                             "random-seed + 1, ...), for tests and benchmarks")
    parser.add_argument("--alphabet", help="input channel order (deepsea: AGCT, else ACGT)")
    parser.add_argument("--reverse-complement", choices=["on", "off"],
                        help="average forward and reverse-complement outputs (deepsea: on)")
    parser.add_argument("--input-length", type=int, help="input length L (deepsea: 1000)")
    parser.add_argument("--targets", help="targets file: one output name per line, stored in the model")
    parser.add_argument("--trace", action="store_true",
                        help="a network that is not a layer stack: trace it instead of scripting it")
    parser.add_argument("--conv2d", action="store_true",
                        help="a network that is not a layer stack and takes N x 4 x 1 x L input (Kipoi's layout)")
    parser.add_argument("--reduce", action="append", default=[], metavar="HEAD=KIND[:FROM-TO]",
                        help="a network that is not a layer stack: reduce its profile head HEAD to one output per "
                             "task over positions FROM-TO (0-based, inclusive) by sum, mean or logsumexp, e.g. "
                             "profile=sum:400-599 (stored as deepmr_reduce; repeatable)")
    parser.add_argument("--out", required=True, help="output TorchScript file")
    args = parser.parse_args(argv)

    if args.members and args.state_dict:
        raise SystemExit("export_model.py: give --members (random weights) or --state-dict, not both")
    if args.members == 1 or args.members < 0:
        raise SystemExit("export_model.py: --members must be at least 2 (an ensemble)")

    def build(seed: int, state_dict):
        """The network (random weights from `seed`, or `state_dict`) and its defaults."""
        torch.manual_seed(seed)
        if args.architecture == "deepsea":
            net = deepsea_layers()
            if state_dict:
                net.load_state_dict(kipoi_deepsea_state_dict(torch.load(state_dict, map_location="cpu")))
            return net, ("AGCT", True, 1000)
        path, _, function = args.module.partition(":")
        spec = importlib.util.spec_from_file_location("user_model", path)
        user = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(user)
        net = canonical(getattr(user, function or "build")())
        if is_layer_stack(nn.Sequential(net)) and not isinstance(net, nn.Sequential):
            net = nn.Sequential(net)
        if state_dict:
            net.load_state_dict(torch.load(state_dict, map_location="cpu"))
        return net, ("ACGT", False, 0)

    if args.members:
        built = [build(args.random_seed + k, None) for k in range(args.members)]
    else:
        built = [build(args.random_seed, sd) for sd in (args.state_dict or [None])]
    nets = [net for net, _ in built]
    net, (alphabet, rc, length) = built[0]
    alphabet = args.alphabet or alphabet
    if args.reverse_complement:
        rc = args.reverse_complement == "on"
    length = args.input_length or length
    if length <= 0:
        raise SystemExit("export_model.py: give --input-length")
    targets = []
    if args.targets:
        with open(args.targets) as f:
            targets = [line.rstrip("\r\n") for line in f if line.strip()]

    if is_layer_stack(net):
        if args.reduce:
            raise SystemExit("export_model.py: --reduce applies to a network's profile heads; this one is a layer "
                             "stack whose outputs are one value per task already")
        members = [wrap(n, alphabet, rc, length, targets) for n in nets]
        shape = input_shape(members[0], 1, length)
        form = "layer stack"
    else:
        members = [wrap_graph(n, alphabet, rc, length, targets, args.reduce, args.conv2d, args.trace) for n in nets]
        shape = (1, 4, 1, length) if args.conv2d else (1, 4, length)
        form = "graph"
    scripted = members[0]
    if len(members) > 1:
        with torch.no_grad():
            lone = isinstance(members[0](torch.zeros(shape)), torch.Tensor)
        scripted = torch.jit.script((DeepMREnsembleMean if lone else DeepMREnsembleFirst)(members).eval())
        form = f"deep ensemble of {len(members)} {form} members"
    with torch.no_grad():
        y = members[0](torch.zeros(shape))
        outputs = flat_output_count(y)
        heads = set()
        for text in args.reduce:  # a reduced head has one output per task (its channels)
            match = re.fullmatch(r"([^=]*)=(sum|mean|logsumexp)(?::(\d+)-(\d+))?", text)
            if not match:
                raise SystemExit(f"export_model.py: --reduce {text}: use HEAD=sum|mean|logsumexp[:FROM-TO]")
            head = match.group(1)
            tensor = dict(zip(output_names(y), output_tensors(y))).get(head)
            if tensor is None or tensor.dim() != 3:
                raise SystemExit(f"export_model.py: --reduce {text}: no channels x length output named '{head}' "
                                 f"(the network's: {', '.join(output_names(y))})")
            if head in heads:
                raise SystemExit(f"export_model.py: --reduce {text}: '{head}' is reduced twice")
            heads.add(head)
            if match.group(3) is not None and not int(match.group(3)) <= int(match.group(4)) < tensor.shape[2]:
                raise SystemExit(f"export_model.py: --reduce {text}: the window must lie in 0-{tensor.shape[2] - 1}")
            outputs -= tensor[0].numel() - tensor.shape[1]
    if targets and outputs != len(targets):
        raise SystemExit(f"export_model.py: {len(targets)} targets but the model has {outputs} outputs")
    scripted.save(args.out)
    print(f"wrote {args.out} ({form}): {sum(p.numel() for n in nets for p in n.parameters())} parameters, "
          f"{outputs} outputs, input length {length}, alphabet {alphabet}, reverse complement {rc}")


if __name__ == "__main__":
    sys.exit(main())
