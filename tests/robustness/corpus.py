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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
DEEPMR = os.path.join(BUILD, "bin", "deepmr")
MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
# Per command; sanitizer builds run several times slower (CTest scales its own limits alike).
TIMEOUT = 120 * int(os.environ.get("DEEPMR_TIMEOUT_SCALE", "1"))
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


def children(pid):
    """The pids of the processes whose parent is `pid` (mpirun's ranks)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def fingerprint(paths):
    """Digest of every file under the given paths (the store and its journal; not the journal's lock,
    which names the last job that started on the store)."""
    digest = hashlib.sha256()
    for path in paths:
        if os.path.isdir(path):
            for name in sorted(n for n in os.listdir(path) if n != "lock"):
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

    def test_stale_fai_after_a_record_was_appended(self):
        write(self.w.fasta + ".fai", read(GENOME + ".fai"))
        write(self.w.fasta, ">chrNew appended later\n" + "ACGT" * 500 + "\n", "a")
        write(self.w.peaks["tfa"], "chrNew\t100\t300\n")
        self.run_case(3, "the FASTA has sequence 'chrNew' on line 4, past the sequences the index lists")

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

    def test_peaks_truncated_gzip_names_the_line(self):
        path = self.w.peaks["tfa"] + ".gz"
        data = gzip.compress("".join("chr22\t%d\t%d\n" % (i, i + 200) for i in range(1000, 60000, 10)).encode())
        write(path, data[:len(data) // 2], "wb")
        self.w.peaks["tfa"] = path
        for p in (2, 3):
            with self.subTest(ranks=p):
                result = self.deepmr("run", "--config", self.w.config(), ranks=p)
                self.expect(result, 3, "the gzip stream is corrupt or truncated")
                line = re.search(r"tfa\.bed\.gz:(\d+):", result.stderr)
                self.assertTrue(line and int(line.group(1)) > 100, result.stderr)

    def test_bed_byte_order_mark_is_not_part_of_the_name(self):
        write(self.w.peaks["tfa"], "\ufeffchrQ\t100\t300\n", "w")
        self.run_case(3, "'chrQ'")

    def test_narrowpeak_trailing_tab_is_accepted(self):
        path = os.path.join(self.w.dir, "tfa.narrowPeak")
        # The trailing tabs are accepted; the bad summit of line 2 is what is reported.
        write(path, "chr22\t5000\t5200\tp\t0\t.\t1\t1\t1\t50\t\nchr22\t6000\t6200\tq\t0\t.\t1\t1\t1\tsummit\t\n")
        self.w.peaks["tfa"] = path
        self.run_case(3, "tfa.narrowPeak:2: summit")

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

    def test_config_byte_order_mark_is_skipped(self):
        self.w.values["analysis"]["mc_samples"] = "4"
        ini = self.w.config()
        write(ini, "\ufeff" + read(ini))
        # The mark used to make line 1 '[model]' malformed; now the real problem is named.
        for p in (2, 3):
            with self.subTest(ranks=p):
                self.expect(self.deepmr("run", "--config", ini, ranks=p), 2, "unknown key 'analysis.mc_samples'")

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

    def test_model_that_crashes_libtorch(self):
        # LibTorch 1.13's importer dies of SIGSEGV on some damaged archives (a fuzz finding);
        # a shim makes it crash on every file. deepmr reads the file in a child process first.
        shim = os.path.join(BUILD, "lib", "libdeepmr_importer_crash_shim.so")
        if "DEEPMR_SANITIZE:BOOL=ON" in read(os.path.join(BUILD, "CMakeCache.txt")):
            self.skipTest("a preloaded shim cannot come before the sanitizer runtime")
        message = "LibTorch crashed reading the model file with SIGSEGV"
        result = subprocess.run([DEEPMR, "ism", "--model", MODEL, "--sequence", "ACGT" * 25, "--outputs", "out0"],
                                env=dict(ENV, LD_PRELOAD=shim), capture_output=True, text=True, timeout=TIMEOUT,
                                cwd=self.w.dir)
        self.expect(result, 4, message)
        ini = self.w.config()
        for p in (2, 3):
            with self.subTest(ranks=p):
                command = MPIRUN + ["-n", str(p), "-x", "LD_PRELOAD=" + shim, DEEPMR, "run", "--config", ini]
                result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=TIMEOUT, cwd=self.w.dir)
                self.expect(result, 4, message)

    def test_model_unsupported_layer(self):
        # A Sequential with a GELU is read as a graph (docs/models.md, Graphs), which needs a length.
        self.w.values["model"]["file"] = os.path.join(SOURCE, "tests", "data", "models", "unsupported_layer.pt")
        self.run_case(4, "the model does not say its input length (no deepmr_input_length); give --input-length")

    def test_model_unsupported_op(self):
        # Neither a layer stack nor a graph of the supported ops: the graph reader names the op.
        self.w.values["model"]["file"] = os.path.join(SOURCE, "tests", "data", "models", "two_branches.pt")
        self.w.values["model"]["input-length"] = "10"
        self.run_case(4, "unsupported op aten::sum")

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

    def mounted_disk(self, size):
        disk = os.path.join(self.w.dir, "disk")
        os.makedirs(disk, exist_ok=True)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", disk], capture_output=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: " + mounted.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", disk])
        return disk

    def expect_io_failure(self, result, message):
        """Exit 5 naming the cause; besides deepmr's lines only Open MPI's I/O layer may speak (it
        prints its own line for a failed write, which deepmr cannot silence)."""
        Corpus.cases += 1
        self.assertEqual(result.returncode, 5, result.stderr)
        lines = [line for line in result.stderr.strip().splitlines() if not line.startswith("mca_fbtl_posix")]
        errors = [line for line in lines if ": error: " in line]
        self.assertEqual(len(errors), 1, result.stderr)
        self.assertTrue(all(line.startswith("deepmr ") for line in lines), result.stderr)
        self.assertIn(message, errors[0])

    def resume_elsewhere_completes(self, journal, ranks, name):
        moved = os.path.join(self.w.dir, name)
        os.mkdir(moved)
        shutil.copytree(journal, os.path.join(moved, "run.h5.journal"))
        before = self.w.values["run"]["store"]
        self.w.values["run"]["store"] = os.path.join(moved, "run.h5")
        resumed = self.deepmr("run", "--config", self.w.config(name + ".ini"), "--resume", ranks=ranks)
        self.w.values["run"]["store"] = before
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn("the run is complete", resumed.stderr)

    def check_full_disk(self, size, expect_failure):
        """A run on a tmpfs of `size` with big records fails as `expect_failure` checks; nothing written
        is lost: the journal stays as it was, and a resume elsewhere (a bigger disk) completes."""
        disk = self.mounted_disk(size)
        self.w.values["run"]["store"] = os.path.join(disk, "run.h5")
        self.w.values["run"]["store-effects"] = "true"
        ini = self.w.config()
        journal = os.path.join(disk, "run.h5.journal")
        for p in (2, 3):
            with self.subTest(ranks=p):
                subprocess.run(["sh", "-c", "rm -rf %s/*" % disk])
                expect_failure(self.deepmr("run", "--config", ini, ranks=p))
                kept = fingerprint([journal])
                self.assertFalse(os.path.exists(os.path.join(disk, "run.h5.assembling")), "the failed store is removed")
                self.resume_elsewhere_completes(journal, p, "moved-%s-%d" % (size, p))
                self.assertEqual(kept, fingerprint([journal]))

    def test_disk_full_keeps_what_was_written(self):
        # The journal itself fills the disk after a few records.
        self.check_full_disk("16k", lambda result: self.expect(result, 5, "No space left on device"))

    def test_disk_full_while_the_store_is_assembled(self):
        # The journal fits, the store does not (issue 15, item 1: this hung every rank).
        self.check_full_disk("100k", lambda result: self.expect_io_failure(result, "No space left on device"))

    def test_disk_fills_inside_hdf5_writes(self):
        # After the space check passed, writes to the store fail (an LD_PRELOAD shim) where some
        # ranks wait inside HDF5 for the others: the failing rank ends the job after 15 s.
        shim = os.path.join(BUILD, "lib", "libdeepmr_enospc_shim.so")
        if "DEEPMR_SANITIZE:BOOL=ON" in read(os.path.join(BUILD, "CMakeCache.txt")):
            self.skipTest("a preloaded shim cannot come before the sanitizer runtime")
        self.w.values["run"]["store-effects"] = "true"
        ini = self.w.config()
        # Only writes while the store is created: once its space is reserved (fallocate), a write
        # error inside HDF5's own metadata flush is not agreed on by HDF5 1.10 (docs/reliability.md).
        for after in ("0", "2000"):
            for p in (2, 3):
                with self.subTest(ranks=p, after=after):
                    for path in (self.w.store, self.w.store + ".journal", self.w.store + ".assembling"):
                        shutil.rmtree(path, ignore_errors=True) if os.path.isdir(path) else (
                            os.remove(path) if os.path.exists(path) else None)
                    command = MPIRUN + ["-n", str(p), "-x", "LD_PRELOAD=" + shim, "-x", "DEEPMR_TEST_ENOSPC_SUFFIX=.assembling",
                                        "-x", "DEEPMR_TEST_ENOSPC_AFTER=" + after, DEEPMR, "run", "--config", ini]
                    result = subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=TIMEOUT, cwd=self.w.dir)
                    if result.returncode == 0:
                        continue  # this much space was enough for the store
                    self.expect_io_failure(result, "run.h5.assembling")
                    self.resume_elsewhere_completes(self.w.store + ".journal", p, "resumed-%s-%d" % (after, p))

    def test_journal_part_of_another_run(self):
        self.completed_run()
        other = os.path.join(self.w.dir, "other.h5")
        self.w.values["analysis"]["seed"] = "8"
        self.w.values["run"]["store"] = other
        result = self.deepmr("run", "--config", self.w.config("other.ini"), ranks=2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.w.values["analysis"]["seed"] = "7"
        self.w.values["run"]["store"] = self.w.store
        shutil.copy(os.path.join(other + ".journal", "part-0-1.jrn"), os.path.join(self.w.store + ".journal", "part-5-1.jrn"))
        ini = self.w.config()
        for p in (2, 3):
            with self.subTest(ranks=p):
                self.expect(self.deepmr("run", "--config", ini, "--resume", ranks=p), 5,
                            "part-5-1.jrn: holds records of another run")

    def test_journal_length_field_with_a_flipped_bit(self):
        self.completed_run()
        part = os.path.join(self.w.store + ".journal", "part-0-1.jrn")
        with open(part, "r+b") as f:
            f.seek(4 + 4)  # the first record's length, byte 4 of 8: +4 GiB
            byte = f.read(1)
            f.seek(4 + 4)
            f.write(bytes([byte[0] ^ 1]))
        for p in (2, 3):
            with self.subTest(ranks=p):
                result = self.deepmr("run", "--config", self.w.config(), "--resume", ranks=p)
                self.assertEqual(result.returncode, 0, result.stderr)  # its regions are computed again
                self.assertIn("the run is complete", result.stderr)

    def test_resume_after_the_fasta_changed_inside_the_windows(self):
        self.completed_run()
        text = read(self.w.fasta)
        header, _, body = text.partition("\n")
        write(self.w.fasta, header + "\n" + body.translate(str.maketrans("ACac", "CAca")))  # same layout
        for p in (2, 3):
            with self.subTest(ranks=p):
                self.expect(self.deepmr("run", "--config", self.w.config(), "--resume", ranks=p), 2,
                            "the contents of regions.fasta changed")

    def test_resume_with_relative_paths_to_the_same_files(self):
        self.completed_run()
        self.w.values["regions"]["fasta"] = os.path.relpath(self.w.fasta, self.w.dir)
        self.w.values["run"]["store"] = os.path.relpath(self.w.store, self.w.dir)
        self.w.peaks = {k: os.path.relpath(v, self.w.dir) for k, v in self.w.peaks.items()}
        result = self.deepmr("run", "--config", self.w.config(), "--resume", ranks=2)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("units done", result.stderr)

    def test_journal_without_its_manifest(self):
        self.completed_run()
        os.remove(self.w.store)
        os.remove(os.path.join(self.w.store + ".journal", "manifest"))
        ini = self.w.config()
        for start in ([], ["--resume"], ["--auto-resume"]):
            with self.subTest(start=start):
                result = self.deepmr("run", "--config", ini, *start, ranks=2)
                self.expect(result, 5, "holds journal records but no manifest")
                self.assertNotIn("--resume", result.stderr.splitlines()[-1])  # no circular advice

    def test_a_second_job_on_the_same_store_is_refused(self):
        # Two jobs on one store used to both compute everything (--auto-resume) or fail without a
        # cause (--resume). The lock names the first job; killed, it leaves no lock behind.
        # Every peak (21 regions) at 600 samples: 6 s of work in Release, so the first job is still
        # computing when it is stopped below, and the final resume stays within the per-command limit
        # under the sanitizers (at 3000 samples it needed about 15 minutes there, a region every 45-60 s).
        self.w.values["analysis"]["mc-samples"] = "600"
        self.w.values["regions"]["per-exposure"] = "0"
        ini = self.w.config()
        first = subprocess.Popen(MPIRUN + ["-n", "2", DEEPMR, "run", "--config", ini], env=ENV, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, cwd=self.w.dir, start_new_session=True)
        lock = os.path.join(self.w.store + ".journal", "lock")
        try:
            for _ in range(1200):
                if os.path.exists(lock) and "pid" in read(lock):
                    break
                time.sleep(0.05)
            # Held still, the first job keeps its lock however long the second ones take to start
            # on a loaded machine (it finished first once, beside a sanitizer run). mpirun puts each
            # rank in its own process group: they are stopped one by one.
            for pid in [first.pid] + children(first.pid):
                os.kill(pid, signal.SIGSTOP)
            for start in (["--auto-resume"], ["--resume"], []):
                with self.subTest(start=start):
                    second = self.deepmr("run", "--config", ini, *start, ranks=2)
                    self.assertIsNone(first.poll(), "the first job ended before the second was refused")
                    self.expect(second, 5, "another job is running on this store (host ")
        finally:
            for pid in children(first.pid) + [first.pid]:  # the whole first job, as a scheduler kills it
                os.kill(pid, signal.SIGKILL)
            first.communicate(timeout=TIMEOUT)
        resumed = self.deepmr("run", "--config", ini, "--resume", ranks=2)
        self.assertEqual(resumed.returncode, 0, resumed.stderr)
        self.assertIn("the run is complete", resumed.stderr)

    def test_config_negative_seed(self):
        self.w.values["analysis"]["seed"] = "-1"
        self.run_case(2, "option 'analysis.seed': expected a non-negative integer")

    def test_config_one_bootstrap_draw(self):
        self.w.values["analysis"]["bootstrap"] = "1"
        self.run_case(2, "1 draw gives no standard error")

    def test_config_samples_beyond_memory(self):
        # One device per worker streams the samples (memory bounded in N); a split over two keeps
        # every block of 8 samples to merge them in order, which 2e9 samples cannot fit.
        self.w.values["analysis"]["mc-samples"] = "2000000000"
        self.w.values["run"]["gpus-per-worker"] = "2"
        self.run_case(2, "more than half of this node's")

    def test_exposure_that_is_the_outcome(self):
        self.w.exposures[0] = ("TFA", "conv1d_small|out0")
        self.run_case(2, "exposure 'TFA' is the outcome's own output")

    def test_model_whose_dropout_rates_are_all_zero(self):
        self.w.values["model"]["file"] = os.path.join(BAD_MODELS, "dropout_zero.pt")
        self.w.exposures = [("TFA", "out1"), ("TFB", "out2"), ("TFC", "out3")]
        self.w.values["analysis"]["outcome"] = "out0"
        self.run_case(4, "every dropout layer has p = 0")

    def test_sequences_file_with_nan_labels(self):
        import h5py
        import numpy as np
        path = os.path.join(self.w.dir, "seqs.h5")
        rng = np.random.default_rng(1)
        one_hot = np.eye(4, dtype=np.uint8)[rng.integers(0, 4, size=(20, 60))].transpose(0, 2, 1)
        labels = np.ones((20, 5), dtype=np.float32)
        labels[7, 2] = np.nan
        with h5py.File(path, "w") as f:
            f["sequences"] = one_hot
            f["labels"] = labels
        self.w.values["regions"] = {"source": "sequences", "sequences": path, "label": "TFA=2", "per-exposure": "3"}
        self.w.exposures = [("TFA", "conv1d_small|out1")]
        self.run_case(3, "holds NaN at row 7, column 2")

    def test_summarize_a_missing_store(self):
        self.expect(self.deepmr("summarize", os.path.join(self.w.dir, "absent.h5")), 5, "absent.h5")

    def test_summarize_a_file_that_is_not_a_store(self):
        self.expect(self.deepmr("summarize", write(os.path.join(self.w.dir, "x.h5"), "garbage")), 5, "x.h5")

    def test_summarize_an_hdf5_file_of_something_else(self):
        import h5py
        with h5py.File(os.path.join(self.w.dir, "other.h5"), "w") as f:
            f["x"] = [1, 2, 3]
        self.expect(self.deepmr("summarize", os.path.join(self.w.dir, "other.h5")), 5, "not a deepmr store")

    def test_summarize_a_partial_store_says_so_and_exits_75(self):
        # A run stopped early leaves complete = 0: every row says "partial" (TSV and JSON) and the
        # status is 75, so a script cannot take the table for the final one.
        import h5py
        import json
        self.completed_run()
        with h5py.File(self.w.store, "r+") as f:
            self.assertEqual(f.attrs["complete"], 1)
            f.attrs.modify("complete", f.attrs["complete"] * 0)
        for arguments in ([], ["--units"]):
            tsv = self.deepmr("summarize", self.w.store, *arguments)
            self.assertEqual(tsv.returncode, 75, tsv.stderr)
            lines = tsv.stdout.splitlines()
            self.assertEqual(lines[0].split("\t")[-1], "run")
            self.assertTrue(len(lines) > 1 and all(line.split("\t")[-1] == "partial" for line in lines[1:]), tsv.stdout)
            self.assertIn("the run is not complete", tsv.stderr)
            rows = json.loads(self.deepmr("summarize", self.w.store, "--format", "json", *arguments).stdout)
            self.assertEqual({row["run"] for row in rows}, {"partial"})
        with h5py.File(self.w.store, "r+") as f:
            f.attrs.modify("complete", f.attrs["complete"] + 1)
        final = self.deepmr("summarize", self.w.store)
        self.assertEqual(final.returncode, 0, final.stderr)
        self.assertTrue(all(line.endswith("\tcomplete") for line in final.stdout.splitlines()[1:]), final.stdout)

    # --- the single-window and statistics commands ------------------------------------------
    def test_ism_sequence_with_bad_characters(self):
        self.expect(self.deepmr("ism", "--model", MODEL, "--outputs", "0", "--sequence", "ACGU" * 15), 3,
                    "character 'U' at position 3")

    def test_ism_region_of_the_wrong_length(self):
        self.expect(self.deepmr("ism", "--model", MODEL, "--outputs", "0", "--fasta", GENOME, "--region",
                                "chr22:1001-1050"), 3, "the window has 50 bases but the model takes 60")

    def test_ism_negative_region_id(self):
        self.expect(self.deepmr("ism", "--model", MODEL, "--outputs", "0", "--sequence", "ACGT" * 15, "--region-id", "-1"),
                    2, "option 'region-id': expected an integer from 0 to 4294967295, got '-1'")

    def test_ism_non_finite_output_is_named_on_stderr(self):
        result = self.deepmr("ism", "--model", os.path.join(BAD_MODELS, "nan_exposure.pt"), "--outputs", "out1,out2",
                             "--sequence", "ACGT" * 15, "--mc-samples", "2")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr.splitlines(),
                         ["deepmr ism: warning: output out2: 180 of 180 mutants have a non-finite effect (the model gave "
                          "NaN or Inf on the reference or the mutant), printed as empty fields"])
        out2 = [line.split("\t") for line in result.stdout.splitlines()[1:] if line.split("\t")[3] == "out2"]
        self.assertEqual({(row[4], row[5]) for row in out2}, {("", "")})  # no se of 0 beside a NaN

    def test_mr_input_without_a_column(self):
        path = write(os.path.join(self.w.dir, "in.tsv"), "bx\tbxse\tby\n0.1\t0.01\t0.2\n")
        self.expect(self.deepmr("mr", "--input", path), 3, "byse")

    def test_mr_input_with_a_bad_number(self):
        path = write(os.path.join(self.w.dir, "in.tsv"), "bx\tbxse\tby\tbyse\n0.1\t0.01\t0.2\t0.02\n0.1\tabc\t0.2\t0.02\n")
        self.expect(self.deepmr("mr", "--input", path), 3, "in.tsv:3")

    def test_mr_input_byte_order_mark_and_empty_ignored_field(self):
        # The mark hid column 'bx' and the empty 'note' field shortened line 2; line 3's number is the problem.
        path = write(os.path.join(self.w.dir, "in.tsv"),
                     "\ufeffbx\tbxse\tby\tbyse\tnote\n0.1\t0.01\t0.2\t0.02\t\n0.1\tabc\t0.2\t0.02\t\n")
        self.expect(self.deepmr("mr", "--input", path), 3, "in.tsv:3: column 'bxse': 'abc' is not a number")

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

    def test_nan_weight_propagates_as_in_pytorch(self):
        # One NaN weight in the first convolution: PyTorch (float64, below) gives NaN for every
        # output, as 0 x NaN is NaN and ReLU keeps NaN; deepmr's kernels used to turn it into 0.
        import torch
        model_path = os.path.join(BAD_MODELS, "nan_first_conv.pt")
        model = torch.jit.load(model_path).double().eval()
        sequence = read(GENOME).split("\n", 1)[1].replace("\n", "")[5000:5060].upper()
        bases = "ACGT"

        def pytorch(seq):
            x = torch.zeros(1, 4, 60, dtype=torch.float64)
            for i, b in enumerate(seq):
                x[0, bases.index(b), i] = 1
            with torch.no_grad():
                return model(x)[0].numpy()

        reference = pytorch(sequence)
        expected = {}
        for position in range(60):
            for alt in bases:
                if alt != sequence[position]:
                    out = pytorch(sequence[:position] + alt + sequence[position + 1:]) - reference
                    for o in range(5):
                        expected[(position, alt, "out%d" % o)] = bool(out[o] != out[o])
        self.assertTrue(all(expected.values()), "the fixture should poison every output")
        for engine in ("full", "incremental"):
            for backend in ("kernels", "torch"):
                for dropout in ("off", "on"):
                    with self.subTest(engine=engine, backend=backend, dropout=dropout):
                        result = subprocess.run(
                            [DEEPMR, "ism", "--model", model_path, "--outputs", "0,1,2,3,4", "--sequence", sequence,
                             "--engine", engine, "--backend", backend, "--dropout", dropout, "--mc-samples", "3",
                             "--threads", "1"], env=ENV, capture_output=True, text=True, timeout=TIMEOUT)
                        self.assertEqual(result.returncode, 0, result.stderr)
                        rows = [line.split("\t") for line in result.stdout.splitlines()[1:]]
                        self.assertEqual(len(rows), len(expected))
                        for row in rows:
                            nan = row[4] == "" or row[4].lower() == "nan"
                            self.assertEqual(nan, expected[(int(row[0]), row[2], row[3])], row)
                        self.assertIn("non-finite", result.stderr)  # said on stderr, not only in the table
        w = Workspace()
        try:
            w.values["model"]["file"] = model_path
            w.values["analysis"]["outcome"] = "out0"
            w.exposures = [("TFA", "out1"), ("TFB", "out2"), ("TFC", "out3")]
            result = subprocess.run(MPIRUN + ["-n", "2", DEEPMR, "run", "--config", w.config()], env=ENV,
                                    capture_output=True, text=True, timeout=TIMEOUT)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("(9 failed)", result.stderr)  # not "complete, failed 0" with every unit not estimable
        finally:
            w.close()


if __name__ == "__main__":
    result = unittest.main(argv=[sys.argv[0]] + sys.argv[3:], exit=False)
    print("corpus: %d bad-input checks" % Corpus.cases, file=sys.stderr)
    sys.exit(not result.result.wasSuccessful())
