"""A star cluster under its own gravity, all pairs by broadcasting, leapfrog (Examples/NBody.swift)."""
import numpy as np

from common import uniform


def run(n=256, steps=100, dt=0.001, softening=0.05):
    position = uniform(41, (n, 3), -1.0, 1.0)
    velocity = uniform(42, (n, 3), -0.1, 0.1)
    mass = uniform(43, (n,), 0.5, 1.5) / n
    eps2 = softening * softening

    def pairs(p):
        d = p[None, :, :] - p[:, None, :]
        return d, (d * d).sum(axis=2) + eps2

    def accelerations(p):
        d, r2 = pairs(p)
        w = mass[None, :] / (r2 * np.sqrt(r2))
        return (d * w[:, :, None]).sum(axis=1)

    def energy(p, v):
        kinetic = 0.5 * (mass * (v * v).sum(axis=1)).sum()
        everything = (mass[:, None] * mass[None, :] / np.sqrt(pairs(p)[1])).sum()
        potential = -0.5 * (everything - (mass * mass).sum() / softening)
        return kinetic + potential, kinetic

    start = energy(position, velocity)[0]
    acceleration = accelerations(position)
    for _ in range(steps):
        velocity = velocity + 0.5 * dt * acceleration
        position = position + dt * velocity
        acceleration = accelerations(position)
        velocity = velocity + 0.5 * dt * acceleration
    total, kinetic = energy(position, velocity)
    return {"energy_start": float(start), "energy_end": float(total), "kinetic_end": float(kinetic),
            "max_speed": float(np.sqrt((velocity * velocity).sum(axis=1).max())), "x0": float(position[0, 0])}
