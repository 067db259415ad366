"""Over-smoothing (and over-squashing) diagnostics."""
from graphkit.diagnostics.oversmoothing import (DiagnosticsRecorder, dirichlet_energy,
                                                hop_distances, mad, mad_gap,
                                                plot_energy_vs_depth)

__all__ = ["DiagnosticsRecorder", "dirichlet_energy", "hop_distances", "mad", "mad_gap",
           "plot_energy_vs_depth"]
