"""6A entity graph: parties, accounts, instruments, devices, IPs and their links.

Kernels (arrays in, arrays out) live in `population`, `products`, `devices` and `ips`;
`build` turns dbt inputs (Arrow tables + policies) into kernel arrays and back.
"""
