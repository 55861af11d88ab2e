"""Helpers for tests that drive `deepmr run` under mpirun: the tiny config with absolute paths,
starting and killing runs, and an independent reader of the journal format (docs/store.md).

Call configure(BUILD_DIR, SOURCE_DIR) first.
"""
import os
import struct
import subprocess
import time
import zlib

BUILD = SOURCE = DEEPMR = COMPARE = None
MPIRUN = ["mpirun", "-q", "--oversubscribe", "--allow-run-as-root"]
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1", OMP_NUM_THREADS="1")
# Sanitizer builds run several times slower: per-command limits scale as CTest scales its own.
TIMEOUT_SCALE = int(os.environ.get("DEEPMR_TIMEOUT_SCALE", "1"))


def configure(build, source):
    global BUILD, SOURCE, DEEPMR, COMPARE
    BUILD, SOURCE = os.path.abspath(build), os.path.abspath(source)
    DEEPMR = os.path.join(BUILD, "bin", "deepmr")
    COMPARE = os.path.join(SOURCE, "tests", "run", "compare_stores.py")


def config(directory, store="run.h5", mc_samples=None, extra=""):
    """The tiny config with absolute paths, writing into `directory`."""
    with open(os.path.join(SOURCE, "configs", "test_tiny.ini")) as f:
        text = f.read()
    for relative in ("tests/data/models/conv1d_small.pt", "data/genome/hg38_chr22_32000000_32300000.fa",
                     "tests/data/run/tfa.bed", "tests/data/run/tfb.bed", "tests/data/run/tfc.bed"):
        text = text.replace(relative, os.path.join(SOURCE, relative))
    text = text.replace("store = tiny.h5", "store = " + os.path.join(directory, store) + "\nthreads = 1")
    if mc_samples is not None:
        text = text.replace("mc-samples = 4", "mc-samples = %d" % mc_samples)
    path = os.path.join(directory, store + ".ini")
    with open(path, "w") as f:
        f.write(text + extra)
    return path


def deepmr_run(ranks, ini, *arguments, timeout=300 * TIMEOUT_SCALE):
    command = MPIRUN + ["-n", str(ranks), DEEPMR, "run", "--config", ini] + list(arguments)
    return subprocess.run(command, env=ENV, capture_output=True, text=True, timeout=timeout)


def start_run(ranks, ini, *arguments):
    command = MPIRUN + ["-n", str(ranks), DEEPMR, "run", "--config", ini] + list(arguments)
    return subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def journal_records(store):
    """(region ids of valid records, torn parts): an independent reader of the journal format."""
    directory = store + ".journal"
    regions, torn = [], 0
    if not os.path.isdir(directory):
        return regions, torn
    for name in sorted(os.listdir(directory)):
        if not (name.startswith("part-") and name.endswith(".jrn")):
            continue
        with open(os.path.join(directory, name), "rb") as f:
            data = f.read()
        at = 0
        while at < len(data):
            if at + 16 > len(data):
                torn += 1
                break
            magic, size, crc = struct.unpack_from("<IQI", data, at)
            payload = data[at + 16: at + 16 + size]
            if magic != 0x4A524D44 or len(payload) != size or zlib.crc32(payload) != crc:
                torn += 1
                break
            regions.append(struct.unpack_from("<Q", payload, 12)[0])  # after the u32 layout and the u64 run id
            at += 16 + size
    return regions, torn


def rank_processes(mpirun_pid):
    """{MPI rank: pid} of the deepmr processes mpirun started."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[1]) != mpirun_pid:
                continue
            with open("/proc/%s/environ" % pid, "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
            if b"OMPI_COMM_WORLD_RANK" in env:
                out[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(pid)
        except (OSError, IndexError, ValueError):
            continue
    return out


def signals_caught(pid):
    """The mask of signals a process has handlers for (SigCgt in /proc/PID/status; 0 when gone)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return 0


def wait_for_records(store, count, process, timeout=120 * TIMEOUT_SCALE):
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if len(journal_records(store)[0]) >= count:
            return True
        time.sleep(0.02)
    return False
