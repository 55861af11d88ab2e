#!/usr/bin/env python3
"""The bad-input corpus: every case runs the real deepmr binary (the `run` cases under mpirun at 2
and 3 ranks) on one broken input and asserts the documented exit status, exactly one clear line on
stderr naming the problem, no death by a signal, no hang (a timeout), and, where a store already
exists, that nothing in it or its journal was lost.

Usage: corpus.py BUILD_DIR SOURCE_DIR [unittest arguments]
"""
import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
DEEPMR = os.path.join(BUILD, "bin", "deepmr")
MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
TIMEOUT = 120
GENOME = os.path.join(SOURCE, "data", "genome", "hg38_chr22_32000000_32300000.fa")
MODEL = os.path.join(SOURCE, "tests", "data", "models", "conv1d_small.pt")
BAD_MODELS = os.path.join(SOURCE, "tests", "data", "robustness")


def read(path):
    with open(path) as f:
        return f.read()


def write(path, text, mode="w"):
    with open(path, mode) as f:
        f.write(text)
    return path


class Workspace:
    """A temp dir holding a valid tiny run (config, FASTA copy, peaks) that each case breaks."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="deepmr-corpus-")
        self.fasta = os.path.join(self.dir, "genome.fa")
        shutil.copy(GENOME, self.fasta)
        self.peaks = {}
        for tf in ("tfa", "tfb", "tfc"):
            self.peaks[tf] = os.path.join(self.dir, tf + ".bed")
            shutil.copy(os.path.join(SOURCE, "tests", "data", "run", tf + ".bed"), self.peaks[tf])
        self.store = os.path.join(self.dir, "run.h5")
        self.values = {
            "model": {"file": MODEL},
            "analysis": {"outcome": "conv1d_small|out0", "seed": "7", "mc-samples": "4",
                         "mr-methods": "egger,ivw", "bootstrap": "50"},
            "regions": {"fasta": self.fasta, "per-exposure": "3"},
            "run": {"store": self.store, "threads": "1", "progress-interval": "0"},
        }
        self.exposures = [("TFA", "conv1d_small|out1"), ("TFB", "conv1d_small|out2"), ("TFC", "conv1d_small|out3")]
        self.extra = ""

    def config(self, name="run.ini"):
        lines = []
        for section, keys in self.values.items():
            lines.append("[%s]" % section)
            lines += ["%s = %s" % (k, v) for k, v in keys.items()]
            if section == "analysis":
                lines += ["exposure = %s=%s" % e for e in self.exposures]
            if section == "regions" and self.values["regions"].get("source", "peaks") == "peaks":
                lines += ["peaks = %s=%s" % (e[0], self.peaks[e[0].lower()]) for e in self.exposures]
        return write(os.path.join(self.dir, name), "\n".join(lines) + "\n" + self.extra)

    def close(self):
        os.chmod(self.dir, 0o755)
        shutil.rmtree(self.dir, ignore_errors=True)


def fingerprint(paths):
    """Digest of every file under the given paths (the store and its journal)."""
    digest = hashlib.sha256()
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(os.listdir(path)):
                digest.update(name.encode())
                with open(os.path.join(path, name), "rb") as f:
                    digest.update(f.read())
        elif os.path.exists(path):
            with open(path, "rb") as f:
                digest.update(f.read())
    return digest.hexdigest()


class Corpus(unittest.TestCase):
    cases = 0

    def setUp(self):
        self.w = Workspace()

    def tearDown(self):
        self.w.close()

    def deepmr(self, *arguments, ranks=None, preexec=None):
        command = [DEEPMR] + list(arguments)
        if ranks is not None:
            command = MPIRUN + ["-n", str(ranks)] + command
        return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=TIMEOUT, cwd=self.w.dir,
                              preexec_fn=preexec)

    def expect(self, result, status, message):
        Corpus.cases += 1
        self.assertGreaterEqual(result.returncode, 0, "killed by a signal: " + result.stderr)
        self.assertLess(result.returncode, 128, "killed by a signal: " + result.stderr)
        self.assertEqual(result.returncode, status, result.stderr)
        # One error line, the last; a run that got as far as its main loop may have said before
        # how much work there was (an informational line, never an error).
        lines = result.stderr.strip().splitlines()
        errors = [line for line in lines if ": error: " in line]
        self.assertEqual(len(errors), 1, "expected one error line on stderr, got:\n" + result.stderr)
        self.assertEqual(errors[0], lines[-1], result.stderr)
        self.assertTrue(all(line.startswith("deepmr ") for line in lines), result.stderr)
        self.assertLessEqual(len(lines), 2, result.stderr)
        self.assertIn(message, errors[0])

    def run_case(self, status, message, ranks=(2, 3)):
        """A `deepmr run` case at each rank count; the workspace's config as it stands."""
        ini = self.w.config()
        for p in ranks:
            with self.subTest(ranks=p):
                self.expect(self.deepmr("run", "--config", ini, ranks=p), status, message)

    # --- FASTA -----------------------------------------------------------------------------
    def test_fasta_missing(self):
        self.w.values["regions"]["fasta"] = os.path.join(self.w.dir, "absent.fa")
        self.run_case(3, "absent.fa")

    def test_fasta_truncated_record(self):
        write(self.w.fasta, read(GENOME) + ">chrEmpty\n>chrCut\nACGTAC", "w")
        os.remove(self.w.fasta + ".fai") if os.path.exists(self.w.fasta + ".fai") else None
        # A record cut after a short last line is still a FASTA; a line longer than the first is not.
        write(self.w.fasta, ">chr22\nACGTACGT\nACGTACGTACGT\n")
        self.run_case(3, "genome.fa:3")

    def test_fasta_without_header(self):
        write(self.w.fasta, "ACGTACGTACGT\n>chr22\nACGT\n")
        self.run_case(3, "genome.fa:1")

    def test_fasta_with_bad_characters(self):
        text = read(GENOME)
        write(self.w.fasta, text[:200] + "X" + text[201:])
        self.run_case(3, "genome.fa")

    def test_fasta_duplicate_names(self):
        write(self.w.fasta, ">chr22\nACGT\n>chr22\nACGT\n")
        self.run_case(3, "chr22")

    def test_fasta_gzip(self):
        with gzip.open(self.w.fasta, "wt") as f:
            f.write(read(GENOME))
        self.run_case(3, "gzip")

    def test_fai_of_another_fasta(self):
        write(self.w.fasta + ".fai", "chr22\t1000\t7\t60\t61\n")
        self.run_case(3, ".fai")

    def test_empty_fasta(self):
        write(self.w.fasta, "")
        self.run_case(3, "genome.fa")

    # --- peaks -----------------------------------------------------------------------------
    def test_bed_too_few_columns(self):
        write(self.w.peaks["tfa"], "chr22\t1000\n")
        self.run_case(3, "tfa.bed:1")

    def test_bed_non_numeric_coordinate(self):
        write(self.w.peaks["tfa"], "chr22\t1000\t12x0\n")
        self.run_case(3, "tfa.bed:1")

    def test_bed_negative_coordinate(self):
        write(self.w.peaks["tfa"], "chr22\t-5\t100\n")
        self.run_case(3, "tfa.bed:1")

    def test_bed_start_after_end(self):
        write(self.w.peaks["tfa"], "chr22\t5000\t4000\n")
        self.run_case(3, "tfa.bed:1")

    def test_bed_unknown_chromosome(self):
        write(self.w.peaks["tfa"], "chr22\t5000\t5200\nchrQ\t100\t300\n")
        self.run_case(3, "chrQ")

    def test_peaks_corrupt_gzip(self):
        path = self.w.peaks["tfa"] + ".gz"
        with gzip.open(path, "wb") as f:
            f.write(read(self.w.peaks["tfa"]).encode() * 50)
        with open(path, "r+b") as f:
            f.seek(30)
            f.write(b"\xff" * 40)
        self.w.peaks["tfa"] = path
        self.run_case(3, "tfa.bed.gz")

    def test_empty_peak_file(self):
        write(self.w.peaks["tfa"], "")
        self.run_case(3, "tfa.bed")

    def test_fewer_peaks_than_asked(self):
        self.w.values["regions"]["per-exposure"] = "50"
        self.run_case(3, "allow-fewer")

    def test_narrowpeak_bad_summit(self):
        path = os.path.join(self.w.dir, "tfa.narrowPeak")
        write(path, "chr22\t5000\t5200\tp\t0\t.\t1\t1\t1\tsummit\n")
        self.w.peaks["tfa"] = path
        self.run_case(3, "tfa.narrowPeak:1")

    # --- config ----------------------------------------------------------------------------
    def test_config_unknown_key(self):
        self.w.values["analysis"]["mc_samples"] = "4"
        self.run_case(2, "unknown key 'analysis.mc_samples'")

    def test_config_wrong_type(self):
        self.w.values["analysis"]["mc-samples"] = "many"
        self.run_case(2, "'analysis.mc-samples'")

    def test_config_zero_samples(self):
        self.w.values["analysis"]["mc-samples"] = "0"
        self.run_case(2, "'analysis.mc-samples' must be at least 2")

    def test_config_one_sample(self):
        self.w.values["analysis"]["mc-samples"] = "1"
        self.run_case(2, "'analysis.mc-samples' must be at least 2")

    def test_config_negative_regions(self):
        self.w.values["regions"]["per-exposure"] = "-3"
        self.run_case(2, "per-exposure")

    def test_config_missing_outcome(self):
        del self.w.values["analysis"]["outcome"]
        self.run_case(2, "analysis.outcome")

    def test_config_unknown_engine(self):
        self.w.values["analysis"]["engine"] = "warp"
        self.run_case(2, "analysis.engine")

    def test_config_line_without_equals(self):
        self.w.extra = "[run]\nthis is not a key\n"
        self.run_case(2, "expected 'key = value'")

    def test_config_key_twice(self):
        self.w.extra = "[analysis]\nseed = 8\n"
        self.run_case(2, "set twice")

    def test_config_missing_file(self):
        for p in (2, 3):
            self.expect(self.deepmr("run", "--config", os.path.join(self.w.dir, "absent.ini"), ranks=p), 2,
                        "cannot read the config file")

    def test_config_bad_tau2(self):
        self.w.values["analysis"]["tau2"] = "XYZ"
        self.run_case(2, "analysis.tau2")

    def test_config_bad_mr_method(self):
        self.w.values["analysis"]["mr-methods"] = "egger,magic"
        self.run_case(2, "magic")

    def test_config_zero_threads(self):
        self.w.values["run"]["threads"] = "0"
        self.run_case(2, "run.threads")

    def test_config_sweep_without_bed(self):
        self.w.values["regions"]["source"] = "sweep"
        self.w.values["regions"]["exposures"] = "TFA"
        del self.w.values["regions"]["per-exposure"]
        self.run_case(2, "regions.sweep")

    def test_config_peaks_entry_without_file(self):
        self.w.extra = "[regions]\npeaks = TFD\n"
        self.run_case(2, "NAME=FILE")

    # --- model -----------------------------------------------------------------------------
    def test_model_not_torchscript(self):
        self.w.values["model"]["file"] = write(os.path.join(self.w.dir, "model.pt"), "not a model\n")
        self.run_case(4, "not a TorchScript model file")

    def test_model_unsupported_layer(self):
        self.w.values["model"]["file"] = os.path.join(SOURCE, "tests", "data", "models", "unsupported_layer.pt")
        self.run_case(4, "'GELU'")

    def test_model_wrong_input_shape(self):
        self.w.values["model"]["file"] = os.path.join(SOURCE, "tests", "data", "models", "six_channels.pt")
        self.run_case(4, "takes 6 input channels")

    def test_model_without_dropout(self):
        self.w.values["model"]["file"] = os.path.join(BAD_MODELS, "no_dropout.pt")
        self.w.exposures = [("TFA", "out1"), ("TFB", "out2"), ("TFC", "out3")]
        self.w.values["analysis"]["outcome"] = "out0"
        self.run_case(4, "no dropout layer")

    def test_model_dropout_outside_unit_interval(self):
        self.w.values["model"]["file"] = os.path.join(BAD_MODELS, "dropout_one.pt")
        self.run_case(4, "it must lie in [0, 1)")

    def test_unknown_outcome(self):
        self.w.values["analysis"]["outcome"] = "conv1d_small|out9"
        self.run_case(4, "unknown output 'conv1d_small|out9'")

    def test_unknown_exposure_output(self):
        self.w.exposures[1] = ("TFB", "77")
        self.run_case(4, "exposure 'TFB'")

    def test_targets_of_the_wrong_length(self):
        self.w.values["model"]["targets"] = write(os.path.join(self.w.dir, "targets.txt"), "a\nb\n")
        self.run_case(4, "names 2 outputs but the model has 5")

    # --- store -----------------------------------------------------------------------------
    def completed_run(self):
        ini = self.w.config()
        result = self.deepmr("run", "--config", ini, ranks=2)
        self.assertEqual(result.returncode, 0, result.stderr)
        return fingerprint([self.w.store, self.w.store + ".journal"])

    def test_resume_with_another_config_keeps_the_store(self):
        before = self.completed_run()
        self.w.values["analysis"]["seed"] = "8"
        ini = self.w.config()
        for p in (2, 3):
            self.expect(self.deepmr("run", "--config", ini, "--resume", ranks=p), 2, "analysis.seed")
        self.assertEqual(fingerprint([self.w.store, self.w.store + ".journal"]), before)

    def test_fresh_run_over_an_existing_store_keeps_it(self):
        before = self.completed_run()
        self.run_case(5, "already exists")
        self.assertEqual(fingerprint([self.w.store, self.w.store + ".journal"]), before)

    def test_store_in_a_missing_directory(self):
        self.w.values["run"]["store"] = os.path.join(self.w.dir, "no-such-dir", "run.h5")
        self.run_case(5, "does not exist")
        self.assertFalse(os.path.exists(os.path.join(self.w.dir, "no-such-dir")))

    def test_unwritable_output_directory(self):
        # Root writes anywhere a permission bit forbids; a path through a regular file it cannot.
        blocker = write(os.path.join(self.w.dir, "blocker"), "a file, not a directory\n")
        self.w.values["run"]["store"] = os.path.join(blocker, "run.h5")
        self.run_case(5, "run.store")

    def test_disk_full_keeps_what_was_written(self):
        disk = os.path.join(self.w.dir, "disk")
        os.mkdir(disk)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", disk], capture_output=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: " + mounted.stderr.decode().strip())
        try:
            self.w.values["run"]["store"] = os.path.join(disk, "run.h5")
            self.w.values["run"]["store-effects"] = "true"  # big records: the disk fills after a few
            ini = self.w.config()
            for p in (2, 3):
                with self.subTest(ranks=p):
                    subprocess.run(["sh", "-c", "rm -rf %s/*" % disk])
                    result = self.deepmr("run", "--config", ini, ranks=p)
                    self.expect(result, 5, "No space left on device")
                    kept = fingerprint([self.w.values["run"]["store"] + ".journal"])
                    # Nothing written is lost: the journal is intact and a resume elsewhere
                    # (after moving it to a bigger disk) completes from it.
                    moved = os.path.join(self.w.dir, "moved%d" % p)
                    os.mkdir(moved)
                    shutil.copytree(self.w.values["run"]["store"] + ".journal", os.path.join(moved, "run.h5.journal"))
                    self.w.values["run"]["store"] = os.path.join(moved, "run.h5")
                    resumed = self.deepmr("run", "--config", self.w.config("moved.ini"), "--resume", ranks=p)
                    self.assertEqual(resumed.returncode, 0, resumed.stderr)
                    self.assertIn("units done", resumed.stderr)
                    self.assertEqual(kept, fingerprint([os.path.join(disk, "run.h5.journal")]))
                    self.w.values["run"]["store"] = os.path.join(disk, "run.h5")
        finally:
            subprocess.run(["umount", disk])

    def test_summarize_a_missing_store(self):
        self.expect(self.deepmr("summarize", os.path.join(self.w.dir, "absent.h5")), 5, "absent.h5")

    def test_summarize_a_file_that_is_not_a_store(self):
        self.expect(self.deepmr("summarize", write(os.path.join(self.w.dir, "x.h5"), "garbage")), 5, "x.h5")

    def test_summarize_an_hdf5_file_of_something_else(self):
        import h5py
        with h5py.File(os.path.join(self.w.dir, "other.h5"), "w") as f:
            f["x"] = [1, 2, 3]
        self.expect(self.deepmr("summarize", os.path.join(self.w.dir, "other.h5")), 5, "not a deepmr store")

    # --- the single-window and statistics commands ------------------------------------------
    def test_ism_sequence_with_bad_characters(self):
        self.expect(self.deepmr("ism", "--model", MODEL, "--outputs", "0", "--sequence", "ACGU" * 15), 3,
                    "character 'U' at position 3")

    def test_ism_region_of_the_wrong_length(self):
        self.expect(self.deepmr("ism", "--model", MODEL, "--outputs", "0", "--fasta", GENOME, "--region",
                                "chr22:1001-1050"), 3, "the window has 50 bases but the model takes 60")

    def test_mr_input_without_a_column(self):
        path = write(os.path.join(self.w.dir, "in.tsv"), "bx\tbxse\tby\n0.1\t0.01\t0.2\n")
        self.expect(self.deepmr("mr", "--input", path), 3, "byse")

    def test_mr_input_with_a_bad_number(self):
        path = write(os.path.join(self.w.dir, "in.tsv"), "bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.02\n0.1\tabc\t0.2\t0.02\n")
        self.expect(self.deepmr("mr", "--input", path), 3, "in.tsv:3")

    def test_meta_input_empty(self):
        path = write(os.path.join(self.w.dir, "m.tsv"), "estimate\tse\n")
        self.expect(self.deepmr("meta", "--input", path), 3, "m.tsv")

    def test_plan_with_a_bad_config_value(self):
        self.w.values["regions"]["n-policy"] = "maybe"
        self.expect(self.deepmr("plan", "--config", self.w.config()), 2, "regions.n-policy")


class ModelFailures(unittest.TestCase):
    """Model outputs that are NaN or infinite fail the units that need them; the run goes on."""

    def test_nan_exposure_fails_its_units_and_the_run_completes(self):
        w = Workspace()
        try:
            w.values["model"]["file"] = os.path.join(BAD_MODELS, "nan_exposure.pt")
            w.values["analysis"]["outcome"] = "out0"
            w.exposures = [("TFA", "out1"), ("TFB", "out2"), ("TFC", "out3")]
            ini = w.config()
            result = subprocess.run(MPIRUN + ["-n", "3", DEEPMR, "run", "--config", ini], env=ENV, capture_output=True,
                                    text=True, timeout=TIMEOUT)
            self.assertEqual(result.returncode, 0, result.stderr)
            rows = [line.split("\t") for line in result.stdout.splitlines()]
            header = rows[0]
            table = {row[0]: dict(zip(header, row)) for row in rows[1:]}
            self.assertEqual(table["TFB"]["failed"], "3")
            self.assertEqual(table["TFA"]["failed"], "0")
            self.assertEqual(table["TFA"]["status"], "ok")
            self.assertIn("(3 failed)", result.stderr)
            units = subprocess.run([DEEPMR, "summarize", w.store, "--units"], capture_output=True, text=True)
            self.assertIn("failed: the model gave a non-finite output (NaN or Inf) on out2", units.stdout)
        finally:
            w.close()


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False)
    print("corpus: %d bad-input checks" % Corpus.cases, file=sys.stderr)
    sys.exit(not result.result.wasSuccessful())
