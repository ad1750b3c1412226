"""Lid-driven cavity flow, finite differences with a pressure Poisson relaxation (Examples/CavityFlow.swift)."""
import numpy as np


def run(n=41, steps=100, poisson_iterations=50, rho=1.0, nu=0.1, dt=0.001):
    dx = dy = 2.0 / (n - 1)
    u = np.zeros((n, n)); v = np.zeros((n, n)); p = np.zeros((n, n)); b = np.zeros((n, n))
    for _ in range(steps):
        un = u.copy(); vn = v.copy()
        dudx = (u[1:-1, 2:] - u[1:-1, :-2]) / (2 * dx)
        dvdy = (v[2:, 1:-1] - v[:-2, 1:-1]) / (2 * dy)
        dudy = (u[2:, 1:-1] - u[:-2, 1:-1]) / (2 * dy)
        dvdx = (v[1:-1, 2:] - v[1:-1, :-2]) / (2 * dx)
        b[1:-1, 1:-1] = rho * (1 / dt * (dudx + dvdy) - dudx * dudx - 2 * (dudy * dvdx) - dvdy * dvdy)
        for _ in range(poisson_iterations):
            pn = p.copy()
            p[1:-1, 1:-1] = (((pn[1:-1, 2:] + pn[1:-1, :-2]) * (dy * dy) + (pn[2:, 1:-1] + pn[:-2, 1:-1]) * (dx * dx))
                             / (2 * (dx * dx + dy * dy)) - (dx * dx * dy * dy) / (2 * (dx * dx + dy * dy)) * b[1:-1, 1:-1])
            p[:, -1] = p[:, -2]
            p[0, :] = p[1, :]
            p[:, 0] = p[:, 1]
            p[-1, :] = 0.0
        uc = un[1:-1, 1:-1]; vc = vn[1:-1, 1:-1]
        u_advection = uc * (dt / dx) * (uc - un[1:-1, :-2]) + vc * (dt / dy) * (uc - un[:-2, 1:-1])
        u_pressure = dt / (2 * rho * dx) * (p[1:-1, 2:] - p[1:-1, :-2])
        u_diffusion = nu * (dt / (dx * dx) * (un[1:-1, 2:] - 2 * uc + un[1:-1, :-2])
                            + dt / (dy * dy) * (un[2:, 1:-1] - 2 * uc + un[:-2, 1:-1]))
        v_advection = uc * (dt / dx) * (vc - vn[1:-1, :-2]) + vc * (dt / dy) * (vc - vn[:-2, 1:-1])
        v_pressure = dt / (2 * rho * dy) * (p[2:, 1:-1] - p[:-2, 1:-1])
        v_diffusion = nu * (dt / (dx * dx) * (vn[1:-1, 2:] - 2 * vc + vn[1:-1, :-2])
                            + dt / (dy * dy) * (vn[2:, 1:-1] - 2 * vc + vn[:-2, 1:-1]))
        u[1:-1, 1:-1] = uc - u_advection - u_pressure + u_diffusion
        v[1:-1, 1:-1] = vc - v_advection - v_pressure + v_diffusion
        u[0, :] = 0.0; u[:, 0] = 0.0; u[:, -1] = 0.0
        u[-1, :] = 1.0
        v[0, :] = 0.0; v[-1, :] = 0.0; v[:, 0] = 0.0; v[:, -1] = 0.0
    return {"u_center": float(u[n // 2, n // 2]), "v_center": float(v[n // 2, n // 2]),
            "p_sum": float(p.sum()), "energy": float((u * u + v * v).sum())}
