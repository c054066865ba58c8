"""Analysis: observers that run inside the runner loop (Lyapunov exponents) and parameter sweeps."""

from .._dynlib import lyapunov_mle, lyapunov_spectrum
from . import sweep

# The reference library's names for the observer factories.
lyapunov_mle_observer = lyapunov_mle
lyapunov_spectrum_observer = lyapunov_spectrum

__all__ = ["lyapunov_mle", "lyapunov_spectrum", "lyapunov_mle_observer", "lyapunov_spectrum_observer", "sweep"]
