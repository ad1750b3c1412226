"""The counter-based input generator of the examples: the peers' `uniform`
(bench/peers/common.py, SplitMix64 of (seed << 32) + i as a multiple of 2**-53), so that
`Tensor<Double>.uniform(shape, seed:, in: lo...hi)` in Swift gives the same bits. Loaded by
path: both folders name their helper module `common`."""
import importlib.util
import pathlib

_path = pathlib.Path(__file__).resolve().parent.parent / "peers" / "common.py"
_spec = importlib.util.spec_from_file_location("tandem_peers_common", _path)
_peers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_peers)

uniform = _peers.uniform
