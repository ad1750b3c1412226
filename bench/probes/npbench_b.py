"""npbench's NumPy PolyBench kernels and three of its apps (channel_flow, cavity_flow, nbody),
timed and checksummed as the Swift ports in ZProbe+NPBenchB.swift (registered as `n5b_*`
examples by examples5b.txt) are. The npbench sources (initialize and the NumPy kernel, from
github.com/spcl/npbench) are embedded verbatim in SOURCES below.

    python3 bench/probes/npbench_b.py NAME [S|M] [reps=5]      # NumPy: JSON of first_s, best_s, checksums
    python3 bench/probes/npbench_b.py NAME [S|M] --tandem .build/release/tandem [--env K=V]
        # also runs `tandem example n5b_NAME` at the same size and prints both and the max rel diff

Randomly initialised inputs (gramschmidt, nbody) are saved to /tmp/npb/<name>/<array>_<shape>.npy
for the Swift side to load: run the NumPy side first.
"""
import sys, os, time, json, subprocess
import numpy as np

SOURCES = {
 "jacobi_2d": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.fromfunction(lambda i, j: i * (j + 2) / N, (N, N), dtype=datatype)\n    B = np.fromfunction(lambda i, j: i * (j + 3) / N, (N, N), dtype=datatype)\n\n    return A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(TSTEPS, A, B):\n\n    for t in range(1, TSTEPS):\n        B[1:-1, 1:-1] = 0.2 * (A[1:-1, 1:-1] + A[1:-1, :-2] + A[1:-1, 2:] +\n                               A[2:, 1:-1] + A[:-2, 1:-1])\n        A[1:-1, 1:-1] = 0.2 * (B[1:-1, 1:-1] + B[1:-1, :-2] + B[1:-1, 2:] +\n                               B[2:, 1:-1] + B[:-2, 1:-1])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A",
    "B"
   ],
   "input_args": [
    "TSTEPS",
    "A",
    "B"
   ],
   "S": {
    "TSTEPS": 50,
    "N": 150
   },
   "M": {
    "TSTEPS": 80,
    "N": 350
   }
  }
 },
 "heat_3d": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.fromfunction(lambda i, j, k: (i + j + (N - k)) * 10 / N, (N, N, N),\n                        dtype=datatype)\n    B = np.copy(A)\n\n    return A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(TSTEPS, A, B):\n\n    for t in range(1, TSTEPS):\n        B[1:-1, 1:-1,\n          1:-1] = (0.125 * (A[2:, 1:-1, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] +\n                            A[:-2, 1:-1, 1:-1]) + 0.125 *\n                   (A[1:-1, 2:, 1:-1] - 2.0 * A[1:-1, 1:-1, 1:-1] +\n                    A[1:-1, :-2, 1:-1]) + 0.125 *\n                   (A[1:-1, 1:-1, 2:] - 2.0 * A[1:-1, 1:-1, 1:-1] +\n                    A[1:-1, 1:-1, 0:-2]) + A[1:-1, 1:-1, 1:-1])\n        A[1:-1, 1:-1,\n          1:-1] = (0.125 * (B[2:, 1:-1, 1:-1] - 2.0 * B[1:-1, 1:-1, 1:-1] +\n                            B[:-2, 1:-1, 1:-1]) + 0.125 *\n                   (B[1:-1, 2:, 1:-1] - 2.0 * B[1:-1, 1:-1, 1:-1] +\n                    B[1:-1, :-2, 1:-1]) + 0.125 *\n                   (B[1:-1, 1:-1, 2:] - 2.0 * B[1:-1, 1:-1, 1:-1] +\n                    B[1:-1, 1:-1, 0:-2]) + B[1:-1, 1:-1, 1:-1])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A",
    "B"
   ],
   "input_args": [
    "TSTEPS",
    "A",
    "B"
   ],
   "S": {
    "TSTEPS": 25,
    "N": 25
   },
   "M": {
    "TSTEPS": 50,
    "N": 40
   }
  }
 },
 "fdtd_2d": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(TMAX, NX, NY, datatype=np.float64):\n    ex = np.fromfunction(lambda i, j: (i * (j + 1)) / NX, (NX, NY),\n                         dtype=datatype)\n    ey = np.fromfunction(lambda i, j: (i * (j + 2)) / NY, (NX, NY),\n                         dtype=datatype)\n    hz = np.fromfunction(lambda i, j: (i * (j + 3)) / NX, (NX, NY),\n                         dtype=datatype)\n    _fict_ = np.fromfunction(lambda i: i, (TMAX, ), dtype=datatype)\n\n    return ex, ey, hz, _fict_\n",
  "kernel": "import numpy as np\n\n\ndef kernel(TMAX, ex, ey, hz, _fict_):\n\n    for t in range(TMAX):\n        ey[0, :] = _fict_[t]\n        ey[1:, :] -= 0.5 * (hz[1:, :] - hz[:-1, :])\n        ex[:, 1:] -= 0.5 * (hz[:, 1:] - hz[:, :-1])\n        hz[:-1, :-1] -= 0.7 * (ex[:-1, 1:] - ex[:-1, :-1] + ey[1:, :-1] -\n                               ey[:-1, :-1])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "TMAX",
    "NX",
    "NY"
   ],
   "init_out": [
    "ex",
    "ey",
    "hz",
    "_fict_"
   ],
   "input_args": [
    "TMAX",
    "ex",
    "ey",
    "hz",
    "_fict_"
   ],
   "S": {
    "TMAX": 20,
    "NX": 200,
    "NY": 220
   },
   "M": {
    "TMAX": 60,
    "NX": 400,
    "NY": 450
   }
  }
 },
 "adi": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    u = np.fromfunction(lambda i, j: (i + N - j) / N, (N, N), dtype=datatype)\n\n    return u\n",
  "kernel": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef kernel(TSTEPS, N, u):\n\n    v = np.empty(u.shape, dtype=u.dtype)\n    p = np.empty(u.shape, dtype=u.dtype)\n    q = np.empty(u.shape, dtype=u.dtype)\n\n    DX = 1.0 / N\n    DY = 1.0 / N\n    DT = 1.0 / TSTEPS\n    B1 = 2.0\n    B2 = 1.0\n    mul1 = B1 * DT / (DX * DX)\n    mul2 = B2 * DT / (DY * DY)\n\n    a = -mul1 / 2.0\n    b = 1.0 + mul2\n    c = a\n    d = -mul2 / 2.0\n    e = 1.0 + mul2\n    f = d\n\n    for t in range(1, TSTEPS + 1):\n        v[0, 1:N - 1] = 1.0\n        p[1:N - 1, 0] = 0.0\n        q[1:N - 1, 0] = v[0, 1:N - 1]\n        for j in range(1, N - 1):\n            p[1:N - 1, j] = -c / (a * p[1:N - 1, j - 1] + b)\n            q[1:N - 1,\n              j] = (-d * u[j, 0:N - 2] +\n                    (1.0 + 2.0 * d) * u[j, 1:N - 1] - f * u[j, 2:N] -\n                    a * q[1:N - 1, j - 1]) / (a * p[1:N - 1, j - 1] + b)\n        v[N - 1, 1:N - 1] = 1.0\n        for j in range(N - 2, 0, -1):\n            v[j, 1:N - 1] = p[1:N - 1, j] * v[j + 1, 1:N - 1] + q[1:N - 1, j]\n\n        u[1:N - 1, 0] = 1.0\n        p[1:N - 1, 0] = 0.0\n        q[1:N - 1, 0] = u[1:N - 1, 0]\n        for j in range(1, N - 1):\n            p[1:N - 1, j] = -f / (d * p[1:N - 1, j - 1] + e)\n            q[1:N - 1,\n              j] = (-a * v[0:N - 2, j] +\n                    (1.0 + 2.0 * a) * v[1:N - 1, j] - c * v[2:N, j] -\n                    d * q[1:N - 1, j - 1]) / (d * p[1:N - 1, j - 1] + e)\n        u[1:N - 1, N - 1] = 1.0\n        for j in range(N - 2, 0, -1):\n            u[1:N - 1, j] = p[1:N - 1, j] * u[1:N - 1, j + 1] + q[1:N - 1, j]\n\n    return u",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "u"
   ],
   "input_args": [
    "TSTEPS",
    "N",
    "u"
   ],
   "S": {
    "TSTEPS": 5,
    "N": 100
   },
   "M": {
    "TSTEPS": 20,
    "N": 200
   }
  }
 },
 "deriche": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(W, H, datatype=np.float64):\n    alpha = datatype(0.25)\n    imgIn = np.fromfunction(lambda i, j:\n                            ((313 * i + 991 * j) % 65536) / 65535.0, (W, H),\n                            dtype=datatype)\n\n    return alpha, imgIn\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, imgIn):\n\n    k = (1.0 - np.exp(-alpha)) * (1.0 - np.exp(-alpha)) / (\n        1.0 + alpha * np.exp(-alpha) - np.exp(2.0 * alpha))\n    a1 = a5 = k\n    a2 = a6 = k * np.exp(-alpha) * (alpha - 1.0)\n    a3 = a7 = k * np.exp(-alpha) * (alpha + 1.0)\n    a4 = a8 = -k * np.exp(-2.0 * alpha)\n    b1 = 2.0**(-alpha)\n    b2 = -np.exp(-2.0 * alpha)\n    c1 = c2 = 1\n\n    y1 = np.empty_like(imgIn)\n    y1[:, 0] = a1 * imgIn[:, 0]\n    y1[:, 1] = a1 * imgIn[:, 1] + a2 * imgIn[:, 0] + b1 * y1[:, 0]\n    for j in range(2, imgIn.shape[1]):\n        y1[:, j] = (a1 * imgIn[:, j] + a2 * imgIn[:, j - 1] +\n                    b1 * y1[:, j - 1] + b2 * y1[:, j - 2])\n\n    y2 = np.empty_like(imgIn)\n    y2[:, -1] = 0.0\n    y2[:, -2] = a3 * imgIn[:, -1]\n    for j in range(imgIn.shape[1] - 3, -1, -1):\n        y2[:, j] = (a3 * imgIn[:, j + 1] + a4 * imgIn[:, j + 2] +\n                    b1 * y2[:, j + 1] + b2 * y2[:, j + 2])\n\n    imgOut = c1 * (y1 + y2)\n\n    y1[0, :] = a5 * imgOut[0, :]\n    y1[1, :] = a5 * imgOut[1, :] + a6 * imgOut[0, :] + b1 * y1[0, :]\n    for i in range(2, imgIn.shape[0]):\n        y1[i, :] = (a5 * imgOut[i, :] + a6 * imgOut[i - 1, :] +\n                    b1 * y1[i - 1, :] + b2 * y1[i - 2, :])\n\n    y2[-1, :] = 0.0\n    y2[-2, :] = a7 * imgOut[-1, :]\n    for i in range(imgIn.shape[0] - 3, -1, -1):\n        y2[i, :] = (a7 * imgOut[i + 1, :] + a8 * imgOut[i + 2, :] +\n                    b1 * y2[i + 1, :] + b2 * y2[i + 2, :])\n\n    imgOut[:] = c2 * (y1 + y2)\n\n    return imgOut\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "W",
    "H"
   ],
   "init_out": [
    "alpha",
    "imgIn"
   ],
   "input_args": [
    "alpha",
    "imgIn"
   ],
   "S": {
    "W": 400,
    "H": 200
   },
   "M": {
    "W": 1500,
    "H": 1000
   }
  }
 },
 "gramschmidt": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    from numpy.random import default_rng\n    rng = default_rng(42)\n\n    A = rng.random((M, N), dtype=datatype)\n    while np.linalg.matrix_rank(A) < N:\n        A = rng.random((M, N), dtype=datatype)\n\n    return A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A):\n\n    Q = np.zeros_like(A)\n    R = np.zeros((A.shape[1], A.shape[1]), dtype=A.dtype)\n\n    for k in range(A.shape[1]):\n        nrm = np.dot(A[:, k], A[:, k])\n        R[k, k] = np.sqrt(nrm)\n        Q[:, k] = A[:, k] / R[k, k]\n        for j in range(k + 1, A.shape[1]):\n            R[k, j] = np.dot(Q[:, k], A[:, j])\n            A[:, j] -= Q[:, k] * R[k, j]\n\n    return Q, R\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "A"
   ],
   "input_args": [
    "A"
   ],
   "S": {
    "M": 70,
    "N": 60
   },
   "M": {
    "M": 220,
    "N": 180
   }
  }
 },
 "durbin": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    r = np.fromfunction(lambda i: N + 1 - i, (N, ), dtype=datatype)\n    return r\n",
  "kernel": "import numpy as np\n\n\ndef kernel(r):\n\n    y = np.empty_like(r)\n    alpha = -r[0]\n    beta = 1.0\n    y[0] = -r[0]\n\n    for k in range(1, r.shape[0]):\n        beta *= 1.0 - alpha * alpha\n        alpha = -(r[k] + np.dot(np.flip(r[:k]), y[:k])) / beta\n        y[:k] += alpha * np.flip(y[:k])\n        y[k] = alpha\n\n    return y\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "r"
   ],
   "input_args": [
    "r"
   ],
   "S": {
    "N": 1000
   },
   "M": {
    "N": 6000
   }
  }
 },
 "ludcmp": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.empty((N, N), dtype=datatype)\n    for i in range(N):\n        A[i, :i + 1] = np.fromfunction(lambda j: (-j % N) / N + 1, (i + 1, ),\n                                       dtype=datatype)\n        A[i, i + 1:] = 0.0\n        A[i, i] = 1.0\n    A[:] = A @ np.transpose(A)\n    fn = datatype(N)\n    b = np.fromfunction(lambda i: (i + 1) / fn / 2.0 + 4.0, (N, ),\n                        dtype=datatype)\n\n    return A, b\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A, b):\n\n    x = np.zeros_like(b)\n    y = np.zeros_like(b)\n\n    for i in range(A.shape[0]):\n        for j in range(i):\n            A[i, j] -= A[i, :j] @ A[:j, j]\n            A[i, j] /= A[j, j]\n        for j in range(i, A.shape[0]):\n            A[i, j] -= A[i, :i] @ A[:i, j]\n    for i in range(A.shape[0]):\n        y[i] = b[i] - A[i, :i] @ y[:i]\n    for i in range(A.shape[0] - 1, -1, -1):\n        x[i] = (y[i] - A[i, i + 1:] @ x[i + 1:]) / A[i, i]\n\n    return x, y\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A",
    "b"
   ],
   "input_args": [
    "A",
    "b"
   ],
   "S": {
    "N": 60
   },
   "M": {
    "N": 220
   }
  }
 },
 "lu": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.empty((N, N), dtype=datatype)\n    for i in range(N):\n        A[i, :i + 1] = np.fromfunction(lambda j: (-j % N) / N + 1, (i + 1, ),\n                                       dtype=datatype)\n        A[i, i + 1:] = 0.0\n        A[i, i] = 1.0\n    A[:] = A @ np.transpose(A)\n\n    return A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A):\n\n    for i in range(A.shape[0]):\n        for j in range(i):\n            A[i, j] -= A[i, :j] @ A[:j, j]\n            A[i, j] /= A[j, j]\n        for j in range(i, A.shape[0]):\n            A[i, j] -= A[i, :i] @ A[:i, j]\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A"
   ],
   "input_args": [
    "A"
   ],
   "S": {
    "N": 60
   },
   "M": {
    "N": 220
   }
  }
 },
 "cholesky": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.empty((N, N), dtype=datatype)\n    for i in range(N):\n        A[i, :i + 1] = np.fromfunction(lambda j: (-j % N) / N + 1, (i + 1, ),\n                                       dtype=datatype)\n        A[i, i + 1:] = 0.0\n        A[i, i] = 1.0\n    A[:] = A @ np.transpose(A)\n\n    return A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A):\n\n    A[0, 0] = np.sqrt(A[0, 0])\n    for i in range(1, A.shape[0]):\n        for j in range(i):\n            A[i, j] -= np.dot(A[i, :j], A[j, :j])\n            A[i, j] /= A[j, j]\n        A[i, i] -= np.dot(A[i, :i], A[i, :i])\n        A[i, i] = np.sqrt(A[i, i])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A"
   ],
   "input_args": [
    "A"
   ],
   "S": {
    "N": 100
   },
   "M": {
    "N": 300
   }
  }
 },
 "trisolv": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    L = np.fromfunction(lambda i, j: (i + N - j + 1) * 2 / N, (N, N),\n                        dtype=datatype)\n    x = np.full((N, ), -999, dtype=datatype)\n    b = np.fromfunction(lambda i: i, (N, ), dtype=datatype)\n\n    return L, x, b\n",
  "kernel": "import numpy as np\n\n\ndef kernel(L, x, b):\n\n    for i in range(x.shape[0]):\n        x[i] = (b[i] - L[i, :i] @ x[:i]) / L[i, i]\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "L",
    "x",
    "b"
   ],
   "input_args": [
    "L",
    "x",
    "b"
   ],
   "S": {
    "N": 2000
   },
   "M": {
    "N": 5000
   }
  }
 },
 "gemver": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    alpha = datatype(1.5)\n    beta = datatype(1.2)\n    fn = datatype(N)\n    A = np.fromfunction(lambda i, j: (i * j % N) / N, (N, N), dtype=datatype)\n    u1 = np.fromfunction(lambda i: i, (N, ), dtype=datatype)\n    u2 = np.fromfunction(lambda i: ((i + 1) / fn) / 2.0, (N, ), dtype=datatype)\n    v1 = np.fromfunction(lambda i: ((i + 1) / fn) / 4.0, (N, ), dtype=datatype)\n    v2 = np.fromfunction(lambda i: ((i + 1) / fn) / 6.0, (N, ), dtype=datatype)\n    w = np.zeros((N, ), dtype=datatype)\n    x = np.zeros((N, ), dtype=datatype)\n    y = np.fromfunction(lambda i: ((i + 1) / fn) / 8.0, (N, ), dtype=datatype)\n    z = np.fromfunction(lambda i: ((i + 1) / fn) / 9.0, (N, ), dtype=datatype)\n\n    return alpha, beta, A, u1, v1, u2, v2, w, x, y, z\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, beta, A, u1, v1, u2, v2, w, x, y, z):\n\n    A += np.outer(u1, v1) + np.outer(u2, v2)\n    x += beta * y @ A + z\n    w += alpha * A @ x\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "alpha",
    "beta",
    "A",
    "u1",
    "v1",
    "u2",
    "v2",
    "w",
    "x",
    "y",
    "z"
   ],
   "input_args": [
    "alpha",
    "beta",
    "A",
    "u1",
    "v1",
    "u2",
    "v2",
    "w",
    "x",
    "y",
    "z"
   ],
   "S": {
    "N": 1000
   },
   "M": {
    "N": 3000
   }
  }
 },
 "doitgen": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(NR, NQ, NP, datatype=np.float64):\n    A = np.fromfunction(lambda i, j, k: ((i * j + k) % NP) / NP, (NR, NQ, NP),\n                        dtype=datatype)\n    C4 = np.fromfunction(lambda i, j: (i * j % NP) / NP, (NP, NP),\n                         dtype=datatype)\n\n    return A, C4\n",
  "kernel": "import numpy as np\n\n\ndef kernel(NR, NQ, NP, A, C4):\n\n    # for r in range(NR):\n    #     for q in range(NQ):\n    #         sum[:] = A[r, q, :] @ C4\n    #         A[r, q, :] = sum\n    A[:] = np.reshape(np.reshape(A, (NR, NQ, 1, NP)) @ C4, (NR, NQ, NP))\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "NR",
    "NQ",
    "NP"
   ],
   "init_out": [
    "A",
    "C4"
   ],
   "input_args": [
    "NR",
    "NQ",
    "NP",
    "A",
    "C4"
   ],
   "S": {
    "NR": 60,
    "NQ": 60,
    "NP": 128
   },
   "M": {
    "NR": 110,
    "NQ": 125,
    "NP": 256
   }
  }
 },
 "k3mm": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(NI, NJ, NK, NL, NM, datatype=np.float64):\n    A = np.fromfunction(lambda i, j: ((i * j + 1) % NI) / (5 * NI), (NI, NK),\n                        dtype=datatype)\n    B = np.fromfunction(lambda i, j: ((i * (j + 1) + 2) % NJ) / (5 * NJ),\n                        (NK, NJ),\n                        dtype=datatype)\n    C = np.fromfunction(lambda i, j: (i * (j + 3) % NL) / (5 * NL), (NJ, NM),\n                        dtype=datatype)\n    D = np.fromfunction(lambda i, j: ((i * (j + 2) + 2) % NK) / (5 * NK),\n                        (NM, NL),\n                        dtype=datatype)\n\n    return A, B, C, D\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A, B, C, D):\n\n    return A @ B @ C @ D\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "NI",
    "NJ",
    "NK",
    "NL",
    "NM"
   ],
   "init_out": [
    "A",
    "B",
    "C",
    "D"
   ],
   "input_args": [
    "A",
    "B",
    "C",
    "D"
   ],
   "S": {
    "NI": 800,
    "NJ": 850,
    "NK": 900,
    "NL": 950,
    "NM": 1000
   },
   "M": {
    "NI": 2000,
    "NJ": 2200,
    "NK": 2400,
    "NL": 2600,
    "NM": 2800
   }
  }
 },
 "symm": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    alpha = datatype(1.5)\n    beta = datatype(1.2)\n    C = np.fromfunction(lambda i, j: ((i + j) % 100) / M, (M, N),\n                        dtype=datatype)\n    B = np.fromfunction(lambda i, j: ((N + i - j) % 100) / M, (M, N),\n                        dtype=datatype)\n    A = np.empty((M, M), dtype=datatype)\n    for i in range(M):\n        A[i, :i + 1] = np.fromfunction(lambda j: ((i + j) % 100) / M,\n                                       (i + 1, ),\n                                       dtype=datatype)\n        A[i, i + 1:] = -999\n\n    return alpha, beta, C, A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, beta, C, A, B):\n\n    temp2 = np.empty((C.shape[1], ), dtype=C.dtype)\n    C *= beta\n    for i in range(C.shape[0]):\n        for j in range(C.shape[1]):\n            C[:i, j] += alpha * B[i, j] * A[i, :i]\n            temp2[j] = B[:i, j] @ A[i, :i]\n        C[i, :] += alpha * B[i, :] * A[i, i] + alpha * temp2\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "alpha",
    "beta",
    "C",
    "A",
    "B"
   ],
   "input_args": [
    "alpha",
    "beta",
    "C",
    "A",
    "B"
   ],
   "S": {
    "M": 40,
    "N": 50
   },
   "M": {
    "M": 120,
    "N": 150
   }
  }
 },
 "syr2k": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    alpha = datatype(1.5)\n    beta = datatype(1.2)\n    C = np.fromfunction(lambda i, j: ((i * j + 3) % N) / M, (N, N),\n                        dtype=datatype)\n    A = np.fromfunction(lambda i, j: ((i * j + 1) % N) / N, (N, M),\n                        dtype=datatype)\n    B = np.fromfunction(lambda i, j: ((i * j + 2) % M) / M, (N, M),\n                        dtype=datatype)\n\n    return alpha, beta, C, A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, beta, C, A, B):\n\n    for i in range(A.shape[0]):\n        C[i, :i + 1] *= beta\n        for k in range(A.shape[1]):\n            C[i, :i + 1] += (A[:i + 1, k] * alpha * B[i, k] +\n                             B[:i + 1, k] * alpha * A[i, k])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "alpha",
    "beta",
    "C",
    "A",
    "B"
   ],
   "input_args": [
    "alpha",
    "beta",
    "C",
    "A",
    "B"
   ],
   "S": {
    "M": 35,
    "N": 50
   },
   "M": {
    "M": 110,
    "N": 140
   }
  }
 },
 "trmm": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    alpha = datatype(1.5)\n    A = np.fromfunction(lambda i, j: ((i * j) % M) / M, (M, M), dtype=datatype)\n    for i in range(M):\n        A[i, i] = 1.0\n    B = np.fromfunction(lambda i, j: ((N + i - j) % N) / N, (M, N),\n                        dtype=datatype)\n\n    return alpha, A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, A, B):\n\n    for i in range(B.shape[0]):\n        for j in range(B.shape[1]):\n            B[i, j] += np.dot(A[i + 1:, i], B[i + 1:, j])\n    B *= alpha\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "alpha",
    "A",
    "B"
   ],
   "input_args": [
    "alpha",
    "A",
    "B"
   ],
   "S": {
    "M": 65,
    "N": 80
   },
   "M": {
    "M": 200,
    "N": 250
   }
  }
 },
 "floyd_warshall": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.int32):\n    path = np.fromfunction(lambda i, j: i * j % 7 + 1, (N, N), dtype=datatype)\n    for i in range(N):\n        for j in range(N):\n            if (i + j) % 13 == 0 or (i + j) % 7 == 0 or (i + j) % 11 == 0:\n                path[i, j] = 999\n\n    return path\n",
  "kernel": "import numpy as np\n\n\ndef kernel(path):\n\n    for k in range(path.shape[0]):\n        path[:] = np.minimum(path[:], np.add.outer(path[:, k], path[k, :]))\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "path"
   ],
   "input_args": [
    "path"
   ],
   "S": {
    "N": 200
   },
   "M": {
    "N": 400
   }
  }
 },
 "nussinov": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.int32):\n    seq = np.fromfunction(lambda i: (i + 1) % 4, (N, ), dtype=datatype)\n\n    return seq\n",
  "kernel": "import numpy as np\n\n\ndef match(b1, b2):\n    if b1 + b2 == 3:\n        return 1\n    else:\n        return 0\n\n\ndef kernel(N, seq):\n\n    table = np.zeros((N, N), np.int32)\n\n    for i in range(N - 1, -1, -1):\n        for j in range(i + 1, N):\n            if j - 1 >= 0:\n                table[i, j] = max(table[i, j], table[i, j - 1])\n            if i + 1 < N:\n                table[i, j] = max(table[i, j], table[i + 1, j])\n            if j - 1 >= 0 and i + 1 < N:\n                if i < j - 1:\n                    table[i,\n                          j] = max(table[i, j],\n                                   table[i + 1, j - 1] + match(seq[i], seq[j]))\n                else:\n                    table[i, j] = max(table[i, j], table[i + 1, j - 1])\n            for k in range(i + 1, j):\n                table[i, j] = max(table[i, j], table[i, k] + table[k + 1, j])\n\n    return table\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "seq"
   ],
   "input_args": [
    "N",
    "seq"
   ],
   "S": {
    "N": 40
   },
   "M": {
    "N": 90
   }
  }
 },
 "seidel_2d": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.fromfunction(lambda i, j: (i * (j + 2) + 2) / N, (N, N),\n                        dtype=datatype)\n\n    return A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(TSTEPS, N, A):\n\n    for t in range(0, TSTEPS - 1):\n        for i in range(1, N - 1):\n            A[i, 1:-1] += (A[i - 1, :-2] + A[i - 1, 1:-1] + A[i - 1, 2:] +\n                           A[i, 2:] + A[i + 1, :-2] + A[i + 1, 1:-1] +\n                           A[i + 1, 2:])\n            for j in range(1, N - 1):\n                A[i, j] += A[i, j - 1]\n                A[i, j] /= 9.0\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A"
   ],
   "input_args": [
    "TSTEPS",
    "N",
    "A"
   ],
   "S": {
    "TSTEPS": 8,
    "N": 50
   },
   "M": {
    "TSTEPS": 15,
    "N": 100
   }
  }
 },
 "correlation": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    float_n = datatype(N)\n    data = np.fromfunction(lambda i, j: (i * j) / M + i, (N, M),\n                           dtype=datatype)\n\n    return float_n, data\n",
  "kernel": "import numpy as np\n\n\ndef kernel(M, float_n, data):\n\n    mean = np.mean(data, axis=0)\n    stddev = np.std(data, axis=0)\n    stddev[stddev <= 0.1] = 1.0\n    data -= mean\n    data /= np.sqrt(float_n) * stddev\n    corr = np.eye(M, dtype=data.dtype)\n    for i in range(M - 1):\n        corr[i + 1:M, i] = corr[i, i + 1:M] = data[:, i] @ data[:, i + 1:M]\n\n    return corr\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "float_n",
    "data"
   ],
   "input_args": [
    "M",
    "float_n",
    "data"
   ],
   "S": {
    "M": 500,
    "N": 600
   },
   "M": {
    "M": 1400,
    "N": 1800
   }
  }
 },
 "covariance": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    float_n = datatype(N)\n    data = np.fromfunction(lambda i, j: (i * j) / M, (N, M), dtype=datatype)\n\n    return float_n, data\n",
  "kernel": "import numpy as np\n\n\ndef kernel(M, float_n, data):\n\n    mean = np.mean(data, axis=0)\n    data -= mean\n    cov = np.zeros((M, M), dtype=data.dtype)\n    for i in range(M):\n        cov[i:M, i] = cov[i, i:M] = data[:, i] @ data[:, i:M] / (float_n - 1.0)\n\n    return cov\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "float_n",
    "data"
   ],
   "input_args": [
    "M",
    "float_n",
    "data"
   ],
   "S": {
    "M": 500,
    "N": 600
   },
   "M": {
    "M": 1400,
    "N": 1800
   }
  }
 },
 "atax": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    fn = datatype(N)\n    x = np.fromfunction(lambda i: 1 + (i / fn), (N, ), dtype=datatype)\n    A = np.fromfunction(lambda i, j: ((i + j) % N) / (5 * M), (M, N),\n                        dtype=datatype)\n\n    return x, A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A, x):\n\n    return (A @ x) @ A\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "x",
    "A"
   ],
   "input_args": [
    "A",
    "x"
   ],
   "S": {
    "M": 4000,
    "N": 5000
   },
   "M": {
    "M": 10000,
    "N": 12500
   }
  }
 },
 "bicg": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(M, N, datatype=np.float64):\n    A = np.fromfunction(lambda i, j: (i * (j + 1) % N) / N, (N, M),\n                        dtype=datatype)\n    p = np.fromfunction(lambda i: (i % M) / M, (M, ), dtype=datatype)\n    r = np.fromfunction(lambda i: (i % N) / N, (N, ), dtype=datatype)\n\n    return A, p, r\n",
  "kernel": "import numpy as np\n\n\ndef kernel(A, p, r):\n\n    return r @ A, A @ p\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "M",
    "N"
   ],
   "init_out": [
    "A",
    "p",
    "r"
   ],
   "input_args": [
    "A",
    "p",
    "r"
   ],
   "S": {
    "M": 4000,
    "N": 5000
   },
   "M": {
    "M": 10000,
    "N": 12500
   }
  }
 },
 "mvt": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    x1 = np.fromfunction(lambda i: (i % N) / N, (N, ), dtype=datatype)\n    x2 = np.fromfunction(lambda i: ((i + 1) % N) / N, (N, ), dtype=datatype)\n    y_1 = np.fromfunction(lambda i: ((i + 3) % N) / N, (N, ), dtype=datatype)\n    y_2 = np.fromfunction(lambda i: ((i + 4) % N) / N, (N, ), dtype=datatype)\n    A = np.fromfunction(lambda i, j: (i * j % N) / N, (N, N), dtype=datatype)\n\n    return x1, x2, y_1, y_2, A\n",
  "kernel": "import numpy as np\n\n\ndef kernel(x1, x2, y_1, y_2, A):\n\n    x1 += A @ y_1\n    x2 += y_2 @ A\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "x1",
    "x2",
    "y_1",
    "y_2",
    "A"
   ],
   "input_args": [
    "x1",
    "x2",
    "y_1",
    "y_2",
    "A"
   ],
   "S": {
    "N": 5500
   },
   "M": {
    "N": 11000
   }
  }
 },
 "gesummv": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    alpha = datatype(1.5)\n    beta = datatype(1.2)\n    A = np.fromfunction(lambda i, j: ((i * j + 1) % N) / N, (N, N),\n                        dtype=datatype)\n    B = np.fromfunction(lambda i, j: ((i * j + 2) % N) / N, (N, N),\n                        dtype=datatype)\n    x = np.fromfunction(lambda i: (i % N) / N, (N, ), dtype=datatype)\n\n    return alpha, beta, A, B, x\n",
  "kernel": "import numpy as np\n\n\ndef kernel(alpha, beta, A, B, x):\n\n    return alpha * A @ x + beta * B @ x\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "alpha",
    "beta",
    "A",
    "B",
    "x"
   ],
   "input_args": [
    "alpha",
    "beta",
    "A",
    "B",
    "x"
   ],
   "S": {
    "N": 2000
   },
   "M": {
    "N": 4000
   }
  }
 },
 "jacobi_1d": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, datatype=np.float64):\n    A = np.fromfunction(lambda i: (i + 2) / N, (N, ), dtype=datatype)\n    B = np.fromfunction(lambda i: (i + 3) / N, (N, ), dtype=datatype)\n\n    return A, B\n",
  "kernel": "import numpy as np\n\n\ndef kernel(TSTEPS, A, B):\n\n    for t in range(1, TSTEPS):\n        B[1:-1] = 0.33333 * (A[:-2] + A[1:-1] + A[2:])\n        A[1:-1] = 0.33333 * (B[:-2] + B[1:-1] + B[2:])\n",
  "info": {
   "func_name": "kernel",
   "init_args": [
    "N"
   ],
   "init_out": [
    "A",
    "B"
   ],
   "input_args": [
    "TSTEPS",
    "A",
    "B"
   ],
   "S": {
    "TSTEPS": 800,
    "N": 3200
   },
   "M": {
    "TSTEPS": 3000,
    "N": 12000
   }
  }
 },
 "channel_flow": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(ny, nx):\n    u = np.zeros((ny, nx), dtype=np.float64)\n    v = np.zeros((ny, nx), dtype=np.float64)\n    p = np.ones((ny, nx), dtype=np.float64)\n    dx = 2 / (nx - 1)\n    dy = 2 / (ny - 1)\n    dt = .1 / ((nx - 1) * (ny - 1))\n    return u, v, p, dx, dy, dt\n",
  "kernel": "# Barba, Lorena A., and Forsyth, Gilbert F. (2018).\n# CFD Python: the 12 steps to Navier-Stokes equations.\n# Journal of Open Source Education, 1(9), 21,\n# https://doi.org/10.21105/jose.00021\n# TODO: License\n# (c) 2017 Lorena A. Barba, Gilbert F. Forsyth.\n# All content is under Creative Commons Attribution CC-BY 4.0,\n# and all code is under BSD-3 clause (previously under MIT, and changed on March 8, 2018).\n\nimport numpy as np\n\n\ndef build_up_b(rho, dt, dx, dy, u, v):\n    b = np.zeros_like(u)\n    b[1:-1,\n      1:-1] = (rho * (1 / dt * ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2 * dx) +\n                                (v[2:, 1:-1] - v[0:-2, 1:-1]) / (2 * dy)) -\n                      ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2 * dx))**2 - 2 *\n                      ((u[2:, 1:-1] - u[0:-2, 1:-1]) / (2 * dy) *\n                       (v[1:-1, 2:] - v[1:-1, 0:-2]) / (2 * dx)) -\n                      ((v[2:, 1:-1] - v[0:-2, 1:-1]) / (2 * dy))**2))\n\n    # Periodic BC Pressure @ x = 2\n    b[1:-1, -1] = (rho * (1 / dt * ((u[1:-1, 0] - u[1:-1, -2]) / (2 * dx) +\n                                    (v[2:, -1] - v[0:-2, -1]) / (2 * dy)) -\n                          ((u[1:-1, 0] - u[1:-1, -2]) / (2 * dx))**2 - 2 *\n                          ((u[2:, -1] - u[0:-2, -1]) / (2 * dy) *\n                           (v[1:-1, 0] - v[1:-1, -2]) / (2 * dx)) -\n                          ((v[2:, -1] - v[0:-2, -1]) / (2 * dy))**2))\n\n    # Periodic BC Pressure @ x = 0\n    b[1:-1, 0] = (rho * (1 / dt * ((u[1:-1, 1] - u[1:-1, -1]) / (2 * dx) +\n                                   (v[2:, 0] - v[0:-2, 0]) / (2 * dy)) -\n                         ((u[1:-1, 1] - u[1:-1, -1]) / (2 * dx))**2 - 2 *\n                         ((u[2:, 0] - u[0:-2, 0]) / (2 * dy) *\n                          (v[1:-1, 1] - v[1:-1, -1]) /\n                          (2 * dx)) - ((v[2:, 0] - v[0:-2, 0]) / (2 * dy))**2))\n\n    return b\n\n\ndef pressure_poisson_periodic(nit, p, dx, dy, b):\n    pn = np.empty_like(p)\n\n    for q in range(nit):\n        pn = p.copy()\n        p[1:-1, 1:-1] = (((pn[1:-1, 2:] + pn[1:-1, 0:-2]) * dy**2 +\n                          (pn[2:, 1:-1] + pn[0:-2, 1:-1]) * dx**2) /\n                         (2 * (dx**2 + dy**2)) - dx**2 * dy**2 /\n                         (2 * (dx**2 + dy**2)) * b[1:-1, 1:-1])\n\n        # Periodic BC Pressure @ x = 2\n        p[1:-1, -1] = (((pn[1:-1, 0] + pn[1:-1, -2]) * dy**2 +\n                        (pn[2:, -1] + pn[0:-2, -1]) * dx**2) /\n                       (2 * (dx**2 + dy**2)) - dx**2 * dy**2 /\n                       (2 * (dx**2 + dy**2)) * b[1:-1, -1])\n\n        # Periodic BC Pressure @ x = 0\n        p[1:-1,\n          0] = (((pn[1:-1, 1] + pn[1:-1, -1]) * dy**2 +\n                 (pn[2:, 0] + pn[0:-2, 0]) * dx**2) / (2 * (dx**2 + dy**2)) -\n                dx**2 * dy**2 / (2 * (dx**2 + dy**2)) * b[1:-1, 0])\n\n        # Wall boundary conditions, pressure\n        p[-1, :] = p[-2, :]  # dp/dy = 0 at y = 2\n        p[0, :] = p[1, :]  # dp/dy = 0 at y = 0\n\n\ndef channel_flow(nit, u, v, dt, dx, dy, p, rho, nu, F):\n    udiff = 1\n    stepcount = 0\n\n    while udiff > .001:\n        un = u.copy()\n        vn = v.copy()\n\n        b = build_up_b(rho, dt, dx, dy, u, v)\n        pressure_poisson_periodic(nit, p, dx, dy, b)\n\n        u[1:-1,\n          1:-1] = (un[1:-1, 1:-1] - un[1:-1, 1:-1] * dt / dx *\n                   (un[1:-1, 1:-1] - un[1:-1, 0:-2]) -\n                   vn[1:-1, 1:-1] * dt / dy *\n                   (un[1:-1, 1:-1] - un[0:-2, 1:-1]) - dt / (2 * rho * dx) *\n                   (p[1:-1, 2:] - p[1:-1, 0:-2]) + nu *\n                   (dt / dx**2 *\n                    (un[1:-1, 2:] - 2 * un[1:-1, 1:-1] + un[1:-1, 0:-2]) +\n                    dt / dy**2 *\n                    (un[2:, 1:-1] - 2 * un[1:-1, 1:-1] + un[0:-2, 1:-1])) +\n                   F * dt)\n\n        v[1:-1,\n          1:-1] = (vn[1:-1, 1:-1] - un[1:-1, 1:-1] * dt / dx *\n                   (vn[1:-1, 1:-1] - vn[1:-1, 0:-2]) -\n                   vn[1:-1, 1:-1] * dt / dy *\n                   (vn[1:-1, 1:-1] - vn[0:-2, 1:-1]) - dt / (2 * rho * dy) *\n                   (p[2:, 1:-1] - p[0:-2, 1:-1]) + nu *\n                   (dt / dx**2 *\n                    (vn[1:-1, 2:] - 2 * vn[1:-1, 1:-1] + vn[1:-1, 0:-2]) +\n                    dt / dy**2 *\n                    (vn[2:, 1:-1] - 2 * vn[1:-1, 1:-1] + vn[0:-2, 1:-1])))\n\n        # Periodic BC u @ x = 2\n        u[1:-1, -1] = (\n            un[1:-1, -1] - un[1:-1, -1] * dt / dx *\n            (un[1:-1, -1] - un[1:-1, -2]) - vn[1:-1, -1] * dt / dy *\n            (un[1:-1, -1] - un[0:-2, -1]) - dt / (2 * rho * dx) *\n            (p[1:-1, 0] - p[1:-1, -2]) + nu *\n            (dt / dx**2 *\n             (un[1:-1, 0] - 2 * un[1:-1, -1] + un[1:-1, -2]) + dt / dy**2 *\n             (un[2:, -1] - 2 * un[1:-1, -1] + un[0:-2, -1])) + F * dt)\n\n        # Periodic BC u @ x = 0\n        u[1:-1,\n          0] = (un[1:-1, 0] - un[1:-1, 0] * dt / dx *\n                (un[1:-1, 0] - un[1:-1, -1]) - vn[1:-1, 0] * dt / dy *\n                (un[1:-1, 0] - un[0:-2, 0]) - dt / (2 * rho * dx) *\n                (p[1:-1, 1] - p[1:-1, -1]) + nu *\n                (dt / dx**2 *\n                 (un[1:-1, 1] - 2 * un[1:-1, 0] + un[1:-1, -1]) + dt / dy**2 *\n                 (un[2:, 0] - 2 * un[1:-1, 0] + un[0:-2, 0])) + F * dt)\n\n        # Periodic BC v @ x = 2\n        v[1:-1, -1] = (\n            vn[1:-1, -1] - un[1:-1, -1] * dt / dx *\n            (vn[1:-1, -1] - vn[1:-1, -2]) - vn[1:-1, -1] * dt / dy *\n            (vn[1:-1, -1] - vn[0:-2, -1]) - dt / (2 * rho * dy) *\n            (p[2:, -1] - p[0:-2, -1]) + nu *\n            (dt / dx**2 *\n             (vn[1:-1, 0] - 2 * vn[1:-1, -1] + vn[1:-1, -2]) + dt / dy**2 *\n             (vn[2:, -1] - 2 * vn[1:-1, -1] + vn[0:-2, -1])))\n\n        # Periodic BC v @ x = 0\n        v[1:-1,\n          0] = (vn[1:-1, 0] - un[1:-1, 0] * dt / dx *\n                (vn[1:-1, 0] - vn[1:-1, -1]) - vn[1:-1, 0] * dt / dy *\n                (vn[1:-1, 0] - vn[0:-2, 0]) - dt / (2 * rho * dy) *\n                (p[2:, 0] - p[0:-2, 0]) + nu *\n                (dt / dx**2 *\n                 (vn[1:-1, 1] - 2 * vn[1:-1, 0] + vn[1:-1, -1]) + dt / dy**2 *\n                 (vn[2:, 0] - 2 * vn[1:-1, 0] + vn[0:-2, 0])))\n\n        # Wall BC: u,v = 0 @ y = 0,2\n        u[0, :] = 0\n        u[-1, :] = 0\n        v[0, :] = 0\n        v[-1, :] = 0\n\n        udiff = (np.sum(u) - np.sum(un)) / np.sum(u)\n        stepcount += 1\n\n    return stepcount\n",
  "info": {
   "func_name": "channel_flow",
   "init_args": [
    "ny",
    "nx"
   ],
   "init_out": [
    "u",
    "v",
    "p",
    "dx",
    "dy",
    "dt"
   ],
   "input_args": [
    "nit",
    "u",
    "v",
    "dt",
    "dx",
    "dy",
    "p",
    "rho",
    "nu",
    "F"
   ],
   "S": {
    "ny": 61,
    "nx": 61,
    "nit": 5,
    "rho": 1.0,
    "nu": 0.1,
    "F": 1.0
   },
   "M": {
    "ny": 121,
    "nx": 121,
    "nit": 10,
    "rho": 1.0,
    "nu": 0.1,
    "F": 1.0
   }
  }
 },
 "cavity_flow": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(ny, nx):\n    u = np.zeros((ny, nx), dtype=np.float64)\n    v = np.zeros((ny, nx), dtype=np.float64)\n    p = np.zeros((ny, nx), dtype=np.float64)\n    dx = 2 / (nx - 1)\n    dy = 2 / (ny - 1)\n    dt = .1 / ((nx - 1) * (ny - 1))\n    return u, v, p, dx, dy, dt\n",
  "kernel": "# Barba, Lorena A., and Forsyth, Gilbert F. (2018).\n# CFD Python: the 12 steps to Navier-Stokes equations.\n# Journal of Open Source Education, 1(9), 21,\n# https://doi.org/10.21105/jose.00021\n# TODO: License\n# (c) 2017 Lorena A. Barba, Gilbert F. Forsyth.\n# All content is under Creative Commons Attribution CC-BY 4.0,\n# and all code is under BSD-3 clause (previously under MIT, and changed on March 8, 2018).\n\nimport numpy as np\n\n\ndef build_up_b(b, rho, dt, u, v, dx, dy):\n\n    b[1:-1,\n      1:-1] = (rho * (1 / dt * ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2 * dx) +\n                                (v[2:, 1:-1] - v[0:-2, 1:-1]) / (2 * dy)) -\n                      ((u[1:-1, 2:] - u[1:-1, 0:-2]) / (2 * dx))**2 - 2 *\n                      ((u[2:, 1:-1] - u[0:-2, 1:-1]) / (2 * dy) *\n                       (v[1:-1, 2:] - v[1:-1, 0:-2]) / (2 * dx)) -\n                      ((v[2:, 1:-1] - v[0:-2, 1:-1]) / (2 * dy))**2))\n\n\ndef pressure_poisson(nit, p, dx, dy, b):\n    pn = np.empty_like(p)\n    pn = p.copy()\n\n    for q in range(nit):\n        pn = p.copy()\n        p[1:-1, 1:-1] = (((pn[1:-1, 2:] + pn[1:-1, 0:-2]) * dy**2 +\n                          (pn[2:, 1:-1] + pn[0:-2, 1:-1]) * dx**2) /\n                         (2 * (dx**2 + dy**2)) - dx**2 * dy**2 /\n                         (2 * (dx**2 + dy**2)) * b[1:-1, 1:-1])\n\n        p[:, -1] = p[:, -2]  # dp/dx = 0 at x = 2\n        p[0, :] = p[1, :]  # dp/dy = 0 at y = 0\n        p[:, 0] = p[:, 1]  # dp/dx = 0 at x = 0\n        p[-1, :] = 0  # p = 0 at y = 2\n\n\ndef cavity_flow(nx, ny, nt, nit, u, v, dt, dx, dy, p, rho, nu):\n    un = np.empty_like(u)\n    vn = np.empty_like(v)\n    b = np.zeros((ny, nx))\n\n    for n in range(nt):\n        un = u.copy()\n        vn = v.copy()\n\n        build_up_b(b, rho, dt, u, v, dx, dy)\n        pressure_poisson(nit, p, dx, dy, b)\n\n        u[1:-1,\n          1:-1] = (un[1:-1, 1:-1] - un[1:-1, 1:-1] * dt / dx *\n                   (un[1:-1, 1:-1] - un[1:-1, 0:-2]) -\n                   vn[1:-1, 1:-1] * dt / dy *\n                   (un[1:-1, 1:-1] - un[0:-2, 1:-1]) - dt / (2 * rho * dx) *\n                   (p[1:-1, 2:] - p[1:-1, 0:-2]) + nu *\n                   (dt / dx**2 *\n                    (un[1:-1, 2:] - 2 * un[1:-1, 1:-1] + un[1:-1, 0:-2]) +\n                    dt / dy**2 *\n                    (un[2:, 1:-1] - 2 * un[1:-1, 1:-1] + un[0:-2, 1:-1])))\n\n        v[1:-1,\n          1:-1] = (vn[1:-1, 1:-1] - un[1:-1, 1:-1] * dt / dx *\n                   (vn[1:-1, 1:-1] - vn[1:-1, 0:-2]) -\n                   vn[1:-1, 1:-1] * dt / dy *\n                   (vn[1:-1, 1:-1] - vn[0:-2, 1:-1]) - dt / (2 * rho * dy) *\n                   (p[2:, 1:-1] - p[0:-2, 1:-1]) + nu *\n                   (dt / dx**2 *\n                    (vn[1:-1, 2:] - 2 * vn[1:-1, 1:-1] + vn[1:-1, 0:-2]) +\n                    dt / dy**2 *\n                    (vn[2:, 1:-1] - 2 * vn[1:-1, 1:-1] + vn[0:-2, 1:-1])))\n\n        u[0, :] = 0\n        u[:, 0] = 0\n        u[:, -1] = 0\n        u[-1, :] = 1  # set velocity on cavity lid equal to 1\n        v[0, :] = 0\n        v[-1, :] = 0\n        v[:, 0] = 0\n        v[:, -1] = 0\n",
  "info": {
   "func_name": "cavity_flow",
   "init_args": [
    "ny",
    "nx"
   ],
   "init_out": [
    "u",
    "v",
    "p",
    "dx",
    "dy",
    "dt"
   ],
   "input_args": [
    "nx",
    "ny",
    "nt",
    "nit",
    "u",
    "v",
    "dt",
    "dx",
    "dy",
    "p",
    "rho",
    "nu"
   ],
   "S": {
    "ny": 61,
    "nx": 61,
    "nt": 25,
    "nit": 5,
    "rho": 1.0,
    "nu": 0.1
   },
   "M": {
    "ny": 121,
    "nx": 121,
    "nt": 50,
    "nit": 10,
    "rho": 1.0,
    "nu": 0.1
   }
  }
 },
 "nbody": {
  "init": "# Copyright 2021 ETH Zurich and the NPBench authors. All rights reserved.\n\nimport numpy as np\n\n\ndef initialize(N, tEnd, dt):\n    from numpy.random import default_rng\n    rng = default_rng(42)\n    mass = 20.0 * np.ones((N, 1)) / N  # total mass of particles is 20\n    pos = rng.random((N, 3))  # randomly selected positions and velocities\n    vel = rng.random((N, 3))\n    Nt = int(np.ceil(tEnd / dt))\n    return mass, pos, vel, Nt\n",
  "kernel": "# Adapted from https://github.com/pmocz/nbody-python/blob/master/nbody.py\n# TODO: Add GPL-3.0 License\n\nimport numpy as np\n\"\"\"\nCreate Your Own N-body Simulation (With Python)\nPhilip Mocz (2020) Princeton Univeristy, @PMocz\nSimulate orbits of stars interacting due to gravity\nCode calculates pairwise forces according to Newton's Law of Gravity\n\"\"\"\n\n\ndef getAcc(pos, mass, G, softening):\n    \"\"\"\n    Calculate the acceleration on each particle due to Newton's Law \n    pos  is an N x 3 matrix of positions\n    mass is an N x 1 vector of masses\n    G is Newton's Gravitational constant\n    softening is the softening length\n    a is N x 3 matrix of accelerations\n    \"\"\"\n    # positions r = [x,y,z] for all particles\n    x = pos[:, 0:1]\n    y = pos[:, 1:2]\n    z = pos[:, 2:3]\n\n    # matrix that stores all pairwise particle separations: r_j - r_i\n    dx = x.T - x\n    dy = y.T - y\n    dz = z.T - z\n\n    # matrix that stores 1/r^3 for all particle pairwise particle separations\n    inv_r3 = (dx**2 + dy**2 + dz**2 + softening**2)\n    inv_r3[inv_r3 > 0] = inv_r3[inv_r3 > 0]**(-1.5)\n\n    ax = G * (dx * inv_r3) @ mass\n    ay = G * (dy * inv_r3) @ mass\n    az = G * (dz * inv_r3) @ mass\n\n    # pack together the acceleration components\n    a = np.hstack((ax, ay, az))\n\n    return a\n\n\ndef getEnergy(pos, vel, mass, G):\n    \"\"\"\n    Get kinetic energy (KE) and potential energy (PE) of simulation\n    pos is N x 3 matrix of positions\n    vel is N x 3 matrix of velocities\n    mass is an N x 1 vector of masses\n    G is Newton's Gravitational constant\n    KE is the kinetic energy of the system\n    PE is the potential energy of the system\n    \"\"\"\n    # Kinetic Energy:\n    # KE = 0.5 * np.sum(np.sum( mass * vel**2 ))\n    KE = 0.5 * np.sum(mass * vel**2)\n\n    # Potential Energy:\n\n    # positions r = [x,y,z] for all particles\n    x = pos[:, 0:1]\n    y = pos[:, 1:2]\n    z = pos[:, 2:3]\n\n    # matrix that stores all pairwise particle separations: r_j - r_i\n    dx = x.T - x\n    dy = y.T - y\n    dz = z.T - z\n\n    # matrix that stores 1/r for all particle pairwise particle separations\n    inv_r = np.sqrt(dx**2 + dy**2 + dz**2)\n    inv_r[inv_r > 0] = 1.0 / inv_r[inv_r > 0]\n\n    # sum over upper triangle, to count each interaction only once\n    # PE = G * np.sum(np.sum(np.triu(-(mass*mass.T)*inv_r,1)))\n    PE = G * np.sum(np.triu(-(mass * mass.T) * inv_r, 1))\n\n    return KE, PE\n\n\ndef nbody(mass, pos, vel, N, Nt, dt, G, softening):\n\n    # Convert to Center-of-Mass frame\n    vel -= np.mean(mass * vel, axis=0) / np.mean(mass)\n\n    # calculate initial gravitational accelerations\n    acc = getAcc(pos, mass, G, softening)\n\n    # calculate initial energy of system\n    KE = np.ndarray(Nt + 1, dtype=np.float64)\n    PE = np.ndarray(Nt + 1, dtype=np.float64)\n    KE[0], PE[0] = getEnergy(pos, vel, mass, G)\n\n    t = 0.0\n\n    # Simulation Main Loop\n    for i in range(Nt):\n        # (1/2) kick\n        vel += acc * dt / 2.0\n\n        # drift\n        pos += vel * dt\n\n        # update accelerations\n        acc = getAcc(pos, mass, G, softening)\n\n        # (1/2) kick\n        vel += acc * dt / 2.0\n\n        # update time\n        t += dt\n\n        # get energy of system\n        KE[i + 1], PE[i + 1] = getEnergy(pos, vel, mass, G)\n\n    return KE, PE\n",
  "info": {
   "func_name": "nbody",
   "init_args": [
    "N",
    "tEnd",
    "dt"
   ],
   "init_out": [
    "mass",
    "pos",
    "vel",
    "Nt"
   ],
   "input_args": [
    "mass",
    "pos",
    "vel",
    "N",
    "Nt",
    "dt",
    "G",
    "softening"
   ],
   "S": {
    "N": 25,
    "tEnd": 2.0,
    "dt": 0.05,
    "softening": 0.1,
    "G": 1.0
   },
   "M": {
    "N": 50,
    "tEnd": 5.0,
    "dt": 0.02,
    "softening": 0.1,
    "G": 1.0
   }
  }
 }
}

# Outputs compared per program: "name:arg" is an argument modified in place, "name:ret" the
# return value, "name:retK" its K-th element.
OUTS = {
    "jacobi_2d": "A:A B:B", "heat_3d": "A:A B:B", "fdtd_2d": "ex:ex ey:ey hz:hz", "adi": "u:ret",
    "deriche": "imgOut:ret", "gramschmidt": "Q:ret0 R:ret1", "durbin": "y:ret", "ludcmp": "x:ret0 y:ret1 A:A",
    "lu": "A:A", "cholesky": "A:A", "trisolv": "x:x", "gemver": "A:A w:w x:x", "doitgen": "A:A", "k3mm": "E:ret",
    "symm": "C:C", "syr2k": "C:C", "trmm": "B:B", "floyd_warshall": "path:path", "nussinov": "table:ret",
    "seidel_2d": "A:A", "correlation": "corr:ret", "covariance": "cov:ret", "atax": "y:ret", "bicg": "s:ret0 q:ret1",
    "mvt": "x1:x1 x2:x2", "gesummv": "y:ret", "jacobi_1d": "A:A B:B",
    "channel_flow": "u:u v:v p:p steps:ret", "cavity_flow": "u:u v:v p:p", "nbody": "KE:ret0 PE:ret1",
}
RANDOM = {"gramschmidt", "nbody"}


def checksums(name, a):
    a = np.asarray(a, dtype=np.float64).ravel()
    n = a.size
    out = {f"{name}_sum": float(a.sum()), f"{name}_abs": float(np.abs(a).sum())}
    for k, i in enumerate(sorted({min((7 * n) // 100 + 3, n - 1), min((37 * n) // 100 + 1, n - 1), min((61 * n) // 100 + 1, n - 1)})):
        out[f"{name}_e{k}"] = float(a[i])
    return out


def load(name):
    d = SOURCES[name]
    ns_i, ns_k = {}, {}
    exec(compile(d["init"], f"{name}.py", "exec"), ns_i)
    exec(compile(d["kernel"], f"{name}_numpy.py", "exec"), ns_k)
    return ns_i["initialize"], ns_k[d["info"]["func_name"]]


def npy_path(name, arr, a):
    return f"/tmp/npb/{name}/{arr}_{'x'.join(map(str, a.shape))}.npy"


def run(name, size="S", reps=5):
    info = SOURCES[name]["info"]
    params = dict(info[size])
    initialize, kernel = load(name)
    vals = initialize(*[params[a] for a in info["init_args"]])
    if not isinstance(vals, tuple):
        vals = (vals,)
    env = dict(params)
    env.update(zip(info["init_out"], vals))
    if name in RANDOM:
        for k, v in zip(info["init_out"], vals):
            if isinstance(v, np.ndarray):
                os.makedirs(f"/tmp/npb/{name}", exist_ok=True)
                np.save(npy_path(name, k, v), v)
    times = []
    for r in range(reps):
        args = {a: (np.copy(env[a]) if isinstance(env[a], np.ndarray) else env[a]) for a in info["input_args"]}
        t0 = time.perf_counter()
        ret = kernel(*[args[a] for a in info["input_args"]])
        outs = {}
        for item in OUTS[name].split():
            o, src = item.split(":")
            if src == "ret":
                outs[o] = ret
            elif src.startswith("ret"):
                outs[o] = ret[int(src[3:])]
            else:
                outs[o] = args[src]
        for v in outs.values():
            float(np.sum(v))
        times.append(time.perf_counter() - t0)
    res = {"first_s": times[0], "best_s": min(times[1:]) if reps > 1 else times[0]}
    for o, v in outs.items():
        res.update(checksums(o, v))
    return params, res


def main():
    argv = sys.argv[1:]
    name = argv.pop(0)
    size, reps, tandem, env = "S", 5, None, {}
    while argv:
        a = argv.pop(0)
        if a in ("S", "M", "L"):
            size = a
        elif a.startswith("reps="):
            reps = int(a[5:])
        elif a == "--tandem":
            tandem = argv.pop(0)
        elif a == "--env":
            k, v = argv.pop(0).split("=", 1)
            env[k] = v
    params, res = run(name, size, reps)
    if tandem is None:
        print(json.dumps(res))
        return
    kv = [f"{k}={v}" for k, v in params.items()] + [f"reps={reps}"]
    p = subprocess.run([tandem, "example", "n5b_" + name, *kv, "--json"], capture_output=True, text=True,
                       env={**os.environ, **env})
    if p.returncode != 0:
        print(json.dumps({"name": name, "size": size, "numpy": res, "tandem_error": (p.stdout + p.stderr)[-3000:]}))
        return
    t = json.loads(p.stdout.strip().splitlines()[-1])["outputs"]
    worst = 0.0
    for k, v in res.items():
        if k.endswith("_s"):
            continue
        g = t.get(k, float("nan"))
        d = abs(g - v) / max(abs(v), 1e-300) if v != 0 else abs(g)
        worst = max(worst, d) if d == d else float("inf")
    print(json.dumps({"name": name, "size": size, "maxrel": worst,
                      "np_first": res["first_s"], "np_best": res["best_s"],
                      "td_first": t.get("first_s"), "td_best": t.get("best_s"),
                      "ratio": (t.get("best_s") or 0) / res["best_s"], "numpy": res, "tandem": t}))


if __name__ == "__main__":
    main()
