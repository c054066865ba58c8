#!/usr/bin/env python3
"""Writes a Brusselator reaction-diffusion model (TOML) on a 1-D or 2-D grid, u and v of each grid point
next to each other (u0, v0, u1, v1, ...) so that the Jacobian is banded.

1-D (Hairer & Wanner's BRUSS, fixed ends u = 1, v = 3):
  u_i' = 1 + u_i^2 v_i - 4 u_i + a (N+1)^2 (u_{i-1} - 2 u_i + u_{i+1}),   v_i' = 3 u_i - u_i^2 v_i + ...
2-D (as BRUSS-2D but with zero-flux instead of periodic edges, so that the Jacobian stays banded with
half-bandwidth 2N, and without the source term): 5-point Laplacian over the neighbours that exist,
  u' = 1 + u^2 v - 4.4 u + a N^2 Lap(u),   v' = 3.4 u - u^2 v + a N^2 Lap(v)
2-D periodic (the test set's BRUSS-2D, as bench/wp_problems.cpp): periodic edges (the Jacobian is
sparse, not banded), alpha = 0.1, and the source term 5 for t >= 1.1 in the disc of radius 0.1 around
(0.3, 0.6); t_end = 10.

usage: gen_brusselator.py 1d N [alpha] > model.toml     (2N states, alpha = 0.02)
       gen_brusselator.py 2d N [alpha] > model.toml     (2N^2 states, alpha = 0.002 as in the 2-D tests)
       gen_brusselator.py 2d-periodic N [alpha] > model.toml   (2N^2 states, alpha = 0.1)
"""
import math
import sys


def main():
    dim, n = sys.argv[1], int(sys.argv[2])
    out = ['#! dynlib', '[model]', 'type = "ode"', f'name = "Brusselator {dim} N={n}"', '[params]']
    if dim == "1d":
        alpha = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02
        out.append(f"c = {alpha * (n + 1) ** 2!r}")
        out.append("[states]")
        for i in range(n):
            x = (i + 1) / (n + 1)
            out.append(f"u{i} = {1 + math.sin(2 * math.pi * x)!r}")
            out.append(f"v{i} = 3.0")
        out.append("[equations.rhs]")
        for i in range(n):
            ul = f"u{i-1}" if i > 0 else "1.0"
            ur = f"u{i+1}" if i < n - 1 else "1.0"
            vl = f"v{i-1}" if i > 0 else "3.0"
            vr = f"v{i+1}" if i < n - 1 else "3.0"
            out.append(f'u{i} = "1 + u{i}**2*v{i} - 4*u{i} + c*({ul} - 2*u{i} + {ur})"')
            out.append(f'v{i} = "3*u{i} - u{i}**2*v{i} + c*({vl} - 2*v{i} + {vr})"')
    else:
        periodic = dim == "2d-periodic"
        alpha = float(sys.argv[3]) if len(sys.argv) > 3 else (0.1 if periodic else 0.002)
        out.append(f"c = {alpha * n * n!r}")
        out.append("[states]")
        idx = lambda i, j: f"{i}_{j}"
        for i in range(n):
            for j in range(n):
                x, y = i / n, j / n
                out.append(f"u{idx(i, j)} = {22 * y * (1 - y) ** 1.5!r}")
                out.append(f"v{idx(i, j)} = {27 * x * (1 - x) ** 1.5!r}")
        out.append("[equations.rhs]")
        for i in range(n):
            for j in range(n):
                for s in "uv":
                    me = f"{s}{idx(i, j)}"
                    nbs = [(a, b) for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1))
                           if periodic or (0 <= a < n and 0 <= b < n)]
                    nbs = [(a % n, b % n) for a, b in nbs]
                    lap = " + ".join(f"{s}{idx(a, b)}" for a, b in nbs) + f" - {len(nbs)}*{me}"
                    u, v = f"u{idx(i, j)}", f"v{idx(i, j)}"
                    react = (f"1 + {u}**2*{v} - 4.4*{u}" if s == "u" else f"3.4*{u} - {u}**2*{v}")
                    x, y = (i + 1) / n, (j + 1) / n  # 1-based grid indices, as the test set
                    if periodic and s == "u" and (x - 0.3) ** 2 + (y - 0.6) ** 2 <= 0.01:
                        react += " + (5.0 if t >= 1.1 else 0.0)"
                    out.append(f'{me} = "{react} + c*({lap})"')
    if dim == "2d-periodic":
        out[4:4] = ["[sim]", "t_end = 10.0"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
